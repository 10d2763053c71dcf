"""The daemon as a process: one per home, stopped cleanly, and the CLI and the tray driving it
through its control channel."""

from __future__ import annotations

import json
import os
import subprocess
import time

from daemon.service import daemon_running
from daemon.service.control import control_file
from daemon.tray import model
from daemon.tray.app import TrayApp
from tests.daemon.daemon_helpers import BIN, FAST, Daemon, stopped, wait_for
from tests.support.workstation import outpost


def test_one_daemon_per_home_and_a_clean_stop(site, daemons):
    outpost(site.home, "config", "set", "mode", "manual")
    d = Daemon(site.home).start()
    daemons.append(d)
    assert daemon_running(site.home)

    second = subprocess.run(
        [str(BIN / "outpost"), "--home", str(site.home.root), "daemon", "--headless"],
        capture_output=True, text=True, timeout=30, env={**os.environ, **FAST})
    assert second.returncode == 1
    assert second.stderr.strip() == (f"outpost: the Outpost daemon is already running for "
                                     f"{site.home.root} (pid {d.pid})")
    assert d.running()  # the first one is unharmed

    st = json.loads(outpost(site.home, "status", "--json").stdout)
    assert st["daemon"]["running"] is True and st["daemon"]["pid"] == d.pid
    assert st["state"] == "idle" and st["mode"] == "manual" and st["next_sync"] is None
    text = outpost(site.home, "status").stdout
    assert f"Daemon       running (pid {d.pid})" in text

    out = outpost(site.home, "stop")
    assert out.stdout.strip() == "The Outpost daemon stopped."
    assert d.wait_exit(10) == 0
    assert stopped(site.home) and not control_file(site.home).exists()
    assert "stopped" in (site.home.logs / "daemon.log").read_text()
    assert outpost(site.home, "stop").stdout.strip() == "The Outpost daemon is not running."
    st = json.loads(outpost(site.home, "status", "--json").stdout)
    assert st["daemon"] == {"running": False} and st["next_sync"] is None


def test_sigterm_stops_it_cleanly_too(site, daemons):
    outpost(site.home, "config", "set", "mode", "manual")
    d = Daemon(site.home).start()
    daemons.append(d)
    d.terminate()
    assert d.wait_exit(15) == 0
    assert not control_file(site.home).exists()


def test_cli_and_tray_go_through_the_running_daemon(site, daemons):
    outpost(site.home, "config", "set", "mode", "manual")
    d = Daemon(site.home).start()
    daemons.append(d)
    before = len(site.history())
    site.cloud_store().put("counterparties", {"name": "Made in the cloud"})

    res = json.loads(outpost(site.home, "sync", "--json").stdout)
    assert res["ok"] and res["via"] == "daemon" and res["trigger"] == "cli"
    assert res["pulled"] == 1
    assert d.status()["daemon"]["last_trigger"] == "cli"
    assert len(site.history()) == before + 1
    text = outpost(site.home, "sync").stdout
    assert text.startswith("Synced: sent 0, received 0")

    # the tray's "Sync now", on pystray's dummy backend, through the same channel
    app = TrayApp(d.client, site.home)
    app.prepare()
    version = d.status()["version"]
    app.perform(model.SYNC_NOW)
    st = d.wait_status(lambda s: s["daemon"]["last_trigger"] == "tray" and s["state"] == "idle"
                       and s["version"] > version, 10, "the tray's sync")
    assert st["last_sync"]["ok"]
    assert len(site.history()) == before + 3

    # a setting changed through the daemon takes effect at once
    assert outpost(site.home, "config", "set", "mode", "scheduled").stdout.strip() == \
        "mode = scheduled"
    st = d.status()
    assert st["mode"] == "scheduled" and st["next_sync"] is not None
    bad = outpost(site.home, "config", "set", "mode", "sometimes", check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("outpost: mode must be one of manual, scheduled, realtime, "
                                  "got 'sometimes'")
    assert d.status()["mode"] == "scheduled"

    # pause and resume from the tray
    app.apply(d.status(), notify=False)
    app.perform(model.TOGGLE_PAUSE)
    st = d.status()
    assert st["daemon"]["paused"] and st["next_sync"] is None
    assert "automatic sync paused" in outpost(site.home, "status").stdout
    app.apply(st, notify=False)
    app.perform(model.TOGGLE_PAUSE)
    assert not d.status()["daemon"]["paused"]


def test_status_answers_at_once_during_a_long_sync(site, daemons):
    """A big pull keeps the worker busy; `status` still answers from memory, showing it."""
    outpost(site.home, "config", "set", "mode", "manual")
    store = site.cloud_store()
    with store.write():
        for i in range(6000):
            store.put_row("items", {"name": f"Item {i}", "price": i})
    d = Daemon(site.home).start()
    daemons.append(d)
    d.client.sync_now(False, "cli")
    seen_syncing = False
    slowest = 0.0
    while True:
        t0 = time.monotonic()
        st = d.status()
        slowest = max(slowest, time.monotonic() - t0)
        seen_syncing |= st["state"] == "syncing"
        if st["state"] == "idle" and st["last_sync"] and st["last_sync"]["pulled"] >= 6000:
            break
        time.sleep(0.02)
    assert seen_syncing
    assert slowest < 0.5


def test_the_due_time_on_disk_survives_a_restart(site, daemons):
    """Restarted before the due time: no sync at start. Started after a missed due time (the
    computer was off): the missed sync runs at once, after the start-up jitter."""
    outpost(site.home, "config", "set", "schedule", "1h")
    outpost(site.home, "config", "set", "mode", "scheduled")
    plan = site.home.state / "schedule.json"
    due = time.time() + 3600
    plan.write_text(json.dumps({"due": due, "mode": "scheduled", "schedule": "1h",
                                "working_hours": "", "paused": False}))
    d = Daemon(site.home).start()
    daemons.append(d)
    st = d.status()
    assert st["next_sync"] is not None
    assert abs(_epoch(st["next_sync"]) - due) < 1.5
    time.sleep(1.5)
    assert site.history() == []  # nothing was due
    outpost(site.home, "stop")
    d.wait_exit(10)
    assert abs(json.loads(plan.read_text())["due"] - due) < 0.01

    missed = time.time() - 600
    plan.write_text(json.dumps({"due": missed, "mode": "scheduled", "schedule": "1h",
                                "working_hours": "", "paused": False}))
    t0 = time.time()
    d2 = Daemon(site.home).start()
    daemons.append(d2)
    wait_for(site.history, 5, "the missed sync")
    assert site.history()[0]["ok"] and site.history()[0]["at"] - t0 < 4
    st = d2.wait_status(lambda s: s["state"] == "idle" and s["next_sync"], 5, "the next plan")
    assert abs(_epoch(st["next_sync"]) - (site.history()[0]["at"] + 3600)) < 2
    assert "missed" in (site.home.logs / "daemon.log").read_text()


def _epoch(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).timestamp()
