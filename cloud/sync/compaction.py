"""Keeping the change log small: only the newest change of each object matters.

Older rows of an object are dropped at once. Rows that carry an organization (a deletion, or a
document moving to another organization) and replaced versions in `_history` are kept for the
horizon, because a workstation that was away needs them to learn what it must drop and to
merge. A workstation whose cursor is older than the horizon is told so and refreshes itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.store import Store

DEFAULT_KEEP_DAYS = 30.0


@dataclass(frozen=True)
class Compacted:
    journal_rows: int
    history_rows: int
    tombstones: int
    horizon: int


def compact(
    store: Store, *, keep_days: float = DEFAULT_KEEP_DAYS, now: float | None = None
) -> Compacted:
    """Compact in one transaction; `keep_days=0` moves the horizon up to the newest change."""
    cutoff = (time.time() if now is None else now) - keep_days * 86400
    with store.write():
        head = store.head()
        first_kept = store.scalar("SELECT min(seq) FROM _journal WHERE at >= ?", (cutoff,))
        horizon = max(
            int(store.meta("horizon", 0) or 0), int(first_kept) - 1 if first_kept else head
        )
        store.conn.execute(
            "DELETE FROM _journal WHERE seq NOT IN (SELECT max(seq) FROM _journal GROUP BY id) "
            "AND (org IS NULL OR seq <= ?)", (horizon,),
        )
        dropped = store.conn.changes()
        store.conn.execute("DELETE FROM _journal WHERE seq <= ? AND op = 'D'", (horizon,))
        dropped += store.conn.changes()
        store.conn.execute("DELETE FROM _history WHERE version <= ?", (horizon,))
        history = store.conn.changes()
        store.conn.execute("DELETE FROM _versions WHERE deleted = 1 AND version <= ?", (horizon,))
        tombstones = store.conn.changes()
        if store.scalar("SELECT name FROM sqlite_master WHERE name = '_batches'"):
            store.conn.execute("DELETE FROM _batches WHERE at < ?", (cutoff,))
        store.set_meta("horizon", horizon)
    return Compacted(dropped, history, tombstones, horizon)
