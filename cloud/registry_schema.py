"""The registry database's tables, built and upgraded by numbered migrations.

`PRAGMA user_version` holds the number of the last migration applied. Migration N takes the
file from N-1 to N in one transaction; a file newer than this program is refused.
"""

from __future__ import annotations

from pathlib import Path

import apsw

from core.db import write_tx
from core.errors import StoreError

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE tenants(
        name TEXT PRIMARY KEY NOT NULL,
        tier TEXT NOT NULL,
        extra_seats INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE users(
        tenant TEXT NOT NULL REFERENCES tenants(name),
        login TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user', 'sync')),
        password TEXT NOT NULL,          -- scrypt$n$r$p$salt$hash, never the password itself
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY(tenant, login)
    ) WITHOUT ROWID;
    CREATE TABLE workstations(
        seq INTEGER PRIMARY KEY,         -- creation order
        id TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL REFERENCES tenants(name),
        name TEXT NOT NULL,
        orgs TEXT,                       -- JSON list of organization ids; NULL = all
        users TEXT NOT NULL,             -- JSON list of logins; [] = every user/sync user
        prefix TEXT NOT NULL,
        priority TEXT NOT NULL,
        receive_only TEXT NOT NULL,      -- JSON list of entity names
        catalogs TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX workstations_by_tenant ON workstations(tenant, revoked_at);
    CREATE UNIQUE INDEX workstations_active_prefix ON workstations(tenant, prefix)
        WHERE revoked_at IS NULL;
    """,
}
CURRENT = max(MIGRATIONS)


def version(conn: apsw.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: apsw.Connection, path: Path, *, new: bool = False) -> None:
    """Bring the registry at `path` up to CURRENT; `new` allows an empty file (at init)."""
    found = version(conn)
    if found > CURRENT:
        raise StoreError(f"{path}: made by a newer Outpost cloud "
                         f"(registry version {found}, this one knows {CURRENT})")
    if found == 0 and not new:
        raise StoreError(f"{path}: not an Outpost cloud registry")
    for n in range(found + 1, CURRENT + 1):
        with write_tx(conn):
            conn.execute(MIGRATIONS[n])
            conn.execute(f"PRAGMA user_version = {n}")
