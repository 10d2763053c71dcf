"""The `outpost` command line: the workstation's face for people and scripts.

Every command works without the daemon, on the home directly (a sync takes the home's lock, so
two never run at once); when the daemon runs, `status`, `sync`, `config set` and `stop` go
through its control channel (daemon.service.control), and `login` tells it about the new token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
from typing import TYPE_CHECKING, Any

import click
import orjson

from core import __version__
from core.cli import echo_json, run
from core.errors import OutpostError, ValidationError
from daemon.home import Home

if TYPE_CHECKING:
    from daemon.service.control import ControlClient
    from daemon.workstation import Workstation


class Ctx:
    def __init__(self, home: str | None) -> None:
        self.home = Home.at(home)

    def workstation(self) -> Workstation:
        # here, not at the top: a command the running daemon answers needs no store, no HTTP
        from daemon.workstation import Workstation

        return Workstation(self.home)

    def daemon(self, wait: float = 5.0) -> ControlClient | None:
        """A client of the running daemon, or None when none runs (or it does not answer)."""
        from daemon.service.lock import daemon_running

        if not daemon_running(self.home):
            return None
        from daemon.service import ControlClient, DaemonNotRunning

        client = ControlClient(self.home)
        deadline = time.monotonic() + wait  # a daemon just started opens its channel soon
        while True:
            try:
                client.ping()
                return client
            except DaemonNotRunning:
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.1)


pass_ctx = click.make_pass_decorator(Ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="outpost")
@click.option("--home", envvar="OUTPOST_HOME", type=click.Path(file_okay=False),
              help="The workstation's home (default: env OUTPOST_HOME, then the user data dir).")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """Outpost workstation: your organizations' data, offline, synced with the cloud."""
    ctx.obj = Ctx(home)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def status(ctx: Ctx, as_json: bool) -> None:
    """Show the workstation's state, pending changes, the last syncs and the next one."""
    client = ctx.daemon()
    if client is not None:
        st = client.status()
    else:
        st = ctx.workstation().status()
        st["daemon"] = {"running": False}
    if as_json:
        echo_json(st)
        return
    last = st["last_sync"]
    daemon_info = st.get("daemon") or {}
    lines = [
        f"Workstation  {st['name']} ({st['workstation']}), prefix {st['prefix']}",
        f"State        {st['state']}",
        f"Daemon       {_daemon_line(daemon_info)}",
        f"Cloud        {st['cloud_url']} (tenant {st['tenant']})",
        f"Mode         {st['mode']}" + (f", schedule {st['schedule']}"
                                         if st["mode"] == "scheduled" else ""),
        f"Pending      {st['pending_changes']} local change(s) not yet sent",
        f"Conflicts    {st['conflicts']}, rejected {st['rejected']}",
        f"Signed in    {st['user'] or '-'} (token in {st['credentials'] or 'nowhere yet'})",
        f"Database     {st['database']}",
    ]
    if last:
        when = _when(last.get("at"))
        if last.get("ok"):
            lines.append(f"Last sync    {when}: ok, sent {last['pushed']}, "
                         f"received {last['pulled']}")
        else:
            lines.append(f"Last sync    {when}: failed: {last.get('error')}")
    else:
        lines.append("Last sync    never")
    if st.get("next_sync"):
        lines.append(f"Next sync    {_iso_local(st['next_sync'])}")
    history = st.get("history") or []
    if history:
        lines.append("History      (time, result, sent, received, conflicts)")
        for h in reversed(history):
            lines.append("  " + _history_line(h))
    click.echo("\n".join(lines))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def sync(ctx: Ctx, as_json: bool) -> None:
    """Sync now: send local changes, receive the cloud's (through the daemon if it runs)."""
    client = ctx.daemon()
    data: dict[str, Any]
    if client is not None:
        data = client.sync_now(True, "cli") or {}
    else:
        ws = ctx.workstation()
        try:
            data = {**ws.sync().to_json(), "via": "local"}
        finally:
            ws.close()  # here, not at exit: closing checkpoints the database
    ok = bool(data.get("ok"))
    if as_json:
        echo_json(data)
    elif ok:
        click.echo(f"Synced: sent {data.get('pushed', 0)}, received {data.get('pulled', 0)}"
                   + (f", {data['conflicts']} conflict(s)" if data.get("conflicts") else "")
                   + (f", {data['rejected']} rejected" if data.get("rejected") else "")
                   + (" (data refreshed from the cloud)" if data.get("refreshed") else ""))
    if not ok:
        if not as_json:
            click.echo(f"outpost: sync failed ({data.get('state')}): {data.get('error')}",
                       err=True)
        sys.exit(1)


@cli.command()
@pass_ctx
def check(ctx: Ctx) -> None:
    """Check that the cloud can be reached and that the stored sign-in works."""
    ws = ctx.workstation()
    out = ws.check()
    click.echo(f"Cloud reachable (version {out.get('cloud_version')}); "
               f"signed in as {out.get('user')} for {out.get('workstation')}")


@cli.command()
@click.option("--user", "user", help="Login of a cloud user allowed on this workstation.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
def login(ctx: Ctx, user: str | None, password_stdin: bool) -> None:
    """Sign in once; the password is exchanged for a token and never stored."""
    ws = ctx.workstation()
    login_name = user or ws.config.user or click.prompt("Login")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True)
    if not password:
        raise ValidationError("the password is empty")
    where = ws.login(login_name, password)
    client = ctx.daemon(wait=1.0)
    if client is not None:  # the daemon resumes syncing at once (it would notice anyway)
        with contextlib.suppress(OutpostError):
            client.credentials_changed()
    click.echo(f"Signed in as {login_name}; the token is kept in the {where}.")


@cli.command("daemon")
@click.option("--headless", is_flag=True,
              help="Run without a tray icon (the default where there is no display).")
@pass_ctx
def daemon_cmd(ctx: Ctx, headless: bool) -> None:
    """Run the workstation's daemon: automatic sync, connectivity, and the tray icon."""
    from daemon.service import run_daemon

    run_daemon(ctx.home, headless=headless)


@cli.command()
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds to wait for the daemon to finish (or abandon) a sync in progress.")
@pass_ctx
def stop(ctx: Ctx, timeout: float) -> None:
    """Stop the running daemon cleanly."""
    from daemon.service import DaemonNotRunning, daemon_running

    client = ctx.daemon()
    if client is None:
        if daemon_running(ctx.home):
            raise DaemonNotRunning("the Outpost daemon holds its lock but does not answer")
        click.echo("The Outpost daemon is not running.")
        return
    client.stop()
    deadline = time.monotonic() + timeout
    while daemon_running(ctx.home):
        if time.monotonic() > deadline:
            raise OutpostError(f"the Outpost daemon did not stop within {timeout:g} s")
        time.sleep(0.1)
    click.echo("The Outpost daemon stopped.")


@cli.group()
def config() -> None:
    """Read or change settings (mode, schedule, working_hours, proxy, allow_http, user)."""


@config.command("get")
@click.argument("key", required=False)
@pass_ctx
def config_get(ctx: Ctx, key: str | None) -> None:
    """Print one setting, or all of them."""
    cfg = ctx.workstation().config.to_json()
    if key is None:
        for k, v in cfg.items():
            click.echo(f"{k} = {_plain(v)}")
        return
    if key not in cfg:
        raise ValidationError(f"unknown setting '{key}' (settings: {', '.join(cfg)})")
    click.echo(_plain(cfg[key]))


@config.command("set")
@click.argument("key")
@click.argument("value")
@pass_ctx
def config_set(ctx: Ctx, key: str, value: str) -> None:
    """Change a setting (checked before it is saved; a running daemon applies it at once)."""
    client = ctx.daemon()
    if client is not None:
        out = client.set_config(key, value)
        click.echo(f"{key} = {_plain(out['value'])}")
        return
    cfg = ctx.workstation().set_config(key, value)
    click.echo(f"{key} = {_plain(cfg.to_json()[key])}")


@cli.group()
def data() -> None:
    """Read and write the local data (it syncs at the next sync)."""


@data.command("list")
@click.argument("entity")
@click.option("--org", help="Only this organization's objects.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--after", help="Continue after this id (paging).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def data_list(ctx: Ctx, entity: str, org: str | None, limit: int, after: str | None,
              as_json: bool) -> None:
    """List objects of ENTITY."""
    items = ctx.workstation().store.list_objects(entity, org=org, after=after, limit=limit)
    if as_json:
        echo_json({"items": items, "next": items[-1]["id"] if len(items) == limit else None})
        return
    for o in items:
        f = o["fields"]
        label = f.get("number") or f.get("code") or ""
        name = f.get("name") or f.get("date") or ""
        click.echo(f"{o['id']}  {label}  {name}".rstrip())


@data.command("get")
@click.argument("entity")
@click.argument("id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def data_get(ctx: Ctx, entity: str, id: str, as_json: bool) -> None:
    """Show one object."""
    obj = ctx.workstation().store.require(entity, id)
    echo_json(obj) if as_json else click.echo(orjson.dumps(obj, option=orjson.OPT_INDENT_2))


@data.command("put")
@click.argument("entity")
@click.option("--id", "id_", help="Update this object (created if it does not exist).")
@click.option("--json", "body", required=True, help='The object: {"fields": {...}}.')
@pass_ctx
def data_put(ctx: Ctx, entity: str, id_: str | None, body: str) -> None:
    """Create or update an object; prints its id."""
    try:
        doc: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"--json is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or "fields" not in doc:
        raise ValidationError('--json must be an object like {"fields": {...}}')
    obj = ctx.workstation().store.put(entity, doc["fields"], id=id_)
    click.echo(obj["id"])


@data.command("delete")
@click.argument("entity")
@click.argument("id")
@pass_ctx
def data_delete(ctx: Ctx, entity: str, id: str) -> None:
    """Delete an object (with its lines)."""
    if not ctx.workstation().store.delete(entity, id):
        from core.errors import NotFound

        raise NotFound(f"no {entity} with id {id}")
    click.echo(f"deleted {entity} {id}")


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def conflicts(click_ctx: click.Context, as_json: bool) -> None:
    """List conflicts (with the losing versions) and rejected changes."""
    if click_ctx.invoked_subcommand is not None:
        return
    obj: Ctx = click_ctx.obj
    data_ = obj.workstation().conflicts()
    if as_json:
        echo_json(data_)
        return
    if not data_["conflicts"] and not data_["rejected"]:
        click.echo("No conflicts and no rejected changes.")
    for c in data_["conflicts"]:
        state = " (restored)" if c["restored_at"] else ""
        lost = "deleted" if (c["loser"] or {}).get("op") == "delete" else "edit"
        click.echo(f"#{c['n']}  {_when(c['at'])}  {c['entity']} {c['id']}: {c['winner']} won on "
                   f"{', '.join(c['fields'])}; the losing {lost} is kept{state}")
    for r in data_["rejected"]:
        click.echo(f"rejected  {r['entity']} {r['id']}: {r['reason']}")
    if data_["conflicts"]:
        click.echo("Restore a losing version with: outpost conflicts restore N")


@conflicts.command("restore")
@click.argument("n", type=int)
@pass_ctx
def conflicts_restore(ctx: Ctx, n: int) -> None:
    """Make the losing version of conflict N current again (it syncs as a new change)."""
    out = ctx.workstation().restore_conflict(n)
    click.echo(f"restored conflict #{n}: {out['entity']} {out['id']}")


def _plain(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return str(v)


def _daemon_line(d: dict[str, Any]) -> str:
    if not d.get("running"):
        return "not running"
    text = f"running (pid {d.get('pid')})"
    if d.get("paused"):
        text += ", automatic sync paused"
    if d.get("message"):
        text += f": {d['message']}"
    return text


def _iso_local(value: str) -> str:
    try:
        return dt.datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value


def _history_line(h: dict[str, Any]) -> str:
    when = _when(h.get("at"))
    if h.get("ok"):
        return (f"{when}  ok      {h.get('pushed', 0):>6} {h.get('pulled', 0):>8} "
                f"{h.get('conflicts', 0):>9}")
    return f"{when}  failed ({h.get('state')}): {h.get('error')}"


def _when(at: Any) -> str:
    if not isinstance(at, (int, float)):
        return "-"
    return dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")


def main() -> None:
    run(cli, "outpost")
