"""Automatic sync by a running daemon against a real cloud: on schedule, in realtime both ways,
and through the cloud going away and coming back."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid

from tests.daemon.daemon_helpers import Daemon, wait_for
from tests.support.workstation import outpost


def _epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


def test_a_scheduled_sync_happens_on_time(site, daemons):
    outpost(site.home, "config", "set", "schedule", "10s")
    outpost(site.home, "config", "set", "mode", "scheduled")
    d = Daemon(site.home).start()
    daemons.append(d)
    # first start: a sync soon (start-up jitter), then one every 10 s counted from it
    first = wait_for(site.history, 5, "the first sync")[0]
    assert first["ok"]
    st = d.wait_status(lambda s: s["state"] == "idle" and s["next_sync"], 5, "a plan")
    due = _epoch(st["next_sync"])
    assert abs(due - (first["at"] + 10)) < 1.0
    obj = site.cloud_store().put("counterparties", {"name": "Due at the next run"})
    time.sleep(max(0.0, due - time.time() - 1.0))
    assert site.local_get("counterparties", obj["id"]) is None  # not before its time
    wait_for(lambda: len(site.history()) >= 2, 5, "the scheduled sync")
    second = site.history()[1]
    assert second["ok"] and second["pulled"] == 1
    assert due - 0.1 <= second["at"] - second["seconds"] <= due + 1.5
    assert site.local_get("counterparties", obj["id"]) is not None
    assert d.status()["daemon"]["last_trigger"] == "schedule"


def test_realtime_both_ways_within_seconds(site, daemons):
    outpost(site.home, "config", "set", "mode", "realtime")
    d = Daemon(site.home).start()
    daemons.append(d)
    d.wait_status(lambda s: s["last_sync"] and s["state"] == "idle", 5, "the start-up sync")
    time.sleep(0.5)  # the long-poll is waiting

    # another program writes straight into the local database
    oid = str(uuid.uuid4())
    t0 = time.monotonic()
    con = sqlite3.connect(site.home.database)
    con.execute("INSERT INTO counterparties(id, name, tax_id) VALUES (?, ?, ?)",
                (oid, "Written by another program", "7701"))
    con.commit()
    con.close()
    cloud = site.cloud_store()
    wait_for(lambda: cloud.get("counterparties", oid), 5, "the local write on the cloud")
    assert time.monotonic() - t0 < 5
    assert cloud.get("counterparties", oid)["fields"]["name"] == "Written by another program"

    # an edit in the cloud reaches the workstation
    t0 = time.monotonic()
    obj = cloud.put("items", {"name": "Edited in the cloud", "price": 12})
    wait_for(lambda: site.local_get("items", obj["id"]), 5, "the cloud edit locally")
    assert time.monotonic() - t0 < 5

    # the daemon's own syncs do not make it sync on and on
    d.wait_status(lambda s: s["state"] == "idle" and s["pending_changes"] == 0, 5, "quiet")
    n = len(site.history())
    time.sleep(2.5)
    assert len(site.history()) == n


def test_the_cloud_going_away_and_coming_back(site, daemons):
    outpost(site.home, "config", "set", "mode", "realtime")
    d = Daemon(site.home).start()
    daemons.append(d)
    d.wait_status(lambda s: s["last_sync"] and s["state"] == "idle", 5, "the start-up sync")
    time.sleep(0.3)

    site.cloud.kill()  # gone at once, mid long-poll
    d.wait_status(lambda s: s["state"] == "offline", 5, "offline")
    # work goes on on both sides while they are apart
    local = site.local_store()
    mine = local.put("counterparties", {"name": "Made offline"})
    local.close()
    theirs = site.cloud_store().put("counterparties", {"name": "Made in the cloud meanwhile"})
    time.sleep(1.5)
    st = d.status()
    assert st["state"] == "offline" and st["pending_changes"] == 1
    n = len(site.history())

    site.cloud.start()
    t0 = time.monotonic()
    d.wait_status(lambda s: s["state"] == "idle" and s["pending_changes"] == 0, 10,
                  "a sync after the cloud's return")
    assert time.monotonic() - t0 < 5
    back = site.history()[n:]
    assert any(h["ok"] and h["pushed"] == 1 and h["pulled"] == 1 for h in back)
    assert site.cloud_store().get("counterparties", mine["id"])["fields"]["name"] == \
        "Made offline"
    assert site.local_get("counterparties", theirs["id"]) is not None
    log = (site.home.logs / "daemon.log").read_text()
    assert "offline:" in log and "online again" in log
