"""The outgoing window: local changes as SQLite writes them, equal to the object API's form."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from core import Store
from core.changes import outgoing_window
from daemon.sync.tables import ensure_workstation_tables
from tests.core.helpers import Refs, invoice_fields


def sent(store: Store, **kw: object) -> list[dict[str, object]]:
    ensure_workstation_tables(store)
    out = outgoing_window(store, 1000, **kw)  # type: ignore[arg-type]
    changes: list[dict[str, object]] = orjson.loads(out.body)
    assert [(c["id"], c["entity"], c["op"]) for c in changes] == out.heads
    return changes


def test_every_change_is_the_object_as_the_api_reads_it(store: Store, refs: Refs) -> None:
    posted = store.put("sales_invoices", {**invoice_fields(refs, lines=3), "posted": True})
    draft = store.put("sales_invoices", {**invoice_fields(refs, lines=0), "posted": None})
    gone = store.put("counterparties", {"name": "Gone"})["id"]
    store.delete("counterparties", gone)
    changes = {c["id"]: c for c in sent(store)}
    for oid in [refs.org_a, refs.org_b, refs.counterparty, refs.item, posted["id"], draft["id"]]:
        ch = changes[oid]
        obj = store.get(str(ch["entity"]), oid)
        assert obj is not None and ch["op"] == "put" and ch["fields"] == obj["fields"]
    assert changes[posted["id"]]["fields"]["posted"] is True  # type: ignore[index]
    assert changes[draft["id"]]["fields"]["lines"] == []  # type: ignore[index]
    assert changes[gone]["op"] == "delete" and changes[gone]["fields"] is None


def test_changes_come_in_the_order_objects_began(store: Store, refs: Refs) -> None:
    inv = store.put("sales_invoices", invoice_fields(refs))["id"]
    store.put("counterparties", {"name": "Renamed"}, id=refs.counterparty)  # later row, same object
    order = [c["id"] for c in sent(store)]
    assert order.index(refs.counterparty) < order.index(inv)


def test_objects_in_flight_stay_out(store: Store, refs: Refs) -> None:
    ids = {c["id"] for c in sent(store, leave_out=[{refs.item}])}
    assert refs.item not in ids and refs.counterparty in ids


@settings(max_examples=60, deadline=None)
@given(price=st.one_of(st.none(), st.integers(-(2**53), 2**53),
                       st.floats(allow_nan=False, allow_infinity=False)),
       name=st.text(max_size=40))
def test_values_travel_exactly(tmp_path_factory: object, price: object, name: str) -> None:
    from core.schema import default_schema

    path = tmp_path_factory.mktemp("o") / "infobase.db"  # type: ignore[attr-defined]
    with Store.create(path, default_schema(), prefix="AB") as store:
        oid = store.put("items", {"name": name or "x", "price": price})["id"]
        (ch,) = sent(store)
        assert ch["id"] == oid and ch["fields"] == store.require("items", oid)["fields"]


def test_pulled_changes_are_the_objects_as_the_api_reads_them(store: Store, refs: Refs) -> None:
    from core.changes import pull_window

    posted = store.put("sales_invoices", {**invoice_fields(refs, lines=2), "posted": True})
    gone = store.put("counterparties", {"name": "Gone"})["id"]
    store.delete("counterparties", gone)
    texts, last = pull_window(store, 0, 1000, None, skip_origin=None)
    assert last == store.head()
    changes = {c["id"]: c for c in map(orjson.loads, texts)}
    for oid in [refs.org_a, refs.org_b, refs.counterparty, refs.item, posted["id"]]:
        ch = changes[oid]
        obj = store.get(str(ch["entity"]), oid)
        assert obj is not None and ch["op"] == "put" and ch["fields"] == obj["fields"]
        assert (ch["org"], ch["version"]) == (obj["org"], obj["version"])
    assert changes[refs.org_a]["org"] == refs.org_a  # an organization is its own
    tombstone = store.scalar("SELECT version FROM _versions WHERE id = ?", (gone,))
    assert changes[gone] == {"entity": "counterparties", "id": gone, "op": "delete",
                             "version": tombstone}


def test_a_nodes_own_changes_are_stepped_over_and_no_other(store: Store) -> None:
    from core.changes import pull_window

    def made(name: str, origin: str | None) -> str:
        oid = store.put("counterparties", {"name": name})["id"]
        store.conn.execute("UPDATE _journal SET origin = ? WHERE id = ?", (origin, oid))
        return oid

    start = store.head()
    for i in range(5):
        made(f"Mine {i}", "ws-1")
    theirs = made("Theirs", "ws-2")
    made("Mine again", "ws-1")
    cloud = made("The cloud's", None)
    made("Mine at the end", "ws-1")

    def pulled(after: int, limit: int) -> tuple[list[str], int]:
        texts, last = pull_window(store, after, limit, None, skip_origin="ws-1")
        return [orjson.loads(t)["id"] for t in texts], last

    assert pulled(start, 1000) == ([theirs, cloud], store.head())
    rows = dict(store.conn.execute("SELECT id, min(seq) FROM _journal GROUP BY id"))
    ids, last = pulled(start, 1)  # a window of one row, right after the node's own five
    assert ids == [theirs] and last == rows[theirs]
    seen, steps = set(ids), 1
    while last < store.head():  # a page of one row at a time: its own rows are stepped over
        ids, last = pulled(last, 1)
        seen.update(ids)
        steps += 1
    assert seen == {theirs, cloud} and steps < store.head() - start - 8
    assert pulled(rows[cloud] + 1, 1000) == ([], store.head())  # only its own: to the head


def test_an_object_changed_often_travels_once_with_its_newest_time(store: Store,
                                                                    refs: Refs) -> None:
    ensure_workstation_tables(store)
    first = store.head()
    oid = store.put("counterparties", {"name": "New"})["id"]
    for name in ("Renamed", "Renamed again"):
        store.put("counterparties", {"name": name}, id=oid)
    out = outgoing_window(store, 1000, after=first)
    (ch,) = [c for c in orjson.loads(out.body) if c["id"] == oid]
    rows = store.conn.execute("SELECT at FROM _journal WHERE id = ? AND seq > ?",
                              (oid, first)).fetchall()
    assert len(rows) >= 3 and ch["at"] == max(r[0] for r in rows if r[0] is not None)
    assert ch["fields"]["name"] == "Renamed again"
    assert out.rows == store.scalar("SELECT count(*) FROM _journal WHERE seq > ?", (first,))


def test_a_row_whose_rowid_moved_is_found_by_its_id(store: Store) -> None:
    """A journal row names the rowid its object had; a row since moved (VACUUM may renumber
    rowids, a delete and a new insert of the same id gives another) is found by id, and a
    rowid now holding another object never lends that object's fields."""
    a = store.put("counterparties", {"name": "Alpha"})["id"]
    b = store.put("counterparties", {"name": "Beta"})["id"]
    c = store.put("counterparties", {"name": "Gamma"})["id"]
    gone = store.put("counterparties", {"name": "Gone"})["id"]
    store.delete("counterparties", gone)
    with store.write():  # a's rows point at b's row, b's at nothing, c's rows have none
        rid_b = store.scalar("SELECT rowid FROM counterparties WHERE id = ?", (b,))
        store.conn.execute("UPDATE _journal SET rid = ? WHERE id = ?", (rid_b, a))
        store.conn.execute("UPDATE _journal SET rid = 1000000 WHERE id = ?", (b,))
        store.conn.execute("UPDATE _journal SET rid = NULL WHERE id = ?", (c,))
    changes = {ch["id"]: ch for ch in sent(store)}
    for oid in (a, b, c):
        obj = store.get("counterparties", oid)
        assert obj is not None
        assert changes[oid]["op"] == "put" and changes[oid]["fields"] == obj["fields"]
    assert changes[gone]["op"] == "delete" and changes[gone]["fields"] is None


ORGS = ["00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b", None]
OBJECTS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(4)]
_steps = st.lists(st.tuples(
    st.sampled_from(["insert", "update", "move", "delete", "renumber"]),
    st.sampled_from(OBJECTS), st.sampled_from(ORGS), st.sampled_from([None, "ws-1", "ws-2"]),
), max_size=14)


@settings(max_examples=300, deadline=None)
@given(steps=_steps, cuts=st.tuples(st.integers(0, 30), st.integers(0, 30)))
def test_a_pull_window_reads_the_same_flat_or_grouped_by_object(
    tmp_path_factory: object, steps: list[tuple[str, str, str | None, str | None]],
    cuts: tuple[int, int],
) -> None:
    """Random inserts, updates, moves between organizations, deletes and renumbered rowids of
    an entity with an organization field, each stamped with an origin or none: every window
    read row by row (`_flat_pull`) gives the changes grouping by object in SQL gives."""
    from pathlib import Path

    from core.changes import _flat_pull, _grouped_pull
    from core.schema import default_schema

    path = Path(str(tmp_path_factory.mktemp("pull"))) / "infobase.db"  # type: ignore[attr-defined]
    with Store.create(path, default_schema(), prefix="AB") as store:
        e = store.entity("payments")
        for op, oid, org, origin in steps:
            with store.write():
                before = store.head()
                there = store.scalar("SELECT count(*) FROM payments WHERE id = ?", (oid,))
                if op == "insert" and not there:
                    store.conn.execute(
                        "INSERT INTO payments(id, number, organization, amount) "
                        "VALUES (?, ?, ?, 1)", (oid, f"N-{before}", org))
                elif op in ("update", "move") and there:
                    column = "organization" if op == "move" else "amount"
                    store.conn.execute(f"UPDATE payments SET {column} = ? WHERE id = ?",
                                       (org if op == "move" else before, oid))
                elif op == "delete":
                    store.conn.execute("DELETE FROM payments WHERE id = ?", (oid,))
                elif op == "renumber" and there:  # as a VACUUM may: the journal's rid is stale
                    store.conn.execute("UPDATE payments SET rowid = rowid + 100 WHERE id = ?",
                                       (oid,))
                if origin is not None:
                    store.conn.execute("UPDATE _journal SET origin = ? WHERE seq > ?",
                                       (origin, before))
        head = store.head()
        after, upto = sorted(min(c, head) for c in cuts)
        for skip in (None, "ws-1"):
            flat = _flat_pull(store, e, after, upto, skip)
            grouped = _grouped_pull(store, e, after, upto, skip)

            def norm(rows: list[object]) -> list[object]:  # group_concat's order is SQLite's
                return [(*r[:2], sorted(str(r[2]).split()) if r[2] else None, *r[3:])  # type: ignore[index]
                        for r in rows]

            assert norm(flat) == norm(grouped)  # type: ignore[arg-type]
