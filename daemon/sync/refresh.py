"""Refreshing a workstation from a fresh snapshot, keeping its unsent local changes.

Needed when the cloud can no longer serve the workstation's cursor: it was offline longer than
the cloud keeps deletions, or its home was restored from an old backup. Every object without a
local change takes the snapshot's state; objects with one keep it (and their old base version,
so the cloud can still merge them properly) and are pushed next. Run in one transaction: if it
is cut off, the old cursor stays and the next sync refreshes again.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.apply import mute_since
from core.ddl import q
from core.store import Store

SNAP = "snap"


def refresh_from(store: Store, snapshot: Path, cursor: int) -> int:
    """Bring `store` to the snapshot's state; the number of objects replaced."""
    store.conn.execute(f"ATTACH DATABASE ? AS {SNAP}", (str(snapshot),))
    try:
        with store.write():
            before = store.head()
            store.conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _keep(id TEXT PRIMARY KEY) WITHOUT ROWID"
            )
            store.conn.execute("DELETE FROM temp._keep")
            store.conn.execute("INSERT OR IGNORE INTO temp._keep SELECT id FROM main._journal")
            replaced = 0
            for e in store.schema.entities.values():
                t = q(e.table)
                cols = ", ".join(["id", *(q(f.name) for f in e.fields)])
                store.conn.execute(
                    f"DELETE FROM main.{t} WHERE id NOT IN (SELECT id FROM temp._keep)"
                )
                store.conn.execute(
                    f"INSERT INTO main.{t}({cols}) SELECT {cols} FROM {SNAP}.{t} "
                    f"WHERE id NOT IN (SELECT id FROM temp._keep)"
                )
                replaced += store.conn.changes()
                for s in e.sections:
                    st = q(s.table)
                    scols = ", ".join(["owner", "line_no", *(q(f.name) for f in s.fields)])
                    store.conn.execute(
                        f"DELETE FROM main.{st} WHERE owner NOT IN (SELECT id FROM temp._keep)"
                    )
                    store.conn.execute(
                        f"INSERT INTO main.{st}({scols}) SELECT {scols} FROM {SNAP}.{st} "
                        f"WHERE owner NOT IN (SELECT id FROM temp._keep)"
                    )
            store.conn.execute(
                "DELETE FROM main._versions WHERE id NOT IN (SELECT id FROM temp._keep)"
            )
            store.conn.execute(
                f"INSERT INTO main._versions SELECT * FROM {SNAP}._versions "
                f"WHERE id NOT IN (SELECT id FROM temp._keep)"
            )
            mute_since(store, before)
            store.conn.execute("DELETE FROM main._rejected WHERE id NOT IN "
                               "(SELECT id FROM temp._keep)")
            store.set_meta("cursor", cursor)
            renumber(store)
    finally:
        store.conn.execute(f"DETACH DATABASE {SNAP}")
    return replaced


def renumber(store: Store) -> None:
    """Move each numbering counter past the highest number this node's prefix already has.

    After a restore from backup the counters are behind numbers this node handed out (and
    that came back from the cloud); without this, new objects would repeat them.
    """
    prefix = store.prefix
    if not prefix:
        return
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
    for e in store.schema.entities.values():
        f = e.numbered_field
        if f is None:
            continue
        highest = 0
        for (value,) in store.conn.execute(
            f"SELECT {q(f.name)} FROM {q(e.table)} WHERE {q(f.name)} LIKE ?", (prefix + "-%",)
        ):
            m = pattern.match(str(value))
            if m:
                highest = max(highest, int(m.group(1)))
        store.conn.execute(
            "UPDATE _counters SET next = max(next, ?) WHERE entity = ?", (highest, e.name)
        )
