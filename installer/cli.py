"""The `outpost-install` command line.

    outpost-install BUNDLE.zip [--home DIR] [--no-autostart] [--start] [--force]
    outpost-install --uninstall [--home DIR] [--keep-data]
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import click

from core import __version__
from core.cli import echo_json, run
from daemon.home import ENV_HOME, Home, default_home
from installer.autostart import for_platform
from installer.install import InstallResult, install, uninstall


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="outpost-install")
@click.argument("bundle", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--home", "home_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar=ENV_HOME, help="The workstation's home [env OUTPOST_HOME; default: the "
              "user's data folder].")
@click.option("--no-autostart", is_flag=True, help="Do not start the workstation at login.")
@click.option("--start", is_flag=True, help="Start the workstation's daemon now.")
@click.option("--force", is_flag=True,
              help="Replace a workstation with unsent changes, or one trusting another key.")
@click.option("--pin-key", metavar="KEY",
              help="Accept only bundles signed by this cloud key (base64 or fingerprint).")
@click.option("--uninstall", "do_uninstall", is_flag=True,
              help="Remove the autostart entry and the workstation's data.")
@click.option("--keep-data", is_flag=True, help="With --uninstall: keep the data.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def cli(bundle: Path | None, home_dir: Path | None, no_autostart: bool, start: bool, force: bool,
        pin_key: str | None, do_uninstall: bool, keep_data: bool, as_json: bool) -> None:
    """Verify a workstation bundle and install it (or remove an installed workstation)."""
    home = Home.at(home_dir)
    if do_uninstall:
        if bundle is not None:
            raise click.UsageError("--uninstall takes no bundle")
        res = uninstall(home, keep_data=keep_data, force=force,
                        autostart=for_platform())
        if as_json:
            echo_json(res.to_json())
            return
        if res.autostart:
            click.echo(f"Removed the autostart entry {res.autostart}")
        if res.data_removed:
            click.echo(f"Removed the workstation's data in {res.home}")
        elif keep_data:
            click.echo(f"Kept the workstation's data in {res.home}")
        else:
            click.echo(f"No workstation was installed in {res.home}")
        return
    if bundle is None:
        raise click.UsageError("give the bundle ZIP to install (or --uninstall)")
    if keep_data:
        raise click.UsageError("--keep-data goes with --uninstall")
    result = install(bundle, home, force=force, pin_key=pin_key, start=start,
                     autostart=None if no_autostart else for_platform())
    if as_json:
        echo_json(result.to_json())
    else:
        _report(result, custom_home=home.root != default_home().absolute())


def _report(r: InstallResult, *, custom_home: bool) -> None:
    m = r.bundle.manifest
    orgs = ", ".join(o.get("name") or o["id"] for o in m["orgs"]) or "none"
    if m.get("all_orgs"):
        orgs += " (all organizations)"
    click.echo(f"Bundle verified: signed by cloud key {r.bundle.fingerprint}")
    click.echo("  Compare it with the fingerprint in the bundle's InfoBase/ReadMe.html.")
    if r.action == "unchanged":
        click.echo(f"Workstation '{m['name']}' is already installed in {r.home} from this "
                   "bundle; nothing to do.")
        return
    verb = "Installed into" if r.action == "installed" else "Replaced the workstation in"
    click.echo(f"{verb} {r.home}")
    click.echo(f"  workstation   {m['name']} ({m['workstation']}) of tenant {m['tenant']}")
    click.echo(f"  organizations {orgs}")
    click.echo(f"  prefix        {m['prefix']}")
    click.echo(f"  cloud         {m['cloud_url']}")
    click.echo(f"  database      {Home(r.home).database}")
    if r.autostart:
        click.echo(f"  autostart     {r.autostart}")
    else:
        click.echo("  autostart     off")
    if r.started:
        click.echo(f"  daemon        started (pid {r.started})")
    outpost = subprocess.list2cmdline(list(r.program)) if _windows() else shlex.join(r.program)
    if custom_home:
        outpost += " --home " + (subprocess.list2cmdline([str(r.home)]) if _windows()
                                 else shlex.quote(str(r.home)))
    click.echo("Next:")
    click.echo(f"  {outpost} login     # your cloud login and password, asked once")
    click.echo(f"  {outpost} sync      # the first exchange with the cloud")
    click.echo(f"  {outpost} status    # what the workstation is doing")


def _windows() -> bool:
    import os

    return os.name == "nt"


def main() -> None:
    run(cli, "outpost-install")
