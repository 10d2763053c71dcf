"""Interruptions: `outpost sync` killed with SIGKILL at random points while it pushes and while it
pulls, and the cloud server killed and started again in the middle of a sync. After each, a
normal sync must leave no object lost and none doubled, the journal empty and the cursor right.

The kills are aimed: the test watches the work progress (batches answered in the cloud, the
workstation's cursor moving) and kills after a random extra delay, so they land inside the phase
under test; the random generator is seeded, so a failure can be replayed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apsw

from core.store import Store
from daemon.sync.errors import Offline
from tests.sync.sync_helpers import (
    Node,
    Site,
    assert_settled,
    assert_unique_numbers,
    catalogs,
    invoice,
    objects,
)

BIN = Path(sys.executable).parent


def outpost_sync(node: Node) -> subprocess.Popen[bytes]:
    node.close()
    return subprocess.Popen(
        [str(BIN / "outpost"), "--home", str(node.home.root), "sync", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], extra: float) -> bool:
    """SIGKILL `proc` `extra` seconds after `ready()` turns true; False if it ended first."""
    deadline = time.monotonic() + 60
    while not ready() and proc.poll() is None:
        assert time.monotonic() < deadline, "the sync made no progress"
        time.sleep(0.005)
    time.sleep(extra)
    if proc.poll() is not None:
        proc.communicate()
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    return True


def peek(path: Path, sql: str) -> Any:
    """One value read from a database another process is writing (a snapshot read)."""
    con = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        con.set_busy_timeout(5000)
        row = con.execute(sql).fetchone()
        return None if row is None else row[0]
    finally:
        con.close()


def batches(site: Site) -> int:
    return int(peek(site.reg.tenant_path(site.tenant), "SELECT count(*) FROM _batches") or 0)


def cursor_of(node: Node) -> int:
    return int(peek(node.home.database, "SELECT value FROM _meta WHERE key = 'cursor'") or 0)


def sound(node: Node) -> None:
    """The workstation's file is whole and its sync state coherent after a kill."""
    assert peek(node.home.database, "PRAGMA quick_check") == "ok"
    # two in flight and one read ahead (docs/protocol.md, "Batches in flight")
    assert (peek(node.home.database, "SELECT count(*) FROM _outbox") or 0) <= 3


def local_invoices(store: Store, n: int, org: str, cp: str, item: str, tag: int) -> None:
    """`n` new invoices with a line each, numbered by the node, in one transaction."""
    with store.write():
        for i in range(n):
            store.put_row("sales_invoices", {
                "date": "2025-05-01", "organization": org, "counterparty": cp,
                "total": float(tag * 100_000 + i),
                "lines": [{"item": item, "quantity": float(i + 1), "price": 1.0}]})


def cloud_catalog(store: Store, n: int, tag: int) -> None:
    """`n` new counterparties, which every workstation receives: enough journal rows that a
    pull takes several pages (2,000, then 4,000, ...), so a kill after the first page commits
    still finds the pull at work, however fast the machine."""
    with store.write():
        for i in range(n):
            store.put_row("counterparties", {"name": f"Round {tag} counterparty {i}"})


def edit_some(store: Store, n: int, rng: random.Random, tag: int) -> None:
    ids = [o["id"] for o in store.list_objects("sales_invoices", limit=1000)]
    with store.write():
        for oid in rng.sample(ids, min(n, len(ids))):
            store.put_row("sales_invoices", {"total": -float(tag)}, id=oid)


def test_sync_killed_while_pushing(site: Site) -> None:
    rng = random.Random(20250301)
    org = site.orgs[0]
    cp, item = catalogs(site)
    a = site.add("depot", orgs=[org])
    a.synced()
    kills = 0
    for round_ in range(6):
        # Each round's push takes two batches (PUSH_BATCH is 2,000 changes), so a kill after
        # the first or the second answer lands with work still unrecorded.
        local_invoices(a.store, 2500, org, cp, item, tag=round_ + 1)
        if round_:
            edit_some(a.store, 200, rng, round_ + 1)
            a.store.put("counterparties", {"name": f"Made in round {round_}"})
        before = batches(site)
        answered = rng.randint(0, 1)
        proc = outpost_sync(a)
        kills += kill_when(proc, lambda b=before, k=answered: batches(site) > b + k,
                           rng.uniform(0, 0.05))
        sound(a)
        assert_unique_numbers(site.store)
    assert kills >= 4, "too few kills landed inside the push"

    r = a.synced()
    assert r.ok
    assert_settled(site, a)
    made = {k: v for k, v in objects(a.store).items() if k[0] == "sales_invoices"}
    in_cloud = {k: v for k, v in objects(site.store).items() if k[0] == "sales_invoices"}
    assert len(made) == 6 * 2500 and in_cloud == made


def test_sync_killed_while_pulling(site: Site) -> None:
    rng = random.Random(20250302)
    org, other = site.orgs
    cp, item = catalogs(site)
    a = site.add("depot", orgs=[org])
    a.synced()
    kills = 0
    for round_ in range(6):
        local_invoices(site.store, 1500, org, cp, item, tag=round_ + 1)
        local_invoices(site.store, 100, other, cp, item, tag=round_ + 1)  # filtered out
        cloud_catalog(site.store, 6000, round_ + 1)
        edit_some(site.store, 150, rng, round_ + 1)
        if round_:
            some = [o["id"] for o in site.store.list_objects("sales_invoices", limit=50)]
            for oid in some[:10]:
                site.store.delete("sales_invoices", oid)
            site.store.put("items", {"price": float(round_)}, id=item)
        start = cursor_of(a)
        proc = outpost_sync(a)
        killed = kill_when(proc, lambda s=start: cursor_of(a) > s, rng.uniform(0, 0.05))
        kills += killed and cursor_of(a) < site.store.head()  # cut off between two pages
        sound(a)
        assert a.journal() == 0  # a pulled page and its journal rows commit together
        a.close()
    assert kills >= 4, "too few kills landed inside the pull"

    r = a.synced()
    assert r.ok
    assert_settled(site, a)


def test_the_cloud_killed_and_restarted_mid_sync(site: Site) -> None:
    rng = random.Random(20250303)
    org = site.orgs[0]
    cp, item = catalogs(site)
    a = site.add("depot", orgs=[org])
    a.synced()
    outcomes, cut = [], 0
    for round_, phase in enumerate(["push", "pull", "push", "pull"]):
        if phase == "push":
            local_invoices(a.store, 2500, org, cp, item, tag=round_ + 1)
            edit_some(a.store, 100, rng, round_ + 1)
            before = batches(site)
            ready: Callable[[], bool] = lambda b=before: batches(site) > b  # noqa: E731
        else:
            local_invoices(site.store, 2500, org, cp, item, tag=round_ + 1)
            cloud_catalog(site.store, 6000, round_ + 1)
            edit_some(site.store, 100, rng, round_ + 1)
            start = cursor_of(a)
            ready = lambda s=start: cursor_of(a) > s  # noqa: E731
        proc = outpost_sync(a)
        deadline = time.monotonic() + 60
        while not ready() and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))  # each phase takes several batches or pages
        cut += proc.poll() is None
        site.cloud.server.kill()
        site.cloud.server.start()
        out, err = proc.communicate(timeout=120)
        result = json.loads(out)  # a failed sync still answers, with the state it left
        assert result["ok"] or result["state"] == "offline", (result, err)
        outcomes.append(result["ok"])
        sound(a)
        assert_unique_numbers(site.store)
    assert cut >= 3, "too few server kills landed inside a sync"

    r = a.synced()
    assert r.ok
    assert_settled(site, a)
    mine = {k: v for k, v in objects(a.store).items() if k[0] == "sales_invoices"}
    assert len(mine) == 10_000
    assert {k: v for k, v in objects(site.store).items() if k[0] == "sales_invoices"} == mine


def test_two_batches_saved_when_a_push_fails_go_again_in_order(site: Site) -> None:
    """The first batch never reaches the cloud while the second, read meanwhile, waits saved.
    The next sync sends both in their order: the invoice of the second refers to a
    counterparty made in the first, which the cloud must have applied before it."""
    org = site.orgs[0]
    _, item = catalogs(site)
    a = site.add("depot", orgs=[org])
    a.synced()
    first = a.store.put("counterparties", {"name": "Made first"})["id"]
    with a.store.write():  # fill the first batch (2,000 journal rows) after it
        for i in range(2100):
            a.store.put_row("counterparties", {"name": f"Filler {i}"})
    made = a.store.put("sales_invoices", invoice(org, first, item, 3))["id"]

    class DropsFirstPush:
        def __init__(self, inner: Any) -> None:
            self.inner, self.pushes = inner, 0

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def push(self, *args: Any, **kwargs: Any) -> Any:
            self.pushes += 1
            if self.pushes == 1:
                raise Offline("cannot reach the cloud: the network dropped the request")
            return self.inner.push(*args, **kwargs)

    client = DropsFirstPush(a.ws.client())
    r = a.ws.sync(client=client)  # type: ignore[arg-type]
    client.inner.close()
    assert not r.ok and r.state == "offline"
    assert a.outbox() == 2  # the first, never applied, and the second, read meanwhile

    r = a.synced()
    assert r.rejected == 0 and r.pushed == 2102
    assert a.outbox() == 0 and a.journal() == 0
    assert site.store.require("sales_invoices", made)["fields"]["counterparty"] == first
    assert_settled(site, a)
    assert_unique_numbers(site.store)
