"""The tray without a display: the model (state -> icon, tooltip, menu), the icons, and the app
on pystray's dummy backend forwarding clicks to a controller."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from daemon.home import Home
from daemon.tray import icons, model
from daemon.tray.app import TrayApp

NOW = 1_750_000_000.0


def status(**kw: Any) -> dict[str, Any]:
    st: dict[str, Any] = {
        "state": "idle", "name": "Field office", "pending_changes": 0, "conflicts": 0,
        "conflicts_unseen": 0, "rejected": 0, "version": 1,
        "last_sync": {"at": NOW - 120, "ok": True, "pushed": 1, "pulled": 2},
        "daemon": {"running": True, "paused": False},
    }
    daemon = kw.pop("daemon", {})
    st.update(kw)
    st["daemon"] = {**st["daemon"], **daemon}
    return st


@pytest.mark.parametrize(("st", "kind"), [
    (status(), model.SYNCED),
    (status(state="syncing"), model.SYNCING),
    (status(state="offline"), model.OFFLINE),
    (status(conflicts=3, conflicts_unseen=1), model.ATTENTION),
    (status(rejected=2), model.ATTENTION),
    (status(conflicts=3, conflicts_unseen=0), model.SYNCED),  # seen conflicts: no alarm
    (status(state="error"), model.ERROR),
    (status(state="unauthorized", rejected=2), model.UNAUTHORIZED),
    (status(state="revoked"), model.REVOKED),
    (status(daemon={"paused": True}), model.PAUSED),
])
def test_icon_kind(st, kind):
    assert model.icon_kind(st) == kind


def test_tooltip_has_the_last_sync_time_and_pending_changes():
    tip = model.tooltip(status(pending_changes=4), NOW)
    clock = time.strftime("%H:%M", time.localtime(NOW - 120))
    assert tip == f"Outpost Field office: last sync {clock}, 4 change(s) to send"
    off = model.tooltip(status(state="offline", daemon={"retry_in": 40}), NOW)
    assert "Offline" in off and "retrying in 40 s" in off and "nothing to send" in off
    assert len(model.tooltip(status(name="x" * 300), NOW)) <= model.TOOLTIP_MAX


def test_menu_entries_flags_and_actions():
    menu = model.menu(status(conflicts=2, rejected=1, daemon={"paused": True}), NOW)
    by_action = {e.action: e for e in menu}
    assert [e.action for e in menu] == [
        model.SYNC_NOW, None, model.OPEN_CONFLICTS, model.TOGGLE_PAUSE, model.OPEN_FOLDER,
        model.OPEN_LOG, model.QUIT]
    assert by_action[model.SYNC_NOW].default and by_action[model.SYNC_NOW].enabled
    assert by_action[None].text == "Synced 2 min ago (automatic sync paused)"
    assert not by_action[None].enabled
    assert by_action[model.OPEN_CONFLICTS].text == "Conflicts: 2, rejected: 1…"
    assert by_action[model.OPEN_CONFLICTS].enabled
    assert by_action[model.TOGGLE_PAUSE].checked is True
    quiet = {e.action: e for e in model.menu(status(state="syncing"), NOW)}
    assert not quiet[model.SYNC_NOW].enabled  # already syncing
    assert not quiet[model.OPEN_CONFLICTS].enabled
    assert quiet[model.TOGGLE_PAUSE].checked is False


def test_status_lines():
    assert model.status_line(status(state="syncing", daemon={"progress": {
        "phase": "pull", "count": 2000}}), NOW) == "Syncing… receiving 2000"
    assert model.status_line(status(state="unauthorized"), NOW).startswith("Password needed")
    assert "revoked" in model.status_line(status(state="revoked"), NOW)
    assert model.status_line(status(state="error", daemon={"message": "boom"}), NOW) == \
        "Sync failed: boom"
    assert model.status_line(status(last_sync=None), NOW) == "Not synced yet"


def test_notifications_only_when_a_failure_needing_the_user_begins():
    assert model.notifications(status(), status(state="revoked"))[0][0] == \
        "Outpost: workstation revoked"
    assert model.notifications(status(), status(state="unauthorized"))[0][0] == \
        "Outpost: password needed"
    assert model.notifications(status(state="revoked"), status(state="revoked")) == []
    assert model.notifications(status(), status(state="offline")) == []


def test_each_icon_is_drawn_in_its_own_colour():
    seen = set()
    for kind in model.KINDS:
        img = icons.icon(kind, 64)
        assert img.size == (64, 64) and img.mode == "RGBA"
        assert img.getpixel((0, 0))[3] == 0  # round: transparent corners
        rim = img.getpixel((32, 5))
        assert rim[:3] == icons.COLOURS[kind] and rim[3] == 255
        seen.add(img.tobytes())
    assert len(seen) == len(model.KINDS)
    assert icons.icon(model.SYNCED, 16).size == (16, 16)


class FakeController:
    def __init__(self, st: dict[str, Any]) -> None:
        self.st = st
        self.calls: list[Any] = []

    def status(self, since: int | None = None, wait: float = 0.0) -> dict[str, Any]:
        return self.st

    def sync_now(self, wait: bool = True, trigger: str = "now") -> dict[str, Any] | None:
        self.calls.append(("sync", wait, trigger))
        return {"queued": True}

    def stop(self) -> None:
        self.calls.append("stop")

    def set_config(self, key: str, value: str) -> dict[str, Any]:
        raise AssertionError("the tray does not set config")

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")

    def credentials_changed(self) -> None:
        self.calls.append("credentials")

    def conflicts(self) -> dict[str, Any]:
        return {"conflicts": [{"n": 7, "at": NOW, "entity": "items", "id": "i-1",
                               "workstation": "w", "user": "alice", "winner": "cloud",
                               "fields": ["price"], "loser": {"op": "put",
                                                              "fields": {"price": 3}},
                               "kept": None, "restored_at": None}],
                "rejected": [{"entity": "payments", "id": "p-1", "reason": "not your org",
                              "at": NOW}]}


class Recorder:
    def __init__(self) -> None:
        self.opened: list[Path] = []
        self.notes: list[tuple[str, str]] = []

    def open(self, path: Path) -> bool:
        self.opened.append(Path(path))
        return True

    def notify(self, title: str, message: str) -> None:
        self.notes.append((title, message))


def test_the_app_on_the_dummy_backend_forwards_every_action(tmp_path):
    assert os.environ.get("PYSTRAY_BACKEND") == "dummy"
    home = Home.at(tmp_path / "home")
    ctl = FakeController(status(conflicts=1))
    rec = Recorder()
    app = TrayApp(ctl, home, open_with=rec, notify_with=rec)
    app.prepare()
    assert app.icon.title.startswith("Outpost Field office")
    items = list(app.icon.menu)
    texts = [str(i) for i in items]
    assert "Sync now" in texts and "Quit Outpost" in texts
    pause = next(i for i in items if str(i) == "Pause automatic sync")
    assert pause.checked is False
    next(i for i in items if str(i) == "Sync now")(app.icon)  # a click
    app.icon.menu(app.icon)  # a click on the icon runs the default entry: Sync now
    assert ctl.calls == [("sync", False, "tray"), ("sync", False, "tray")]
    app.perform(model.TOGGLE_PAUSE)
    app.apply(status(daemon={"paused": True}))
    app.perform(model.TOGGLE_PAUSE)
    assert ctl.calls[-2:] == ["pause", "resume"]
    app.perform(model.OPEN_FOLDER)
    app.perform(model.OPEN_LOG)
    app.perform(model.OPEN_CONFLICTS)
    assert rec.opened[:2] == [home.root, home.logs / "daemon.log"]
    report = rec.opened[2].read_text()
    assert "#7" in report and "cloud won on price" in report and "not your org" in report
    app.perform(model.QUIT)
    assert ctl.calls[-1] == "stop"


def test_the_app_notifies_when_the_user_must_act(tmp_path):
    rec = Recorder()
    app = TrayApp(FakeController(status()), Home.at(tmp_path), open_with=rec, notify_with=rec)
    app.prepare()
    app.apply(status(state="offline"))
    assert rec.notes == []
    view = app.apply(status(state="unauthorized"))
    assert view.icon == model.UNAUTHORIZED
    assert app.icon.icon.tobytes() == icons.icon(model.UNAUTHORIZED).tobytes()
    assert rec.notes == [model.NEEDS_USER[model.UNAUTHORIZED]]
    app.apply(status(state="revoked"))
    assert rec.notes[-1] == model.NEEDS_USER[model.REVOKED]


def test_a_failing_action_becomes_a_notification(tmp_path):
    class Broken(FakeController):
        def sync_now(self, wait: bool = True, trigger: str = "now") -> dict[str, Any] | None:
            raise OSError("daemon gone")

    rec = Recorder()
    app = TrayApp(Broken(status()), Home.at(tmp_path), open_with=rec, notify_with=rec)
    app.prepare()
    app.perform(model.SYNC_NOW)
    assert rec.notes and "daemon gone" in rec.notes[0][1]
