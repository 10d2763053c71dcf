"""Numbered upgrades of Outpost's own tables in an infobase, applied in order on open.

Migration N takes a file of store_format N-1 to N. A file newer than this program is refused
rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import apsw

from core.db import write_tx
from core.errors import StoreError

# store_format 1 is what core.ddl.BASE_TABLES creates.
MIGRATIONS: dict[int, Callable[[apsw.Connection], None]] = {}
CURRENT = 1


def check(found: int, path: Path) -> None:
    """Refuse a file this program cannot read: made by a newer Outpost, or not an infobase."""
    if found > CURRENT:
        raise StoreError(
            f"{path}: made by a newer Outpost (store format {found}, this one knows {CURRENT})"
        )
    if found < 1:
        raise StoreError(f"{path}: not an Outpost infobase")


def upgrade(conn: apsw.Connection, found: int, path: Path) -> None:
    check(found, path)
    for n in range(found + 1, CURRENT + 1):
        with write_tx(conn):
            MIGRATIONS[n](conn)
            conn.execute("UPDATE _meta SET value = ? WHERE key = 'store_format'", (n,))
