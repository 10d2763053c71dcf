"""The WAL flusher syncs the database's own WAL file, in its thread, and ends cleanly."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import apsw
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


def test_a_wal_grown_past_the_limit_is_checkpointed_and_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past CHECKPOINT_BYTES the flusher checkpoints instead of syncing, in its thread: the
    writer's next transaction starts the WAL again, so it stops growing, and nothing is lost."""
    done: list[str] = []  # "sync", or the thread that checkpointed, for each poke taken
    real_sync, real_checkpoint = core.wal._sync_file, core.wal._checkpoint

    def sync(fd: int) -> None:
        real_sync(fd)
        done.append("sync")

    def checkpoint(conn: apsw.Connection) -> None:
        real_checkpoint(conn)
        done.append(threading.current_thread().name)

    monkeypatch.setattr(core.wal, "_sync_file", sync)
    monkeypatch.setattr(core.wal, "_checkpoint", checkpoint)
    store = Store.create(tmp_path / "a.db", SCHEMA)
    wal_file = tmp_path / "a.db-wal"
    limit = wal_file.stat().st_size + 256 * 1024  # a few commits past what creating it wrote
    monkeypatch.setattr(core.wal, "CHECKPOINT_BYTES", limit)
    sizes: list[int] = []
    with WalFlusher(store.path) as wal:
        for i in range(40):
            with store.write():
                for j in range(20):
                    store.put_row("counterparties", {"code": f"C-{i}-{j}", "name": "x" * 200})
            wal.poke()
            for _ in range(5000):  # until the flusher has done what this poke asked
                if len(done) > i:
                    break
                threading.Event().wait(0.001)
            sizes.append(wal_file.stat().st_size)
    assert "outpost-wal" in done, "the flusher never checkpointed"
    assert "sync" in done  # below the limit it only synced
    assert max(sizes) < 2 * limit, sizes  # started again, not grown (40 commits: over 3 MiB)
    assert store.scalar("SELECT count(*) FROM counterparties") == 40 * 20
    store.close()


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
