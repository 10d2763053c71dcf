"""What the cloud remembers of each workstation's progress, to notice a restored backup."""

from __future__ import annotations

import time
from typing import Any

from core.errors import Conflict
from core.store import Store


class Restored(Conflict):
    """The workstation is behind a position it already confirmed: its home was restored."""

    code = "restored"


class BehindHorizon(Conflict):
    status = 410
    code = "behind_horizon"


def horizon(store: Store) -> int:
    return int(store.meta("horizon", 0) or 0)


def check_position(
    store: Store, workstation: str, cursor: int, *, reading: int | None = None
) -> int:
    """Refuse a position the cloud can no longer serve; return the cursor confirmed last.

    `cursor` is what the workstation holds; `reading` (default `cursor`) is where it reads from.
    """
    row: Any = store.conn.execute(
        "SELECT cursor_seen FROM _sync_nodes WHERE workstation = ?", (workstation,)
    ).fetchone()
    seen = int(row[0]) if row else 0
    if cursor < seen:
        raise Restored(
            f"this workstation is at change {cursor} but had already reached {seen}: "
            "it was restored from a backup and must refresh its data"
        )
    start = cursor if reading is None else reading
    if start < horizon(store):
        raise BehindHorizon(
            f"this workstation was offline longer than the cloud keeps deletions "
            f"(change {start} < {horizon(store)}): it must refresh its data"
        )
    return seen


# How stale `last_pull_at` may grow before a pull that changes nothing else records it.
PULL_NOTE_EVERY = 60.0


def recently_pulled(store: Store, workstation: str) -> bool:
    row: Any = store.conn.execute(
        "SELECT last_pull_at FROM _sync_nodes WHERE workstation = ?", (workstation,)
    ).fetchone()
    return row is not None and row[0] is not None and time.time() - row[0] < PULL_NOTE_EVERY


def confirm(store: Store, workstation: str, cursor: int, *, pulled: bool) -> None:
    """Remember that the workstation holds everything up to `cursor`."""
    col = "last_pull_at" if pulled else "last_push_at"
    store.conn.execute(
        f"INSERT INTO _sync_nodes(workstation, cursor_seen, {col}) VALUES (?, ?, ?) "
        f"ON CONFLICT(workstation) DO UPDATE SET "
        f"cursor_seen = max(cursor_seen, excluded.cursor_seen), {col} = excluded.{col}",
        (workstation, cursor, time.time()),
    )
