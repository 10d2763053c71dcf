"""Helpers of the sync tests: the cloud, tenants, installed workstations, and the checks that say
what every node must hold.

"What a workstation should hold" is computed from the cloud's store: the objects of its
organizations, the shared catalogs and its organizations themselves (catalogs = "all"),
compared object by object, fields and lines included.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw

from cloud.registry import Registry
from core.store import Store
from daemon import config as config_mod
from daemon.config import Config
from daemon.home import Home
from daemon.sync import SyncResult
from daemon.workstation import Workstation
from tests.support.cloud import CloudServer
from tests.support.workstation import install, login, outpost

KEYRING_ENV = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
USERS = {"boss": ("admin", "boss-password-1"), "alice": ("user", "alice-password-1"),
         "robot": ("sync", "robot-password-1")}
_names = itertools.count(1)

Key = tuple[str, str]  # (entity, id)


# -- the cloud -----------------------------------------------------------------------------------


@dataclass
class Cloud:
    """A data folder and the real server serving it (one per test module)."""

    data: Path
    reg: Registry
    server: CloudServer

    @property
    def url(self) -> str:
        return self.server.url

    def restart(self) -> None:
        """SIGKILL the server (if it runs) and start it again on the same port."""
        self.server.kill()
        self.server.start()


# -- a tenant and its workstations ---------------------------------------------------------------


@dataclass
class Node:
    """One installed workstation, driven in-process (Workstation) or through the real CLI."""

    name: str
    home: Home
    id: str
    orgs: list[str] | None  # None: every organization
    site: Site
    _ws: Workstation | None = None

    @property
    def ws(self) -> Workstation:
        if self._ws is None:
            self._ws = Workstation(self.home)
        return self._ws

    @property
    def store(self) -> Store:
        return self.ws.store

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def sync(self) -> SyncResult:
        return self.ws.sync()

    def synced(self) -> SyncResult:
        """A sync that must succeed."""
        r = self.sync()
        assert r.ok, f"{self.name}: sync failed ({r.state}): {r.error}"
        return r

    def cli(self, *args: str, check: bool = True, stdin: str | None = None) -> Any:
        return outpost(self.home, *args, check=check, stdin=stdin)

    def cursor(self) -> int:
        return int(self.store.meta("cursor", 0) or 0)

    def journal(self) -> int:
        return int(self.store.scalar("SELECT count(*) FROM _journal") or 0)

    def outbox(self) -> int:
        if not self.store.scalar("SELECT name FROM sqlite_master WHERE name = '_outbox'"):
            return 0
        return int(self.store.scalar("SELECT count(*) FROM _outbox") or 0)

    def receives(self, entity: str, org: str | None) -> bool:
        e = self.store.schema.entity(entity)
        return e.shared or self.orgs is None or org in self.orgs


@dataclass
class Site:
    """A fresh tenant on the module's cloud, with `orgs` organizations and three users."""

    cloud: Cloud
    tmp: Path
    tenant: str
    orgs: list[str]
    nodes: list[Node] = field(default_factory=list)
    _store: Store | None = None

    @property
    def reg(self) -> Registry:
        return self.cloud.reg

    @property
    def store(self) -> Store:
        """The tenant's infobase, opened by the test (the server has its own connections)."""
        if self._store is None:
            self._store = self.reg.tenant_store(self.tenant)
        return self._store

    def password(self, login: str) -> str:
        return USERS[login][1]

    def add(self, name: str, *, orgs: list[str] | None = None, priority: str = "cloud",
            receive_only: Iterable[str] = (), user: str = "alice", real: bool = True,
            signed_in: bool = True) -> Node:
        """A workstation: created in the registry (a seat), its bundle built and installed
        (`real`: by `outpost-install`; otherwise the home is laid out directly, for speed),
        and signed in over HTTP."""
        ws = self.reg.create_workstation(self.tenant, name, orgs=orgs, priority=priority,
                                         receive_only=list(receive_only))
        home_dir = self.tmp / f"home-{name}"
        if real:
            from bundle_builder import build_bundle_for

            bundle = self.tmp / f"{name}.zip"
            build_bundle_for(self.reg, ws, bundle)
            home = install(bundle, home_dir, self.cloud.url)
        else:
            home = quick_install(self.reg, ws, home_dir, self.cloud.url)
        node = Node(name, home, ws.id, None if ws.orgs is None else list(ws.orgs), self)
        if signed_in:
            login(home, user, self.password(user))
        self.nodes.append(node)
        return node

    def close(self) -> None:
        for n in self.nodes:
            n.close()
        if self._store is not None:
            self._store.close()
            self._store = None


def new_tenant(reg: Registry, orgs: int) -> tuple[str, list[str]]:
    name = f"t{next(_names)}-{os.getpid()}"
    reg.create_tenant(name, "extended", extra_seats=20)
    for login_, (role, pw) in USERS.items():
        reg.add_user(name, login_, role, pw)
    with reg.tenant_store(name) as store:
        ids = [store.put("organizations", {"name": f"Org {chr(65 + i)}", "tax_id": f"77{i}"})["id"]
               for i in range(orgs)]
    return name, ids


def quick_install(reg: Registry, ws: Any, home_dir: Path, url: str) -> Home:
    """The home `outpost-install` would make, without the ZIP: the exported infobase and the
    configuration from the workstation's record."""
    from bundle_builder import ExportSpec, export_infobase

    home = Home.at(home_dir)
    home.root.mkdir(parents=True)
    export_infobase(
        reg.tenant_path(ws.tenant), home.database,
        ExportSpec(workstation_id=ws.id, tenant=ws.tenant, prefix=ws.prefix, orgs=ws.orgs,
                   catalogs=ws.catalogs, priority=ws.priority, receive_only=ws.receive_only,
                   cloud_url=url),
    )
    config_mod.save(home.config, Config(
        workstation=ws.id, name=ws.name, tenant=ws.tenant, cloud_url=url,
        cloud_key=reg.public_key_b64(), orgs=list(ws.orgs or []), prefix=ws.prefix,
        mode="manual",
    ))
    return home


# -- objects for the tests ----------------------------------------------------------------------


def invoice(org: str, cp: str, item: str, qty: float, **extra: Any) -> dict[str, Any]:
    """A sales invoice's fields, one line of `qty` at price 2."""
    return {"date": "2025-03-01", "organization": org, "counterparty": cp, "total": qty * 2,
            "lines": [{"item": item, "quantity": qty, "price": 2, "amount": qty * 2}], **extra}


def catalogs(site: Site) -> tuple[str, str]:
    """A counterparty and an item made in the cloud: (counterparty id, item id)."""
    cp = site.store.put("counterparties", {"name": "Client"})["id"]
    item = site.store.put("items", {"name": "Bolt", "unit": "pcs", "price": 2})["id"]
    return cp, item


# -- what every node holds -----------------------------------------------------------------------


def objects(store: Store, *, only: Node | None = None) -> dict[Key, dict[str, Any]]:
    """Every object of `store` (or only those `only` should carry): (entity, id) -> fields."""
    out: dict[Key, dict[str, Any]] = {}
    with store.read():
        for name in store.schema.entities:
            after = None
            while True:
                page = store.list_objects(name, after=after, limit=1000)
                for o in page:
                    if only is None or only.receives(name, o["org"]):
                        out[(name, o["id"])] = o["fields"]
                if len(page) < 1000:
                    break
                after = page[-1]["id"]
    return out


def expected(site: Site, node: Node) -> dict[Key, dict[str, Any]]:
    """What `node` should hold: the cloud's objects of its organizations and shared catalogs."""
    return objects(site.store, only=node)


def diff(want: dict[Key, Any], have: dict[Key, Any]) -> list[str]:
    out = [f"missing {k}: {want[k]}" for k in sorted(set(want) - set(have))]
    out += [f"extra {k}: {have[k]}" for k in sorted(set(have) - set(want))]
    out += [f"differs {k}: want {want[k]} have {have[k]}"
            for k in sorted(set(want) & set(have)) if want[k] != have[k]]
    return out


def assert_holds(site: Site, node: Node, *, kept: dict[Key, Any] | None = None) -> None:
    """`node` holds exactly what it should; `kept` overrides objects it keeps as its own
    (refused changes: flagged and kept), value None for an object it must not have."""
    want = expected(site, node)
    for k, v in (kept or {}).items():
        if v is None:
            want.pop(k, None)
        else:
            want[k] = v
    problems = diff(want, objects(node.store))
    assert not problems, f"{node.name}:\n" + "\n".join(problems[:20])


def assert_settled(site: Site, *nodes: Node) -> None:
    """After the last syncs with no writer in between: journals and outboxes empty, every
    cursor at the cloud's head, every node holding what it should, numbers unique."""
    head = site.store.head()
    for n in nodes:
        assert n.journal() == 0, f"{n.name}: journal not empty"
        assert n.outbox() == 0, f"{n.name}: outbox not empty"
        assert n.cursor() == head, f"{n.name}: cursor {n.cursor()} != head {head}"
        assert_holds(site, n)
    assert_unique_numbers(site.store)


def assert_unique_numbers(store: Store) -> None:
    """No object doubled: ids are keys, and no number or code was handed out twice."""
    for e in store.schema.entities.values():
        f = e.numbered_field
        if f is None:
            continue
        dup = store.conn.execute(
            f'SELECT "{f.name}", count(*) FROM "{e.table}" WHERE "{f.name}" IS NOT NULL '
            f'GROUP BY "{f.name}" HAVING count(*) > 1 LIMIT 5').fetchall()
        assert not dup, f"{e.name}: numbers handed out twice: {dup}"


def sync_all(*nodes: Node, rounds: int = 2) -> None:
    """Sync every node `rounds` times (twice: whatever one node pushed reaches all)."""
    for _ in range(rounds):
        for n in nodes:
            n.synced()


def cloud_conflicts(site: Site, node: Node) -> list[dict[str, Any]]:
    import orjson

    return [
        {"entity": r[0], "id": r[1], "winner": r[2], "fields": orjson.loads(r[3]),
         "loser": orjson.loads(r[4])}
        for r in site.store.conn.execute(
            "SELECT entity, id, winner, fields, loser FROM _conflicts WHERE workstation = ? "
            "ORDER BY n", (node.id,))
    ]


def local_conflicts(node: Node) -> list[dict[str, Any]]:
    import orjson

    return [
        {"entity": r[0], "id": r[1], "winner": r[2], "fields": orjson.loads(r[3]),
         "loser": orjson.loads(r[4])}
        for r in node.store.conn.execute(
            "SELECT entity, id, winner, fields, loser FROM _conflicts ORDER BY n")
    ]


def copy_home(src: Home, dest: Path) -> Home:
    """A consistent copy of a home (a backup): files, then the database through SQLite's
    backup API, so a copy taken while something else has the file open is still whole."""
    shutil.copytree(src.root, dest, ignore=shutil.ignore_patterns("infobase.db*", "*.lock"))
    target = apsw.Connection(str(dest / "infobase.db"))
    source = apsw.Connection(str(src.database), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        with target.backup("main", source, "main") as b:
            b.step(-1)
    finally:
        source.close()
        target.close()
    return Home.at(dest)


def restore_home(backup: Home, home: Home) -> None:
    """Put a backup back in place of `home` (the whole folder)."""
    shutil.rmtree(home.root)
    shutil.copytree(backup.root, home.root)
