"""The `outpost-bundle` command line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from bundle_builder.bundle import BundleResult, StageProgress
from core import __version__
from core.cli import echo_json, run

ENV_DATA = "OUTPOST_CLOUD_DATA"


def _default_data() -> Path:
    from cloud.settings import default_data_dir

    return default_data_dir()


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="outpost-bundle")
def cli() -> None:
    """Exports a tenant snapshot into a signed workstation bundle."""


@cli.command()
@click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path),
              envvar=ENV_DATA, help="The cloud's data folder [env OUTPOST_CLOUD_DATA].")
@click.option("--tenant", required=True, help="The tenant whose data the workstation carries.")
@click.option("--name", required=True, help="The workstation's name, e.g. 'Warehouse laptop'.")
@click.option("--orgs", default=None, metavar="ID,ID",
              help="Organization ids to carry (default: all organizations).")
@click.option("--users", default=None, metavar="LOGIN,LOGIN",
              help="Logins that may sync it (default: every user and sync account).")
@click.option("--prefix", default=None, metavar="XY",
              help="Two-character number prefix (default: the first free one).")
@click.option("--catalogs", type=click.Choice(["all", "used"]), default="all", show_default=True,
              help="Shared catalogs: all of them, or only the objects the documents use.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the bundle ZIP.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def create(data: Path | None, tenant: str, name: str, orgs: str | None, users: str | None,
           prefix: str | None, catalogs: str, out: Path, as_json: bool) -> None:
    """Create a workstation (taking a licence seat) and write its bundle ZIP."""
    from bundle_builder.create import create_bundle
    from cloud.registry import Registry

    registry = Registry.open(data or _default_data())
    try:
        org_list = _split(orgs)
        if org_list == []:
            raise click.BadParameter("give at least one organization id", param_hint="--orgs")
        with _progress(enabled=not as_json and sys.stdout.isatty()) as progress:
            result = create_bundle(
                registry, tenant, out, name, orgs=org_list, users=_split(users),
                prefix=prefix, catalogs=catalogs, progress=progress,
            )
    finally:
        registry.close()
    if as_json:
        echo_json(result.to_json())
    else:
        _report(result)


def _report(r: BundleResult) -> None:
    orgs = ", ".join(o["name"] or o["id"] for o in r.orgs) or "none"
    click.echo(f"Bundle written: {r.path}")
    click.echo(f"  workstation   {r.name} ({r.workstation})")
    click.echo(f"  tenant        {r.tenant}")
    click.echo(f"  prefix        {r.prefix}")
    click.echo(f"  organizations {orgs}")
    click.echo(f"  objects       {r.objects:,} (snapshot at change {r.cursor})")
    click.echo(f"  size          {_size(r.size)} (database {_size(r.database_size)})")
    click.echo(f"  key           {r.key_fingerprint}")
    click.echo("Give the ZIP to the workstation's user; InfoBase/ReadMe.html inside says "
               "how to install it.")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


@contextmanager
def _progress(*, enabled: bool) -> Iterator[StageProgress | None]:
    """A rich progress bar on a terminal; nothing at all otherwise."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    labels = {"export": "Exporting the snapshot", "zip": "Compressing the bundle"}
    tasks: dict[str, TaskID] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                  transient=True) as bar:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield update


def main() -> None:
    run(cli, "outpost-bundle")
