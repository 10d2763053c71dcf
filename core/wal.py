"""Writing a database's WAL out to disk, and back into the database, behind its writer.

With `synchronous=NORMAL` a commit only appends to the WAL, and the WAL reaches the disk at the
next checkpoint: when the last connection closes, that is when `outpost sync` ends. After a
sync of 100,000 objects the WAL held over 100 MiB (random ids dirty most index pages at every
commit), and the close waited for all of it to be written, copied back and then freed. A
`WalFlusher` works in a thread of its own each time it is poked after a large commit: it syncs
the WAL, and once the WAL holds more than `CHECKPOINT_BYTES` it checkpoints instead (a passive
checkpoint syncs the WAL, copies it back and syncs the database, never waiting for the writer).
The writer's next transaction then starts the WAL again from its beginning, so the WAL stays
small, the disk works while the sync goes on, and the close finds little left to do
(docs/performance.md). It changes nothing of what SQLite promises; an extra sync or checkpoint
is never wrong.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import apsw

from core.db import connect
from core.errors import StoreError

# The WAL a flusher lets grow before it checkpoints: a few batches' worth, well under the
# writer's own autocheckpoint (core.db), which would make the writer itself wait.
CHECKPOINT_BYTES = 32 * 1024 * 1024
_sync_file = getattr(os, "fdatasync", os.fsync)  # fdatasync: Linux; macOS and Windows: fsync


class WalFlusher:
    """Syncs or checkpoints the WAL of the database at `path` in the background, once per
    `poke` at most (pokes made while it works fold into one more). A no-op where files cannot
    be synced read-only (Windows)."""

    def __init__(self, path: Path) -> None:
        self._db = path
        self._wal = Path(f"{path}-wal")
        self._poked = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        if os.name == "nt":
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outpost-wal", daemon=True)
            self._thread.start()
        self._poked.set()

    def close(self) -> None:
        """Stop, after the sync under way (if any) ends."""
        if self._thread is not None:
            self._stopping = True
            self._poked.set()
            self._thread.join()
            self._thread = None

    def __enter__(self) -> WalFlusher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        fd: int | None = None
        conn: apsw.Connection | None = None
        try:
            while True:
                self._poked.wait()
                self._poked.clear()
                if self._stopping:
                    return
                try:
                    if fd is None:  # the writer's connection stays open: the WAL stays this file
                        fd = os.open(self._wal, os.O_RDONLY)
                    if os.fstat(fd).st_size <= CHECKPOINT_BYTES:
                        _sync_file(fd)
                        continue
                    if conn is None:
                        conn = connect(self._db)
                    _checkpoint(conn)
                except OSError:
                    return  # no WAL (another journal mode) or no sync here: the checkpoint syncs
                except (apsw.Error, StoreError):
                    return  # a checkpoint is an extra: the close makes one
        finally:
            if fd is not None:
                os.close(fd)
            if conn is not None:
                conn.close()


def _checkpoint(conn: apsw.Connection) -> None:
    """A passive checkpoint: as much of the WAL as no reader still needs, without waiting."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
