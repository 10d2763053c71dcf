"""The workstation's public face: one object that the CLI, the daemon and the tray all use.

It opens the home (settings, infobase, credentials), runs syncs under a lock so two never run
at once on one home, and answers status from what is on disk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import filelock
import orjson

from core.errors import NotFound, OutpostError
from core.store import Store
from daemon import config as config_mod
from daemon.config import Config
from daemon.home import Home
from daemon.state import SyncLog
from daemon.sync import SyncResult, run_sync
from daemon.sync.credentials import Credentials, binding
from daemon.sync.engine import Progress, cursor_of
from daemon.sync.errors import Busy, NotLoggedIn

if TYPE_CHECKING:
    from daemon.sync.client import CloudClient


class NotInstalled(OutpostError):
    code = "not_installed"


class Workstation:
    def __init__(self, home: Home) -> None:
        if not home.installed():
            raise NotInstalled(
                f"no workstation is installed in {home.root} "
                "(install a bundle with outpost-install)"
            )
        self.home = home
        self.config = config_mod.load(home.config)
        self._store: Store | None = None
        self._sync_client: tuple[tuple[str, ...], CloudClient] | None = None
        self.credentials = Credentials.of(home, self.config.tenant, self.config.workstation)
        self.log = SyncLog(home.state)

    @classmethod
    def open(cls, home: str | Path | None) -> Workstation:
        return cls(Home.at(home))

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.home.database)
        return self._store

    def close(self) -> None:
        if self._sync_client is not None:
            self._sync_client[1].close()
            self._sync_client = None
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- settings ----------------------------------------------------------------------------

    def set_config(self, key: str, value: str) -> Config:
        self.config = config_mod.set_value(self.config, key, value)
        config_mod.save(self.home.config, self.config)
        return self.config

    # -- cloud -------------------------------------------------------------------------------

    def client(self, *, token: str | None = None, retries: int = 3) -> CloudClient:
        from daemon.sync.client import CloudClient  # here: only what talks to the cloud needs it

        cfg = self.config
        if token is None:
            token = self.credentials.load()
        return CloudClient(
            cfg.cloud_url, cfg.tenant, token=token,
            proxy=cfg.proxy, allow_http=cfg.allow_http, retries=retries,
        )

    def _client_for_sync(self) -> CloudClient:
        """The client syncs share while the token and the cloud settings stay the same: its
        session keeps the connection open, so a sync with nothing to do is one round trip."""
        cfg, token = self.config, self.credentials.load()
        key = (token or "", cfg.cloud_url, cfg.tenant, str(cfg.proxy), str(cfg.allow_http))
        if self._sync_client is not None and self._sync_client[0] == key:
            return self._sync_client[1]
        if self._sync_client is not None:
            self._sync_client[1].close()
        client = self.client(token=token)
        self._sync_client = (key, client)
        return client

    def login(self, user: str, password: str) -> str:
        """Exchange the password for this workstation's token; where the token is kept."""
        client = self.client(token="")
        try:
            token = client.login(self.config.workstation, user, password, binding(self.home))
        finally:
            client.close()
        where = self.credentials.save(token)
        if self.config.user != user:
            self.set_config("user", user)
        return where

    def check(self) -> dict[str, Any]:
        """Can the cloud be reached, and do the stored credentials work."""
        client = self.client(retries=0)
        try:
            health = client.health()
            out: dict[str, Any] = {"reachable": True, "cloud_version": health.get("version")}
            if not self.credentials.where():
                raise NotLoggedIn("not signed in: run `outpost login`")
            who = client.whoami()
            out.update({"authorized": True, "user": who.get("login"),
                        "workstation": who.get("workstation", {}).get("name")})
            return out
        finally:
            client.close()

    def sync(self, *, progress: Progress | None = None, wait: float = 0,
             should_stop: Callable[[], bool] | None = None,
             client: CloudClient | None = None) -> SyncResult:
        """Run one sync now, unless one is already running on this home. `should_stop` lets the
        daemon abandon it between batches when it stops (a sync cut off is simply run again);
        `client` replaces the one syncs share (its caller closes it)."""
        lock = filelock.FileLock(str(self.home.state / "sync.lock"))
        self.home.state.mkdir(parents=True, exist_ok=True)
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise Busy("a sync is already running on this workstation") from None
        try:
            if not self.credentials.where():
                result = SyncResult(ok=False, state="unauthorized",
                                    error="not signed in: run `outpost login` first")
            else:
                result = run_sync(
                    self.store, client or self._client_for_sync(), self.home.state,
                    progress=progress, should_stop=should_stop or (lambda: False))
            self.log.record(result.to_json())
            return result
        finally:
            lock.release()

    # -- status ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        cfg, store = self.config, self.store
        last = self.log.last()
        state = "idle"
        if not self.credentials.where():
            state = "unauthorized"
        elif last and not last.get("ok"):
            state = str(last.get("state") or "error")
        return {
            "state": state,
            "workstation": cfg.workstation,
            "name": cfg.name,
            "tenant": cfg.tenant,
            "cloud_url": cfg.cloud_url,
            "orgs": cfg.orgs,
            "prefix": cfg.prefix,
            "mode": cfg.mode,
            "schedule": cfg.schedule,
            "user": cfg.user,
            "credentials": self.credentials.where(),
            "database": str(self.home.database),
            "home": str(self.home.root),
            "cursor": cursor_of(store),
            "pending_changes": pending_objects(store),
            "conflicts": int(store.scalar(
                "SELECT count(*) FROM _conflicts WHERE restored_at IS NULL") or 0),
            "rejected": int(store.scalar("SELECT count(*) FROM _rejected") or 0),
            "last_sync": _last_sync(last),
            "next_sync": None,
            "history": self.log.history(5),
        }

    # -- conflicts ---------------------------------------------------------------------------

    def conflicts(self) -> dict[str, Any]:
        rows: list[Any] = self.store.conn.execute(
            "SELECT n, at, entity, id, workstation, user, winner, fields, loser, kept, "
            "restored_at FROM _conflicts ORDER BY n DESC LIMIT 500"
        ).fetchall()
        conflicts = [
            {"n": r[0], "at": r[1], "entity": r[2], "id": r[3], "workstation": r[4],
             "user": r[5], "winner": r[6], "fields": orjson.loads(r[7]),
             "loser": orjson.loads(r[8]), "kept": orjson.loads(r[9]) if r[9] else None,
             "restored_at": r[10]}
            for r in rows
        ]
        rejected = [
            {"entity": r[0], "id": r[1], "reason": r[2], "at": r[3]}
            for r in self.store.conn.execute(
                "SELECT entity, id, reason, at FROM _rejected ORDER BY at DESC"
            )
        ]
        return {"conflicts": conflicts, "rejected": rejected}

    def restore_conflict(self, n: int) -> dict[str, Any]:
        """Make the losing version of conflict `n` the current one; it syncs as a new change."""
        store = self.store
        row: Any = store.conn.execute(
            "SELECT entity, id, loser FROM _conflicts WHERE n = ?", (n,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no conflict number {n} (see `outpost conflicts`)")
        entity, oid, loser = row[0], row[1], orjson.loads(row[2])
        with store.write():
            if loser is None or loser.get("op") == "delete":
                store.delete(entity, oid)
            else:
                store.put(entity, loser.get("fields") or {}, id=oid)
            store.conn.execute(
                "UPDATE _conflicts SET restored_at = ? WHERE n = ?", (time.time(), n)
            )
        return {"n": n, "entity": entity, "id": oid, "restored": loser.get("op", "put")}


def pending_objects(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM (SELECT DISTINCT id FROM _journal)") or 0)


def _last_sync(last: dict[str, Any] | None) -> dict[str, Any] | None:
    if not last:
        return None
    return {k: last.get(k) for k in ("at", "ok", "pushed", "pulled", "conflicts", "rejected",
                                     "error", "state", "seconds", "refreshed")}
