"""The `outpost-cloud` command line: set up a data folder, manage tenants, serve the API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import apsw
import click

from cloud.models import ROLES, Workstation
from cloud.registry import Registry
from cloud.settings import DEFAULT_URL, ENV_DATA, default_data_dir
from cloud.tiers import TIERS
from core.cli import echo_json, run
from core.errors import StoreError, ValidationError
from core.signing import fingerprint
from core.version import __version__

PROG = "outpost-cloud"
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Group(click.Group):
    """A group whose database errors reach the user as one line, like every other error."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except apsw.BusyError:
            raise StoreError("the cloud's database is busy; try again") from None
        except apsw.Error as exc:
            raise StoreError(f"database error: {exc}") from None


data_option = click.option(
    "--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), envvar=ENV_DATA,
    show_envvar=True, help="The cloud's data folder [default: the user data folder]",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
tier_option = click.option("--tier", required=True, type=click.Choice(list(TIERS)),
                           help="Licence tier: " + ", ".join(f"{t} {n}" for t, n in TIERS.items())
                           + " workstation(s).")


def open_registry(data_dir: Path | None) -> Registry:
    return Registry.open(data_dir or default_data_dir())


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name=PROG)
def cli() -> None:
    """The Outpost cloud: tenants, users, licences, workstations and the HTTP API."""


@cli.command()
@data_option
@click.option("--url", default=DEFAULT_URL, show_default=True,
              help="The public base URL of this cloud, written into every bundle.")
def init(data_dir: Path | None, url: str) -> None:
    """Make a new data folder: registry, signing key and settings. Never overwrites one."""
    with Registry.init(data_dir or default_data_dir(), url=url) as reg:
        click.echo(f"initialised an Outpost cloud in {reg.data_dir}")
        click.echo(f"public URL: {reg.url}")
        click.echo(f"signing key fingerprint: {fingerprint(reg.public_key_b64())}")


@cli.command()
@data_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8750, show_default=True, type=click.IntRange(0, 65535))
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False),
              help="Serve HTTPS with this certificate (PEM).")
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False),
              help="The certificate's private key (PEM).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--shutdown-timeout", default=10, show_default=True, type=click.IntRange(0),
              help="Seconds to let open connections finish when stopping.")
def serve(data_dir: Path | None, host: str, port: int, ssl_certfile: str | None,
          ssl_keyfile: str | None, log_level: str, shutdown_timeout: int) -> None:
    """Serve the HTTP API (under /api/v1) until stopped with Ctrl-C or SIGTERM."""
    from cloud.server import serve as run_server  # the web stack loads only when serving

    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together")
    data = data_dir or default_data_dir()
    open_registry(data).close()  # fail early and plainly if there is no cloud here

    def announce(url: str) -> None:
        click.echo(f"{PROG}: serving {data} on {url}/api/v1 (Ctrl-C to stop)", err=True)

    run_server(data, host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
               log_level=log_level, shutdown_timeout=shutdown_timeout, announce=announce)


@cli.group(cls=Group)
def tenant() -> None:
    """Create tenants and change their licence."""


@tenant.command("create")
@click.argument("name")
@tier_option
@click.option("--extra-seats", default=0, show_default=True, type=click.IntRange(0),
              help="Workstation seats on top of the tier's.")
@data_option
@json_option
def tenant_create(name: str, tier: str, extra_seats: int, data_dir: Path | None,
                  as_json: bool) -> None:
    """Create tenant NAME (a slug: a-z, 0-9, '-') with an empty infobase."""
    with open_registry(data_dir) as reg:
        t = reg.create_tenant(name, tier, extra_seats)
    if as_json:
        echo_json(t.to_json())
    else:
        click.echo(f"created tenant '{t.name}': tier {t.tier}, {t.seats} workstation seat(s)")


@tenant.command("set-tier")
@click.argument("tenant_name", metavar="TENANT")
@tier_option
@click.option("--extra-seats", type=click.IntRange(0), help="Seats on top of the tier's "
              "[default: unchanged].")
@data_option
@json_option
def tenant_set_tier(tenant_name: str, tier: str, extra_seats: int | None, data_dir: Path | None,
                    as_json: bool) -> None:
    """Change TENANT's licence tier (refused if more workstations exist than it allows)."""
    with open_registry(data_dir) as reg:
        t = reg.set_tier(tenant_name, tier, extra_seats)
        in_use = reg.seats_in_use(t.name)
    if as_json:
        echo_json({**t.to_json(), "in_use": in_use})
    else:
        click.echo(f"tenant '{t.name}': tier {t.tier}, {t.seats} workstation seat(s), "
                   f"{in_use} in use")


@tenant.command("list")
@data_option
@json_option
def tenant_list(data_dir: Path | None, as_json: bool) -> None:
    """List the tenants and their licences."""
    with open_registry(data_dir) as reg:
        rows = [{**t.to_json(), "in_use": reg.seats_in_use(t.name)} for t in reg.list_tenants()]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']:<40} {r['tier']:<9} seats {r['in_use']}/{r['seats']}")


@cli.group(cls=Group)
def user() -> None:
    """Add the people (and sync accounts) of a tenant."""


@user.command("add")
@click.argument("tenant_name", metavar="TENANT")
@click.argument("login")
@click.option("--role", required=True, type=click.Choice(list(ROLES)),
              help="admin manages the tenant; user works with data and syncs; "
                   "sync may only sync.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@data_option
def user_add(tenant_name: str, login: str, role: str, password_stdin: bool,
             data_dir: Path | None) -> None:
    """Add user LOGIN to TENANT (asks for the password twice unless --password-stdin)."""
    with open_registry(data_dir) as reg:
        reg.tenant(tenant_name)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise ValidationError("password: nothing on standard input")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True,
                                    err=True)
        u = reg.add_user(tenant_name, login, role, password)
    click.echo(f"added {u.role} '{u.login}' to tenant '{u.tenant}'")


@user.command("passwd")
@click.argument("tenant_name", metavar="TENANT")
@click.argument("login")
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from the first line of standard input.")
@data_option
def user_passwd(tenant_name: str, login: str, password_stdin: bool,
                data_dir: Path | None) -> None:
    """Change LOGIN's password; workstations signed in as LOGIN must sign in again."""
    with open_registry(data_dir) as reg:
        reg.user(tenant_name, login)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise ValidationError("password: nothing on standard input")
        else:
            password = click.prompt("New password", hide_input=True, confirmation_prompt=True,
                                    err=True)
        reg.set_password(tenant_name, login, password)
    click.echo(f"changed the password of '{login}' in tenant '{tenant_name}'")


@user.command("list")
@click.argument("tenant_name", metavar="TENANT")
@data_option
@json_option
def user_list(tenant_name: str, data_dir: Path | None, as_json: bool) -> None:
    """List TENANT's users and their roles."""
    with open_registry(data_dir) as reg:
        users = reg.list_users(tenant_name)
    if as_json:
        echo_json([u.to_json() for u in users])
        return
    for u in users:
        click.echo(f"{u.login:<40} {u.role}")


@cli.group(cls=Group)
def org() -> None:
    """Add and list a tenant's organizations."""


@org.command("add")
@click.argument("tenant_name", metavar="TENANT")
@click.argument("name")
@click.option("--tax-id", help="The organization's tax number.")
@data_option
@json_option
def org_add(tenant_name: str, name: str, tax_id: str | None, data_dir: Path | None,
            as_json: bool) -> None:
    """Add organization NAME to TENANT and print its id."""
    fields = {"name": name} if tax_id is None else {"name": name, "tax_id": tax_id}
    with open_registry(data_dir) as reg, reg.tenant_store(tenant_name) as store:
        obj = store.put(store.schema.org_entity.name, fields)
    if as_json:
        echo_json(obj)
    else:
        click.echo(obj["id"])


@org.command("list")
@click.argument("tenant_name", metavar="TENANT")
@data_option
@json_option
def org_list(tenant_name: str, data_dir: Path | None, as_json: bool) -> None:
    """List TENANT's organizations (id and name)."""
    with open_registry(data_dir) as reg, reg.tenant_store(tenant_name) as store:
        orgs = store.list_objects(store.schema.org_entity.name, limit=1000)
    if as_json:
        echo_json(orgs)
        return
    for o in orgs:
        click.echo(f"{o['id']}  {o['fields'].get('name', '')}")


@cli.command()
@click.argument("tenant_name", metavar="TENANT")
@click.option("--objects", required=True, type=click.IntRange(0, 10_000_000),
              help="How many objects to add (counterparties, items, invoices, payments).")
@click.option("--seed", "seed_value", default=1, show_default=True, type=int,
              help="Random seed: the same seed on the same data gives the same objects.")
@data_option
@json_option
def seed(tenant_name: str, objects: int, seed_value: int, data_dir: Path | None,
         as_json: bool) -> None:
    """Fill TENANT with realistic demo data across its organizations (makes 3 if it has none)."""
    from cloud.seed import seed as run_seed

    with open_registry(data_dir) as reg, reg.tenant_store(tenant_name) as store:
        report = run_seed(store, tenant_name, objects, seed=seed_value)
    if as_json:
        echo_json(report.to_json())
        return
    made = (f"; made {report.organizations_created} organizations"
            if report.organizations_created else "")
    click.echo(f"seeded {report.objects} objects into tenant '{tenant_name}' in "
               f"{report.seconds:.2f} s: {report.counterparties} counterparties, "
               f"{report.items} items, {report.sales_invoices} sales invoices "
               f"({report.invoice_lines} lines), {report.payments} payments{made}")


@cli.command()
@click.argument("tenant_name", metavar="TENANT")
@click.option("--keep-days", default=30.0, show_default=True, type=click.FloatRange(0),
              help="How long deletions and replaced versions are kept for workstations that "
                   "are away; one away longer refreshes its data at its next sync.")
@data_option
@json_option
def compact(tenant_name: str, keep_days: float, data_dir: Path | None, as_json: bool) -> None:
    """Compact TENANT's change log: keep only what workstations can still need."""
    from cloud.sync import compact as run_compact

    with open_registry(data_dir) as reg, reg.tenant_store(tenant_name) as store:
        done = run_compact(store, keep_days=keep_days)
    if as_json:
        echo_json({"journal_rows": done.journal_rows, "history_rows": done.history_rows,
                   "tombstones": done.tombstones, "horizon": done.horizon})
        return
    click.echo(f"compacted '{tenant_name}': dropped {done.journal_rows} change-log rows, "
               f"{done.history_rows} old versions, {done.tombstones} tombstones; "
               f"horizon now at change {done.horizon}")


@cli.group(cls=Group)
def workstation() -> None:
    """List and revoke a tenant's workstations."""


@workstation.command("list")
@click.argument("tenant_name", metavar="TENANT")
@click.option("--active", is_flag=True, help="Leave out revoked workstations.")
@data_option
@json_option
def workstation_list(tenant_name: str, active: bool, data_dir: Path | None,
                     as_json: bool) -> None:
    """List TENANT's workstations and the licence seats they use."""
    with open_registry(data_dir) as reg:
        t = reg.tenant(tenant_name)
        items = reg.list_workstations(tenant_name, include_revoked=not active)
        in_use = reg.seats_in_use(tenant_name)
    if as_json:
        echo_json([ws.to_json() for ws in items])
        return
    for ws in items:
        click.echo(_ws_line(ws))
    click.echo(f"seats: {in_use} of {t.seats} in use (tier {t.tier})")


@workstation.command("revoke")
@click.argument("tenant_name", metavar="TENANT")
@click.argument("ref", metavar="WORKSTATION")
@data_option
def workstation_revoke(tenant_name: str, ref: str, data_dir: Path | None) -> None:
    """Revoke WORKSTATION (its id, or its name or prefix) and free its seat."""
    with open_registry(data_dir) as reg:
        ws = reg.revoke_workstation(tenant_name, reg.find_workstation(tenant_name, ref).id)
        t, in_use = reg.tenant(tenant_name), reg.seats_in_use(tenant_name)
    click.echo(f"revoked workstation '{ws.name}' ({ws.id}); seats: {in_use} of {t.seats} "
               "in use")


def _ws_line(ws: Workstation) -> str:
    orgs = "all orgs" if ws.orgs is None else f"{len(ws.orgs)} org(s)"
    state = "active" if ws.active else f"revoked {ws.revoked_at}"
    return f"{ws.id}  {ws.prefix}  {ws.name:<24}  {orgs:<10}  {state}"


def main() -> None:
    run(cli, PROG)
