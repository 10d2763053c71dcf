"""A changed password and a revoked workstation put the daemon in states of their own, which
stop automatic sync until the user acts."""

from __future__ import annotations

import time

from tests.daemon.daemon_helpers import Daemon
from tests.support.workstation import outpost


def test_a_changed_password_then_a_new_login(site, daemons):
    outpost(site.home, "config", "set", "mode", "realtime")
    d = Daemon(site.home, env={"OUTPOST_WAIT_TIMEOUT": "2"}).start()
    daemons.append(d)
    d.wait_status(lambda s: s["last_sync"] and s["state"] == "idle", 5, "the start-up sync")

    site.tenant.reg.set_password(site.tenant.name, "alice", "a-new-password-2")
    st = d.wait_status(lambda s: s["state"] == "unauthorized", 5, "unauthorized")
    assert st["daemon"]["message"]
    # no automatic retries while the sign-in is refused
    n = len(site.history())
    local = site.local_store()
    local.put("counterparties", {"name": "Waits for a sign-in"})
    local.close()
    time.sleep(1.5)
    assert len(site.history()) == n
    assert d.status()["state"] == "unauthorized"
    assert "State        unauthorized" in outpost(site.home, "status").stdout

    outpost(site.home, "login", "--user", "alice", "--password-stdin",
            stdin="a-new-password-2\n")
    d.wait_status(lambda s: s["state"] == "idle" and s["pending_changes"] == 0, 10,
                  "a sync after the new sign-in")
    assert next(h["pushed"] for h in site.history()[n:] if h["ok"]) == 1


def test_revocation(site, daemons):
    outpost(site.home, "config", "set", "schedule", "10s")
    outpost(site.home, "config", "set", "mode", "scheduled")
    d = Daemon(site.home).start()
    daemons.append(d)
    d.wait_status(lambda s: s["last_sync"] and s["state"] == "idle", 5, "the start-up sync")
    ws_id = d.status()["workstation"]
    site.tenant.reg.revoke_workstation(site.tenant.name, ws_id)

    # "Sync now" (from the CLI, through the daemon) meets the revocation
    res = outpost(site.home, "sync", check=False)
    assert res.returncode == 1 and "sync failed (revoked)" in res.stderr
    st = d.status()
    assert st["state"] == "revoked" and st["next_sync"] is None
    n = len(site.history())
    time.sleep(1.0)
    assert len(site.history()) == n  # nothing automatic any more
    # it stays revoked across a restart of the daemon
    outpost(site.home, "stop")
    d.wait_exit(10)
    d2 = Daemon(site.home).start()
    daemons.append(d2)
    assert d2.status()["state"] == "revoked"
