"""The WAL flusher syncs the database's own WAL file, in its thread, and ends cleanly."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import core.wal
from core.schema import default_schema
from core.store import Store
from core.wal import WalFlusher

SCHEMA = default_schema()


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(file, thread name) of every sync the flusher makes."""
    calls: list[tuple[str, str]] = []
    real = core.wal._sync_file

    def spy(fd: int) -> None:
        calls.append((os.readlink(f"/proc/self/fd/{fd}"), threading.current_thread().name))
        real(fd)

    monkeypatch.setattr(core.wal, "_sync_file", spy)
    return calls


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc to name the file")
def test_each_poke_after_a_commit_syncs_the_wal_in_the_flushers_thread(
    tmp_path: Path, synced: list[tuple[str, str]],
) -> None:
    store = Store.create(tmp_path / "a.db", SCHEMA)
    with WalFlusher(store.path) as wal:
        for i in range(3):
            with store.write():
                store.put_row("counterparties", {"code": f"C-{i}", "name": "x"})
            wal.poke()
            _settle(wal)
    store.close()
    assert synced, "the WAL was never synced"
    assert {f for f, _ in synced} == {str(tmp_path / "a.db-wal")}
    assert {t for _, t in synced} == {"outpost-wal"}
    assert wal._thread is None  # joined


def _settle(wal: WalFlusher) -> None:
    """Wait until the flusher has taken the last poke: it clears the flag, then syncs (the
    stop, coming later, is looked at before the sync, so that sync happens)."""
    for _ in range(1000):
        if not wal._poked.is_set():
            return
        threading.Event().wait(0.001)


def test_a_database_without_a_wal_ends_the_thread_quietly(tmp_path: Path) -> None:
    with WalFlusher(tmp_path / "none.db") as wal:
        wal.poke()
        thread = wal._thread
        assert thread is not None
        thread.join(5)
        assert not thread.is_alive()  # the open failed: it stopped, and raised nothing
    assert wal._thread is None


def test_closing_without_a_poke_starts_nothing(tmp_path: Path) -> None:
    wal = WalFlusher(tmp_path / "a.db")
    wal.close()
    assert wal._thread is None
