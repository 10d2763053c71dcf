"""Tables only a workstation's infobase has."""

from __future__ import annotations

from core.store import Store

WORKSTATION_TABLES = """
CREATE TABLE IF NOT EXISTS _outbox(
    batch_id TEXT PRIMARY KEY,        -- sent again, unchanged, until the cloud's answer is recorded
    upto INTEGER NOT NULL,            -- the journal's head when the batch was read
    body BLOB NOT NULL,               -- the changes as sent (JSON)
    window INTEGER,                   -- the last journal row the batch's window read
    rows INTEGER                      -- the journal rows in it of the objects sent
) WITHOUT ROWID;
"""
VERSION = 3


def ensure_workstation_tables(store: Store) -> None:
    found = int(store.meta("workstation_tables", 0) or 0)
    if found == VERSION:
        return
    with store.write():
        store.conn.execute(WORKSTATION_TABLES)
        if found == 1:  # an outbox made before `window`: its rows fall back to `upto`
            store.conn.execute("ALTER TABLE _outbox ADD COLUMN window INTEGER")
        if 1 <= found < 3:  # before `rows`: answers to its batches trim object by object
            store.conn.execute("ALTER TABLE _outbox ADD COLUMN rows INTEGER")
        store.set_meta("workstation_tables", VERSION)
