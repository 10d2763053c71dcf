"""The registry: tenants, their users, licences and workstations, in DATA/registry.db.

One Registry object may serve many threads (the API's thread pool): each thread gets its own
apsw connection, and every change is one `BEGIN IMMEDIATE` transaction, so concurrent writers,
in threads or in other processes, queue on SQLite's lock instead of racing. That is what makes
the licence check atomic: counting the seats in use and taking one happen in the same
transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import apsw
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloud import keys, registry_schema
from cloud import workstations as ws_checks
from cloud.models import ROLES, Tenant, User, Workstation
from cloud.names import (
    CLOUD_PREFIX,
    check_display_name,
    check_login,
    check_prefix,
    check_tenant_name,
)
from cloud.passwords import VerifiedCache, burn_time, check_password, hash_password, verify_password
from cloud.settings import DEFAULT_URL, SETTINGS, Settings, check_url, read_settings, write_settings
from cloud.tiers import check_extra_seats, check_tier, seat_limit
from core.db import connect, read_tx, write_tx
from core.errors import Conflict, NotFound, StoreError, Unauthorized, ValidationError
from core.schema import default_schema
from core.store import Store

REGISTRY = "registry.db"
TENANTS = "tenants"
KEYS = "keys"
BAD_LOGIN = "wrong login or password"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Registry:
    """Tenants, users, licences and workstations of one cloud data folder."""

    def __init__(self, data_dir: Path, settings: Settings) -> None:
        self.data_dir = data_dir
        self.settings = settings
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[apsw.Connection] = []
        self._verified = VerifiedCache()
        self._key: Ed25519PrivateKey | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, data_dir: Path) -> Registry:
        """The registry of an initialised data folder; StoreError if there is none."""
        data_dir = Path(data_dir).expanduser().absolute()
        path = data_dir / REGISTRY
        if not path.is_file():
            raise StoreError(f"{data_dir}: not an Outpost cloud data folder "
                             "(run 'outpost-cloud init' first)")
        reg = cls(data_dir, read_settings(data_dir / SETTINGS))
        registry_schema.migrate(reg.conn, path)
        return reg

    @classmethod
    def init(cls, data_dir: Path, *, url: str = DEFAULT_URL) -> Registry:
        """Make a new data folder: registry, signing key, settings. Never overwrites one."""
        data_dir = Path(data_dir).expanduser().absolute()
        settings = Settings(url=check_url(url))
        existing = [n for n in (REGISTRY, SETTINGS, f"{KEYS}/{keys.PRIVATE}")
                    if (data_dir / n).exists()]
        if existing:
            raise StoreError(f"{data_dir}: already holds an Outpost cloud ({existing[0]}); "
                             "refusing to overwrite it")
        created: list[Path] = []
        try:
            if not data_dir.exists():
                data_dir.mkdir(parents=True, mode=0o700)  # tenants' data: the owner's only
                created.append(data_dir)
            for sub in (TENANTS, KEYS):
                if not (data_dir / sub).exists():
                    (data_dir / sub).mkdir(mode=0o700 if sub == KEYS else 0o755)
                    created.append(data_dir / sub)
            created += [data_dir / KEYS / keys.PRIVATE, data_dir / KEYS / keys.PUBLIC]
            keys.create_keys(data_dir / KEYS)
            created.append(data_dir / SETTINGS)
            write_settings(data_dir / SETTINGS, settings)
            tmp = data_dir / f".{REGISTRY}.creating"
            _remove_db(tmp)
            conn = connect(tmp, create=True)
            try:
                registry_schema.migrate(conn, tmp, new=True)
            finally:
                conn.close()
            created.append(data_dir / REGISTRY)
            os.replace(tmp, data_dir / REGISTRY)
        except BaseException:
            for p in reversed(created):
                with contextlib.suppress(OSError):
                    p.rmdir() if p.is_dir() else p.unlink()
            raise
        return cls.open(data_dir)

    @property
    def conn(self) -> apsw.Connection:
        """This thread's connection to registry.db."""
        conn: apsw.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.data_dir / REGISTRY)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(apsw.Error):
                conn.close()
        self._local = threading.local()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings and keys -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The public base URL of this cloud (put in bundles)."""
        return self.settings.url

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / KEYS

    def signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = keys.load_signing_key(self.keys_dir)
        return self._key

    def public_key_b64(self) -> str:
        return keys.load_public_key_b64(self.keys_dir)

    # -- tenants -----------------------------------------------------------------------------

    def tenant_path(self, name: str) -> Path:
        return self.data_dir / TENANTS / f"{check_tenant_name(name)}.db"

    def create_tenant(self, name: str, tier: str, extra_seats: int = 0) -> Tenant:
        """Register a tenant and make its empty infobase (prefix "00")."""
        check_tenant_name(name)
        check_tier(tier)
        check_extra_seats(extra_seats)
        path = self.tenant_path(name)
        placed = False
        try:
            with write_tx(self.conn):
                if self._tenant_row(name) is not None:
                    raise Conflict(f"tenant '{name}' already exists")
                if path.exists():
                    raise StoreError(f"{path}: exists but belongs to no tenant; move it away")
                created_at = now_iso()
                self.conn.execute(
                    "INSERT INTO tenants(name, tier, extra_seats, created_at) VALUES (?, ?, ?, ?)",
                    (name, tier, extra_seats, created_at),
                )
                tmp = path.with_name(f".{path.name}.creating")
                _remove_db(tmp)
                Store.create(tmp, default_schema(), prefix=CLOUD_PREFIX).close()
                os.replace(tmp, path)
                placed = True
        except BaseException:
            if placed:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise
        return Tenant(name, tier, extra_seats, created_at)

    def tenant(self, name: str) -> Tenant:
        row = self._tenant_row(name)
        if row is None:
            raise NotFound(f"no tenant '{name}'")
        return _tenant(row)

    def list_tenants(self) -> list[Tenant]:
        rows = self.conn.execute(
            "SELECT name, tier, extra_seats, created_at FROM tenants ORDER BY name"
        ).fetchall()
        return [_tenant(r) for r in rows]

    def set_tier(self, name: str, tier: str, extra_seats: int | None = None) -> Tenant:
        """Change a tenant's licence; refused if it would leave more workstations than seats."""
        check_tier(tier)
        with write_tx(self.conn):
            current = self.tenant(name)
            extra = current.extra_seats if extra_seats is None else check_extra_seats(extra_seats)
            limit, in_use = seat_limit(tier, extra), self.seats_in_use(name)
            if in_use > limit:
                raise Conflict(f"tier '{tier}'{_extra(extra)} allows {limit} workstation(s) but "
                               f"{in_use} are in use; revoke some first")
            self.conn.execute("UPDATE tenants SET tier = ?, extra_seats = ? WHERE name = ?",
                              (tier, extra, name))
        return Tenant(name, tier, extra, current.created_at)

    def seats_in_use(self, tenant: str) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM workstations WHERE tenant = ? AND revoked_at IS NULL", (tenant,)
        ).fetchone()
        return int(row[0]) if row else 0

    def tenant_store(self, tenant: str) -> Store:
        """The tenant's infobase, opened for this caller (who closes it)."""
        self.tenant(tenant)
        return Store.open(self.tenant_path(tenant))

    def _tenant_row(self, name: str) -> Sequence[Any] | None:
        row: Sequence[Any] | None = self.conn.execute(
            "SELECT name, tier, extra_seats, created_at FROM tenants WHERE name = ?", (name,)
        ).fetchone()
        return row

    # -- users -------------------------------------------------------------------------------

    def add_user(self, tenant: str, login: str, role: str, password: str) -> User:
        """A new user of `tenant`; the password is kept only as a salted scrypt hash."""
        check_login(login)
        if role not in ROLES:
            raise ValidationError(f"role: unknown role {role!r} (one of {', '.join(ROLES)})",
                                  field="role")
        hashed = hash_password(check_password(password))  # slow: outside the transaction
        with write_tx(self.conn):
            self.tenant(tenant)
            if self._user_row(tenant, login) is not None:
                raise Conflict(f"user '{login}' already exists in tenant '{tenant}'")
            stamp = now_iso()
            self.conn.execute(
                "INSERT INTO users(tenant, login, role, password, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (tenant, login, role, hashed, stamp, stamp),
            )
        return User(tenant, login, role)

    def set_password(self, tenant: str, login: str, password: str) -> None:
        hashed = hash_password(check_password(password))
        with write_tx(self.conn):
            self.user(tenant, login)
            self.conn.execute(
                "UPDATE users SET password = ?, updated_at = ? WHERE tenant = ? AND login = ?",
                (hashed, now_iso(), tenant, login),
            )

    def user(self, tenant: str, login: str) -> User:
        row = self._user_row(tenant, login)
        if row is None:
            raise NotFound(f"no user '{login}' in tenant '{tenant}'")
        return User(tenant, login, str(row[0]))

    def list_users(self, tenant: str) -> list[User]:
        self.tenant(tenant)
        rows = self.conn.execute(
            "SELECT login, role FROM users WHERE tenant = ? ORDER BY login", (tenant,)
        ).fetchall()
        return [User(tenant, str(r[0]), str(r[1])) for r in rows]

    def authenticate(self, tenant: str, login: str, password: str) -> User:
        """The user whose credentials these are, or Unauthorized (the same for any mistake)."""
        row = self._user_row(tenant, login) if isinstance(login, str) else None
        if row is None or not isinstance(password, str):
            burn_time(password if isinstance(password, str) else "")
            raise Unauthorized(BAD_LOGIN)
        role, stored = str(row[0]), str(row[1])
        if self._verified.hit(tenant, login, password, stored):
            return User(tenant, login, role)
        if not verify_password(password, stored):
            raise Unauthorized(BAD_LOGIN)
        self._verified.add(tenant, login, password, stored)
        return User(tenant, login, role)

    def password_tag(self, tenant: str, login: str) -> str | None:
        """A short digest of the user's stored hash: it changes whenever the password does
        (None if there is no such user), so anything derived from a login can be retired."""
        row = self._user_row(tenant, login)
        if row is None:
            return None
        return hashlib.sha256(str(row[1]).encode("utf-8")).hexdigest()[:32]

    def _user_row(self, tenant: str, login: str) -> Sequence[Any] | None:
        row: Sequence[Any] | None = self.conn.execute(
            "SELECT role, password FROM users WHERE tenant = ? AND login = ?", (tenant, login)
        ).fetchone()
        return row

    # -- workstations ------------------------------------------------------------------------

    def create_workstation(
        self, tenant: str, name: str, orgs: Sequence[str] | None = None,
        users: Sequence[str] | None = None, prefix: str | None = None,
        priority: str = "cloud", receive_only: Sequence[str] = (), catalogs: str = "all",
    ) -> Workstation:
        """Register a workstation, taking a licence seat; Conflict (writing nothing) if none
        is free or the prefix is taken. Everything else is checked first (422)."""
        self.tenant(tenant)
        name = check_display_name(name)
        ws_checks.check_options(priority, catalogs)
        wanted = None if prefix is None else check_prefix(prefix)
        with self.tenant_store(tenant) as store, read_tx(store.conn):
            org_list = ws_checks.check_orgs(store, orgs)
            entities = ws_checks.check_receive_only(store, receive_only)
        user_list = ws_checks.check_users(self._role_of(tenant), tenant, users)
        with write_tx(self.conn):
            t = self.tenant(tenant)
            in_use = self.seats_in_use(tenant)
            if in_use >= t.seats:
                raise Conflict(f"no free licence seat: tier '{t.tier}'{_extra(t.extra_seats)} "
                               f"allows {t.seats} workstation(s), {in_use} in use")
            taken = {str(p): str(n) for p, n in self.conn.execute(
                "SELECT prefix, name FROM workstations WHERE tenant = ? AND revoked_at IS NULL",
                (tenant,),
            )}
            ws = Workstation(
                id=str(uuid.uuid4()), tenant=tenant, name=name, orgs=org_list, users=user_list,
                prefix=ws_checks.choose_prefix(wanted, taken, tenant), priority=priority,
                receive_only=entities, catalogs=catalogs, created_at=now_iso(),
            )
            self.conn.execute(
                f"INSERT INTO workstations({ws_checks.COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ws_checks.to_row(ws),
            )
        return ws

    def workstation(self, tenant: str, id: str) -> Workstation:
        row = self.conn.execute(
            f"SELECT {ws_checks.COLUMNS} FROM workstations WHERE tenant = ? AND id = ?",
            (tenant, id),
        ).fetchone()
        if row is None:
            raise NotFound(f"no workstation {id} in tenant '{tenant}'")
        return ws_checks.from_row(row)

    def find_workstation(self, tenant: str, ref: str) -> Workstation:
        """A workstation by id, or an active one by its exact name or prefix."""
        self.tenant(tenant)
        with contextlib.suppress(NotFound):
            return self.workstation(tenant, ref)
        rows = self.conn.execute(
            f"SELECT {ws_checks.COLUMNS} FROM workstations WHERE tenant = ? "
            "AND revoked_at IS NULL AND (name = ? OR prefix = ?) ORDER BY seq",
            (tenant, ref, ref.upper()),
        ).fetchall()
        if not rows:
            raise NotFound(f"no workstation '{ref}' in tenant '{tenant}'")
        if len(rows) > 1:
            raise ValidationError(f"workstation: '{ref}' names {len(rows)} workstations; "
                                  "give its id", field="workstation")
        return ws_checks.from_row(rows[0])

    def list_workstations(self, tenant: str, *, include_revoked: bool = True) -> list[Workstation]:
        self.tenant(tenant)
        where = "" if include_revoked else " AND revoked_at IS NULL"
        rows = self.conn.execute(
            f"SELECT {ws_checks.COLUMNS} FROM workstations WHERE tenant = ?{where} ORDER BY seq",
            (tenant,),
        ).fetchall()
        return [ws_checks.from_row(r) for r in rows]

    def revoke_workstation(self, tenant: str, id: str) -> Workstation:
        """Revoke a workstation and free its seat; revoking twice changes nothing."""
        with write_tx(self.conn):
            ws = self.workstation(tenant, id)
            if ws.revoked_at is not None:
                return ws
            stamp = now_iso()
            self.conn.execute("UPDATE workstations SET revoked_at = ? WHERE id = ?", (stamp, id))
        return dataclasses.replace(ws, revoked_at=stamp)

    def _role_of(self, tenant: str) -> Callable[[str], str | None]:
        def role_of(login: str) -> str | None:
            row = self._user_row(tenant, login)
            return None if row is None else str(row[0])
        return role_of


def _tenant(row: Sequence[Any]) -> Tenant:
    return Tenant(str(row[0]), str(row[1]), int(row[2]), str(row[3]))


def _extra(extra_seats: int) -> str:
    return f" with {extra_seats} extra seat(s)" if extra_seats else ""


def _remove_db(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
