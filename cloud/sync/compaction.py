"""Keeping the change log small: only the newest change of each object matters.

Older rows of an object are dropped at once. Rows that carry an organization (a deletion, or a
document moving to another organization) and replaced versions in `_history` are kept for the
horizon, because a workstation that was away needs them to learn what it must drop and to
merge. A workstation whose cursor is older than the horizon is told so and refreshes itself.
The answer to each workstation's newest batch is kept whatever its age: it may be the one in
that workstation's outbox.
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
        horizon = _horizon(store, head, now=cutoff + keep_days * 86400, cutoff=cutoff)
        store.conn.execute(
            "DELETE FROM _journal WHERE seq NOT IN (SELECT max(seq) FROM _journal GROUP BY id) "
            "AND (org IS NULL OR seq <= ?)", (horizon,),
        )
        dropped = store.conn.changes()
        # The newest row stays, whatever it is: SQLite numbers a new row one past the largest
        # seq left, and a number at or below a cursor already handed out would never be pulled.
        store.conn.execute(
            "DELETE FROM _journal WHERE seq <= ? AND op = 'D' AND seq < ?", (horizon, head)
        )
        dropped += store.conn.changes()
        store.conn.execute("DELETE FROM _history WHERE version <= ?", (horizon,))
        history = store.conn.changes()
        store.conn.execute("DELETE FROM _versions WHERE deleted = 1 AND version <= ?", (horizon,))
        tombstones = store.conn.changes()
        if store.scalar("SELECT name FROM sqlite_master WHERE name = '_batches'"):
            # A workstation's newest batch may still be in its outbox, its answer never heard:
            # sent again, it must get that answer, not be applied a second time.
            store.conn.execute(
                "DELETE FROM _batches WHERE at < ? AND at < (SELECT max(b.at) FROM _batches b "
                "WHERE b.workstation = _batches.workstation)", (cutoff,),
            )
        store.set_meta("horizon", horizon)
    return Compacted(dropped, history, tombstones, horizon)


def _horizon(store: Store, head: int, *, now: float, cutoff: float) -> int:
    """The newest position known to have been reached by `cutoff`.

    Journal rows carry no time on inserts (the capture trigger stays as cheap as it can be),
    but every change made through Outpost on the cloud stamps its object's version with the
    time: a version stamped before `cutoff` is a position reached before it. Objects changed
    again later only make this lower, which is the safe side.
    """
    reached = store.scalar("SELECT max(version) FROM _versions WHERE at <= ?", (cutoff,))
    return max(int(store.meta("horizon", 0) or 0), min(int(reached or 0), head))
