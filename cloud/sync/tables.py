"""Tables only the cloud's copy of a tenant infobase has: they never travel in a bundle."""

from __future__ import annotations

from core.store import Store

CLOUD_TABLES = """
CREATE TABLE IF NOT EXISTS _sync_tokens(
    token_hash TEXT PRIMARY KEY,      -- sha256 of the token; the token itself is never stored
    workstation TEXT NOT NULL,
    login TEXT NOT NULL,
    password_tag TEXT NOT NULL,       -- changes when the user's password does: old tokens die
    created_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _sync_nodes(
    workstation TEXT PRIMARY KEY,
    binding TEXT,                     -- the installation that logged in first
    cursor_seen INTEGER NOT NULL DEFAULT 0,
    last_pull_at REAL,
    last_push_at REAL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _batches(
    batch_id TEXT PRIMARY KEY,
    workstation TEXT NOT NULL,
    response BLOB NOT NULL,           -- the answer given, given again for a repeated batch
    at REAL NOT NULL
) WITHOUT ROWID;
"""


def ensure_cloud_tables(store: Store) -> None:
    if store.meta("cloud_tables") == 1:
        return
    with store.write():
        store.conn.execute(CLOUD_TABLES)
        store.set_meta("cloud_tables", 1)
