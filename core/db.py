"""Opening SQLite files with apsw the one way Outpost uses them, and transactions.

WAL lets readers (the tray, another program, a bundle export) work while a sync writes;
`BEGIN IMMEDIATE` takes the write lock up front so a writer never fails half-way on upgrade.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import apsw
import orjson

from core.errors import StoreError

BUSY_TIMEOUT_MS = 10_000


CACHE_MIB = 32  # a connection's page cache: bounded, and enough for a workstation's bulk writes
# An infobase's pages: sync writes batches of random ids, which dirty most leaf pages of the id
# indexes and `_versions` at every commit whatever the page size, so larger pages mean a quarter
# of the WAL frames (and of the B-tree depth). 10,000 new objects into 100,000: 14.7-16.4 us an
# object at 4 KiB, 10.4-11.8 at 16 KiB, the commit 5.7 against 2.0 (docs/performance.md).
INFOBASE_PAGE_SIZE = 16384
WAL_CHECKPOINT_BYTES = 256 * 1024 * 1024
WAL_KEPT_BYTES = 64 * 1024 * 1024


def connect(
    path: str | Path, *, create: bool = False, readonly: bool = False, cache_mib: int = CACHE_MIB,
    page_size: int | None = None,
) -> apsw.Connection:
    """A connection in WAL mode with a busy timeout; a clear error if the file is unusable."""
    p = Path(path)
    if not create and not p.exists():
        raise StoreError(f"{p}: no such database")
    flags = apsw.SQLITE_OPEN_READONLY if readonly else apsw.SQLITE_OPEN_READWRITE
    if create:
        flags |= apsw.SQLITE_OPEN_CREATE
    conn: apsw.Connection | None = None
    try:
        conn = apsw.Connection(str(p), flags=flags)
        conn.set_busy_timeout(BUSY_TIMEOUT_MS)
        if page_size is not None:  # takes effect only in a file that has no page yet
            conn.execute(f"PRAGMA page_size={int(page_size)}")
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF")
        conn.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
        # Checkpoint when the WAL holds 256 MiB rather than SQLite's 4 MiB: a sync batch dirties
        # most index pages of the tables it writes (random keys), so at 4 MiB nearly every
        # batch's commit also copied the WAL back and synced the file twice (a third of a
        # 100,000-object push), and at 64 MiB a push of 100,000 still checkpointed half-way
        # (6% of it). The limit is set in pages, so it follows the file's page size. A WAL that
        # grew is cut back to 64 MiB after a checkpoint: a daemon's connection, which never
        # closes, would otherwise keep the file at its largest.
        size = int(str(conn.execute("PRAGMA page_size").fetchall()[0][0]))
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_BYTES // size}")
        conn.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")
    except apsw.Error as exc:
        if conn is not None:
            conn.close()
        raise StoreError(f"{p}: cannot open database: {exc}") from None
    return conn


@contextmanager
def write_tx(conn: apsw.Connection) -> Iterator[apsw.Connection]:
    """A write transaction, or a savepoint inside one already open; all or nothing."""
    if not conn.get_autocommit():
        with conn:  # apsw: a savepoint
            yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if not conn.get_autocommit():  # SQLite may have rolled back already (e.g. disk full)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_tx(conn: apsw.Connection) -> Iterator[apsw.Connection]:
    """One consistent snapshot for several reads (WAL keeps it while writers go on)."""
    if not conn.get_autocommit():
        yield conn
        return
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # start the snapshot now
        yield conn
    finally:
        conn.execute("COMMIT")


# A batch of ids as a table in SQL: `json_each(?)` bound to `json_ids(ids)`, each id its `value`.
# Joined with CROSS JOIN (which keeps it the outer loop) it makes SQLite probe a big table by id
# for each of a batch's ids, where an IN list of thousands may be answered by a scan. SQLite
# reads the array in C: cheaper than filling a temporary table row by row from Python.
IDS = "json_each(?)"


def json_ids(ids: Iterable[str]) -> str:
    """`ids` as the JSON array that `IDS` reads (text: a BLOB would be taken for JSONB)."""
    return orjson.dumps(list(ids)).decode()
