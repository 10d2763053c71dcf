"""Property: random creates, edits, deletes and moves on the cloud and three workstations, with
syncs cut off at random calls (the request lost, or its answer lost) and compactions of the
cloud's log, always converge: once every node syncs again, each workstation holds exactly the
cloud's objects of its organizations and the shared catalogs, journals hold only refused
changes, cursors are at the cloud's head, conflicts are logged alike on both sides, no number is
handed out twice, and no write is lost.

"No write lost" is checked on a model of intents: every field value a node wrote (a delete
writes every field as absent) must end up in the cloud, unless a later write of the same field
replaced it (one that ended in the cloud, one made on the same node, or one the cloud made over
that very value: each of those is checked in its turn, so every value written ends in the cloud
or in a conflict's record), or a conflict kept it as the loser, or the cloud refused it (flagged
on the workstation that made it). Values are unique per write, so a
value found can only have come from the write that made it (an organization, moved away and
back, is the exception the model allows for).

The engine runs in-process (daemon.workstation.Workstation) against the module's real server.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

import core.store
from cloud.sync import compact
from core.store import Store
from daemon.sync import CloudClient, SyncResult, engine
from daemon.sync.errors import Offline
from tests.sync.sync_helpers import (
    Cloud,
    Key,
    Node,
    Site,
    assert_unique_numbers,
    cloud_conflicts,
    diff,
    expected,
    local_conflicts,
    new_tenant,
    objects,
)

ABSENT = "<absent>"
UNKNOWN = object()  # a base the cloud no longer remembers
EXISTS = "<exists>"
EDITABLE = {
    "organizations": ["name", "tax_id"],
    "counterparties": ["name", "tax_id"],
    "items": ["name", "unit", "price"],
    "sales_invoices": ["total", "posted", "lines", "counterparty", "date"],
}


@dataclass(frozen=True)
class Intent:
    node: str
    t: int
    key: Key
    field: str
    value: Any
    replaced: Any  # the value the write found on its node


class FaultyClient:
    """A CloudClient whose `n`-th call fails as a partition would: before the request leaves
    ("drop") or after the cloud has answered ("lose"); every push is shown to `seen` first."""

    def __init__(self, inner: CloudClient, n: int, mode: str | None,
                 seen: Callable[[list[dict[str, Any]]], None]) -> None:
        self.inner, self.n, self.mode, self.seen = inner, n, mode, seen
        self.calls = 0
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in ("push", "pull", "snapshot"):
            return attr

        def call(*args: Any, **kw: Any) -> Any:
            with self.lock:
                k, self.calls = self.calls, self.calls + 1
            if name == "push":  # the batch's changes, as the JSON array the outbox keeps
                self.seen(orjson.loads(args[2]))
            if k == self.n and self.mode == "drop":
                raise Offline("cannot reach the cloud: the network dropped the request")
            out = attr(*args, **kw)
            if k == self.n and self.mode == "lose":
                raise Offline("cannot reach the cloud: the answer was lost")
            return out

        return call


class SyncMachine(RuleBasedStateMachine):
    cloud: ClassVar[Cloud]
    root: ClassVar[Path]
    ids: ClassVar[random.Random] = random.Random(0)

    @classmethod
    def new_id(cls) -> str:
        """Object ids made in order from a seed: the rules pick objects in id order, so with
        random ids a failing example picked other objects when replayed."""
        return str(uuid.UUID(int=cls.ids.getrandbits(128), version=4))

    def __init__(self) -> None:
        super().__init__()
        SyncMachine.ids = random.Random(0)  # each example makes the same ids, in the same order
        tenant, orgs = new_tenant(self.cloud.reg, 2)
        self.tmp = Path(tempfile.mkdtemp(dir=self.root))
        self.site = site = Site(self.cloud, self.tmp, tenant, orgs)
        self.t = 0
        self.intents: list[Intent] = []
        # what workstations pushed: key -> [(t, node, pushed fields, base fields)]
        self.pushed: dict[Key, list[tuple[int, str, Any, Any]]] = {}
        for i in range(2):
            self._write("cloud", "counterparties", {"name": self._value("cp")})
            self._write("cloud", "items", {"name": self._value("item"), "price": 1.0 + i})
        for org in orgs:
            for _ in range(2):
                self._create_invoice("cloud", org)
        self.nodes = [
            site.add("w1", orgs=[orgs[0]], real=False, user="robot"),
            site.add("w2", orgs=[orgs[1]], priority="newest", real=False, user="robot"),
            site.add("w3", priority="workstation", real=False, user="robot"),
        ]

    # -- helpers -------------------------------------------------------------------------------

    def _value(self, what: str) -> str:
        return f"{what}-{self.t}"

    def _store(self, who: str) -> Store:
        if who == "cloud":
            return self.site.store
        return next(n for n in self.nodes if n.name == who).store

    def _orgs(self, who: str) -> list[str]:
        node = None if who == "cloud" else next(n for n in self.nodes if n.name == who)
        return self.site.orgs if node is None or node.orgs is None else node.orgs

    def _pick(self, store: Store, entity: str, pick: int) -> str | None:
        ids = [o["id"] for o in store.list_objects(entity, limit=1000)]
        return ids[pick % len(ids)] if ids else None

    def _write(self, who: str, entity: str, fields: dict[str, Any] | None,
               id: str | None = None) -> None:
        """One write on node `who` (fields None: a delete), recorded as intents."""
        self.t += 1
        store = self._store(who)
        before = store.get(entity, id) if id else None
        if fields is None:
            assert id is not None
            store.delete(entity, id)
            after = None
        else:
            after = store.put(entity, fields, id=id)
            id = after["id"]
        key = (entity, id)
        names = [f.name for f in store.schema.entity(entity).fields] + \
            [s.name for s in store.schema.entity(entity).sections]
        for name in names:
            old = ABSENT if before is None else before["fields"][name]
            new = ABSENT if after is None else after["fields"][name]
            if old != new:
                self.intents.append(Intent(who, self.t, key, name, new, old))
        if (before is None) != (after is None):
            self.intents.append(Intent(who, self.t, key, EXISTS, after is not None,
                                       before is not None))

    def _create_invoice(self, who: str, org: str, pick: int = 0) -> None:
        store = self._store(who)
        cp = self._pick(store, "counterparties", pick)
        item = self._pick(store, "items", pick // 7)
        if cp is None or item is None:
            return
        q = float(self.t + 1)
        self._write(who, "sales_invoices", {
            "date": "2025-02-01", "organization": org, "counterparty": cp, "total": q,
            "lines": [{"item": item, "quantity": q, "price": 1.0, "amount": q}]})

    # -- rules ---------------------------------------------------------------------------------

    @rule(who=st.sampled_from(["cloud", "w1", "w2", "w3"]), kind=st.integers(0, 2),
          pick=st.integers(0, 10_000))
    def create(self, who: str, kind: int, pick: int) -> None:
        if kind == 0:
            self._write(who, "counterparties", {"name": self._value(who)})
        elif kind == 1:
            self._write(who, "items", {"name": self._value(who), "price": float(self.t)})
        else:
            orgs = self._orgs(who)
            self._create_invoice(who, orgs[pick % len(orgs)], pick)

    @rule(who=st.sampled_from(["cloud", "w1", "w2", "w3"]),
          entity=st.sampled_from(sorted(EDITABLE)), pick=st.integers(0, 10_000),
          fields=st.sets(st.integers(0, 4), min_size=1, max_size=2))
    def edit(self, who: str, entity: str, pick: int, fields: set[int]) -> None:
        store = self._store(who)
        oid = self._pick(store, entity, pick)
        if oid is None:
            return
        current = store.require(entity, oid)["fields"]
        names = EDITABLE[entity]
        change: dict[str, Any] = {}
        for i in fields:
            name = names[i % len(names)]
            if name in ("name", "tax_id", "unit"):
                change[name] = self._value(who)[:16 if name == "unit" else 200]
            elif name in ("price", "total"):
                change[name] = float(self.t + 1) + 0.5
            elif name == "posted":
                change[name] = not current["posted"]
            elif name == "date":
                change[name] = f"2025-{1 + self.t % 12:02d}-{1 + self.t % 28:02d}"
            elif name == "counterparty":
                cp = self._pick(store, "counterparties", pick // 3)
                if cp is not None:
                    change[name] = cp
            elif name == "lines":
                item = self._pick(store, "items", pick // 5)
                if item is not None:
                    q = float(self.t + 1)
                    change[name] = [{"item": item, "quantity": q, "price": 2.0,
                                     "amount": 2 * q}]
        if change:
            self._write(who, entity, change, id=oid)

    @rule(who=st.sampled_from(["cloud", "w1", "w2", "w3"]), pick=st.integers(0, 10_000))
    def delete(self, who: str, pick: int) -> None:
        oid = self._pick(self._store(who), "sales_invoices", pick)
        if oid is not None:
            self._write(who, "sales_invoices", None, id=oid)

    @rule(who=st.sampled_from(["cloud", "w3"]), pick=st.integers(0, 10_000))
    def move(self, who: str, pick: int) -> None:
        """A document changes organization: it leaves one workstation for the other."""
        store = self._store(who)
        oid = self._pick(store, "sales_invoices", pick)
        if oid is None:
            return
        org = store.require("sales_invoices", oid)["fields"]["organization"]
        other = next(o for o in self.site.orgs if o != org)
        self._write(who, "sales_invoices", {"organization": other}, id=oid)

    def _seen(self, node: str, changes: list[dict[str, Any]]) -> None:
        """Note what a push carries and the base it names, read from the cloud as it is sent
        (the cloud's history of old versions may be compacted later)."""
        store = self.site.store
        for ch in changes:
            key = (ch["entity"], ch["id"])
            base: Any = None  # created on the workstation
            if ch["base"]:
                cur = store.get(ch["entity"], ch["id"])
                if cur is not None and cur["version"] == ch["base"]:
                    base = cur["fields"]
                else:
                    row = store.conn.execute("SELECT body FROM _history WHERE id = ? AND "
                                             "version = ?", (ch["id"], ch["base"])).fetchone()
                    base = orjson.loads(row[0]) if row and row[0] else UNKNOWN
            sent = ch.get("fields") if ch["op"] == "put" else None
            self.pushed.setdefault(key, []).append((self.t, node, sent, base))

    @rule(n=st.integers(0, 2), fault=st.sampled_from([None, None, "drop", "lose"]),
          at=st.integers(0, 4))
    def sync(self, n: int, fault: str | None, at: int) -> None:
        node = self.nodes[n]
        self._sync(node, fault, at)

    def _sync(self, node: Node, fault: str | None = None, at: int = -1) -> SyncResult:
        ws = node.ws
        client = FaultyClient(ws.client(), at, fault,
                              lambda changes: self._seen(node.name, changes))
        try:
            r = ws.sync(client=client)  # type: ignore[arg-type]
        finally:
            client.close()
        if fault is None:
            assert r.ok, f"{node.name}: {r.state}: {r.error}"
        else:
            assert r.ok or r.state == "offline", f"{node.name}: {r.state}: {r.error}"
        return r

    @rule()
    def compact_the_log(self) -> None:
        """Compact up to the head: every workstation behind it must refresh."""
        compact(self.site.store, keep_days=0)

    # -- the end -------------------------------------------------------------------------------

    def teardown(self) -> None:
        try:
            for _ in range(2):
                for node in self.nodes:
                    self._sync(node)
            self.check()
        finally:
            self.site.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def check(self) -> None:
        site = self.site
        head = site.store.head()
        refused: dict[str, set[str]] = {}
        for node in self.nodes:
            rows = node.store.conn.execute("SELECT id, reason FROM _rejected").fetchall()
            refused[node.name] = {str(r[0]) for r in rows}
            for _, reason in rows:  # only a move away can make the cloud refuse here
                assert "is not carried by this workstation" in str(reason), reason
            pending = {str(r[0]) for r in node.store.conn.execute("SELECT id FROM _journal")}
            assert pending <= refused[node.name], f"{node.name}: unsent {pending}"
            late = node.store.conn.execute(  # changed again after its refusal, yet not sent
                "SELECT r.id FROM _rejected r JOIN _journal j ON j.id = r.id "
                "GROUP BY r.id HAVING max(j.at) > min(r.at)").fetchall()
            assert not late, f"{node.name}: changes after a refusal not sent: {late}"
            assert node.outbox() == 0
            assert node.cursor() == head, f"{node.name}: cursor {node.cursor()} != {head}"
            want = {k: v for k, v in expected(site, node).items()
                    if k[1] not in refused[node.name]}
            have = {k: v for k, v in objects(node.store).items()
                    if k[1] not in refused[node.name]}
            problems = diff(want, have)
            assert not problems, f"{node.name}:\n" + "\n".join(problems[:10])
            assert local_conflicts(node) == cloud_conflicts(site, node), node.name
        assert_unique_numbers(site.store)
        self.check_intents(objects(site.store), refused)

    def check_intents(self, final: dict[Key, dict[str, Any]],
                      refused: dict[str, set[str]]) -> None:
        conflicts: dict[str, list[tuple[list[str], dict[str, Any]]]] = {}
        for oid, fields, loser in self.site.store.conn.execute(
            "SELECT id, fields, loser FROM _conflicts"
        ):
            conflicts.setdefault(str(oid), []).append((orjson.loads(fields), orjson.loads(loser)))

        def value_in(fields: dict[str, Any] | None, name: str) -> Any:
            if name == EXISTS:
                return fields is not None
            return ABSENT if fields is None else fields[name]

        by_field: dict[tuple[Key, str], list[Intent]] = {}
        for i in self.intents:
            by_field.setdefault((i.key, i.field), []).append(i)
        def no_change(i: Intent) -> bool:
            """Whether a later push named as its base a version whose field already had the
            value `i` wrote: to the three-way merge of that push, `i` changed nothing (a value
            written back, such as a document moved away and back), and the push's own value
            rightly replaces it."""
            return any(t >= i.t and base is not None and base is not UNKNOWN
                       and value_in(base, i.field) == i.value
                       for t, _, _, base in self.pushed.get(i.key, []))

        def lost_a_conflict(i: Intent) -> bool:
            """Whether `i`'s value is kept as the losing side of a conflict."""
            return any((i.field in names or "*" in names or i.field == EXISTS)
                       and value_in(loser["fields"] if loser["op"] == "put" else None, i.field)
                       == i.value for names, loser in conflicts.get(i.key[1], []))

        lost = []
        for i in self.intents:
            now = value_in(final.get(i.key), i.field)
            if now == i.value:
                continue
            later = [j for j in by_field[(i.key, i.field)] if j.t > i.t]
            if any(j.value == now or j.node == i.node for j in later):
                continue  # replaced by a later write (checked in its turn)
            if any(j.node == "cloud" and j.replaced == i.value for j in later):
                continue  # the cloud itself wrote over it (that write is checked in its turn)
            if no_change(i):
                continue
            if lost_a_conflict(i):
                continue  # kept as the losing side of a conflict
            if i.node != "cloud" and i.key[1] in refused[i.node]:
                continue  # refused by the cloud, flagged and kept on the workstation
            lost.append(i)
        assert not lost, "writes lost:\n" + "\n".join(map(str, lost[:10]))


def test_random_work_and_partitions_converge_without_losing_a_write(
    cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SyncMachine.cloud = cloud
    SyncMachine.root = tmp_path
    monkeypatch.setattr(core.store, "new_id", SyncMachine.new_id)
    # Batches and pages of a few changes, growing as in a long sync: a push spans batches in
    # flight (read ahead, sent behind one another, refusals for references a later batch
    # brings sent again) and a pull spans pages, under the same cuts as a single one.
    monkeypatch.setattr(engine, "PUSH_BATCH", 2)
    monkeypatch.setattr(engine, "PULL_PAGE", 2)
    # Each example takes about a second: shrinking a failure would outlast the suite's budget,
    # so a failure is reported as found (its steps print in full). For a longer hunt, with
    # failures shrunk: OUTPOST_SYNC_EXAMPLES=500 pytest tests/sync/test_sync_properties.py
    hunt = int(os.environ.get("OUTPOST_SYNC_EXAMPLES", "0"))
    run_state_machine_as_test(SyncMachine, settings=settings(
        max_examples=hunt or 30, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        phases=[Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if hunt else [])],
    ))

