"""Tables only a workstation's infobase has."""

from __future__ import annotations

from core.store import Store

WORKSTATION_TABLES = """
CREATE TABLE IF NOT EXISTS _outbox(
    batch_id TEXT PRIMARY KEY,        -- sent again, unchanged, until the cloud's answer is recorded
    upto INTEGER NOT NULL,            -- the journal position the batch covers
    body BLOB NOT NULL                -- the changes as sent (JSON)
) WITHOUT ROWID;
"""


def ensure_workstation_tables(store: Store) -> None:
    if store.meta("workstation_tables") == 1:
        return
    with store.write():
        store.conn.execute(WORKSTATION_TABLES)
        store.set_meta("workstation_tables", 1)
