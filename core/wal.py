"""Writing a database's WAL out to disk behind its writer.

With `synchronous=NORMAL` a commit only appends to the WAL, and the WAL reaches the disk at the
next checkpoint: when the last connection closes, that is when `outpost sync` ends. After a
sync of 100,000 objects the WAL holds over 100 MiB (random ids dirty most index pages at every
commit), and the checkpoint waited for all of it to be written before copying a page back: half
of the program's close. A `WalFlusher` syncs the WAL in a thread of its own each time it is
poked after a large commit, so the disk works while the sync goes on, the checkpoint at the end
finds the WAL already written, and committed batches are durable sooner. It changes nothing of
what SQLite does; an extra sync of a file is never wrong.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_sync_file = getattr(os, "fdatasync", os.fsync)  # fdatasync: Linux; macOS and Windows: fsync


class WalFlusher:
    """Syncs the WAL of the database at `path` in the background, once per `poke` at most
    (pokes made while a sync runs fold into one more). A no-op where files cannot be synced
    read-only (Windows)."""

    def __init__(self, path: Path) -> None:
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
        try:
            while True:
                self._poked.wait()
                self._poked.clear()
                if self._stopping:
                    return
                try:
                    if fd is None:  # the writer's connection stays open: the WAL stays this file
                        fd = os.open(self._wal, os.O_RDONLY)
                    _sync_file(fd)
                except OSError:
                    return  # no WAL (another journal mode) or no sync here: the checkpoint syncs
        finally:
            if fd is not None:
                os.close(fd)
