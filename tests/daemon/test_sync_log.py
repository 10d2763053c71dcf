"""The sync history: appended per sync, bounded, and whole after a record cut short."""

from __future__ import annotations

from pathlib import Path

from daemon import state
from daemon.state import SyncLog


def test_each_sync_is_appended_and_the_last_is_the_newest(tmp_path: Path) -> None:
    log = SyncLog(tmp_path)
    for n in range(3):
        log.record({"ok": True, "pushed": n})
    assert [h["pushed"] for h in log.history()] == [0, 1, 2]
    assert log.last() == {"ok": True, "pushed": 2}


def test_a_record_cut_short_by_a_crash_costs_only_itself(tmp_path: Path) -> None:
    log = SyncLog(tmp_path)
    log.record({"ok": True, "pushed": 1})
    with log.history_file.open("a") as f:
        f.write('{"ok": true, "pus')  # the process died in the middle of this line
    log.record({"ok": True, "pushed": 3})
    assert [h["pushed"] for h in log.history()] == [1, 3]


def test_the_history_is_cut_to_what_it_keeps_once_it_grows_past_its_size(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(state, "HISTORY_MAX_BYTES", 2000)
    monkeypatch.setattr(state, "HISTORY_KEEP", 5)
    log = SyncLog(tmp_path)
    for n in range(200):
        log.record({"ok": True, "pushed": n, "error": None})
        assert log.history_file.stat().st_size <= 2000 + 100
    kept = [h["pushed"] for h in log.history(1000)]
    assert kept == list(range(kept[0], 200)) and 5 <= len(kept) < 200


def test_the_last_sync_is_the_newest_whole_record_however_long(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(state, "TAIL_BYTES", 64)
    log = SyncLog(tmp_path)
    assert log.last() is None
    log.record({"ok": True, "pushed": 1})
    log.record({"ok": False, "error": "x" * 500})  # longer than the tail read
    assert log.last() == {"ok": False, "error": "x" * 500}
    log.record({"ok": True, "pushed": 3})
    with log.history_file.open("a") as f:
        f.write('{"ok": true, "pus')  # cut short by a crash: not the last sync
    assert log.last() == {"ok": True, "pushed": 3}
