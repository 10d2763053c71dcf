"""Bulk writes of objects from the other side: new ones inserted, existing ones replaced."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import Store
from core.apply import (
    insert_stamped,
    new_rows,
    set_versions,
    stamp_origin_since,
    upsert_objects,
)
from core.schema import default_schema
from tests.core.helpers import Refs, invoice_fields, journal


def test_new_and_existing_objects_in_one_call(store: Store, refs: Refs) -> None:
    old = store.put("counterparties", {"name": "Old", "code": "K-1"})["id"]
    new = str(uuid.uuid4())
    head = store.head()
    with store.write():
        upsert_objects(store, store.entity("counterparties"), [
            (old, {"code": "K-1", "name": "Renamed", "tax_id": "77"}),
            (new, {"code": "K-2", "name": "New", "tax_id": None}),
        ])
    assert store.require("counterparties", old)["fields"] == {
        "code": "K-1", "name": "Renamed", "tax_id": "77"}
    assert store.require("counterparties", new)["fields"]["name"] == "New"
    ops = {(i, op) for _, i, op, _ in journal(store, head)}
    assert (new, "I") in ops and (old, "U") in ops and (old, "I") not in ops


def test_documents_get_exactly_the_lines_given(store: Store, refs: Refs) -> None:
    kept = store.put("sales_invoices", invoice_fields(refs, lines=2))
    new = str(uuid.uuid4())
    one = invoice_fields(refs, lines=1)["lines"]
    three = invoice_fields(refs, lines=3)["lines"]
    with store.write():
        upsert_objects(store, store.entity("sales_invoices"), [
            (kept["id"], {**kept["fields"], "lines": one}),
            (new, {**invoice_fields(refs), "number": "S-9", "lines": three}),
        ])
    assert len(store.require("sales_invoices", kept["id"])["fields"]["lines"]) == 1
    assert len(store.require("sales_invoices", new)["fields"]["lines"]) == 3
    assert store.scalar("SELECT count(*) FROM sales_invoices_lines") == 4


def test_an_object_given_twice_is_written_once_as_given_last(store: Store) -> None:
    oid = str(uuid.uuid4())
    with store.write():
        upsert_objects(store, store.entity("items"), [
            (oid, {"code": "P-1", "name": "First", "unit": None, "price": 1.0}),
            (oid, {"code": "P-1", "name": "Second", "unit": None, "price": 2.0}),
        ])
    assert store.require("items", oid)["fields"]["name"] == "Second"
    assert store.scalar("SELECT count(*) FROM items") == 1


_values = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(_values, _values, _values), min_size=1, max_size=8))
def test_one_statement_writes_exactly_what_executemany_writes(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[Any, ...]],
) -> None:
    """The JSON array carries every value as binding it would: the same value, the same type
    (a boolean as the integer 0 or 1), text with any character in it."""
    from core.schema import default_schema

    path = tmp_path_factory.mktemp("a") / "infobase.db"
    with Store.create(path, default_schema(), prefix="AB") as store:
        e = store.entity("items")
        objs = [dict(zip(["name", "unit", "price"], r, strict=True)) for r in rows]
        # A code of each one's own: an empty one would be numbered, and differ by that alone.
        bound = [(str(uuid.uuid4()), {**o, "code": f"K-{i}"}) for i, o in enumerate(objs)]
        sent = [(str(uuid.uuid4()), {**o, "code": f"K-{i}"}) for i, o in enumerate(objs)]
        ahead = [(str(uuid.uuid4()), {**o, "code": f"K-{i}"}) for i, o in enumerate(objs)]
        made = new_rows(e, ahead)  # as the cloud makes it before taking the writer
        with store.write():
            upsert_objects(store, e, bound)
            upsert_objects(store, e, sent, in_one_statement=True)
            upsert_objects(store, e, ahead, rows=made)

        def read(ids: list[str]) -> list[Any]:
            return [store.conn.execute(
                "SELECT code, name, typeof(name), unit, typeof(unit), price, typeof(price) "
                "FROM items WHERE id = ?", (i,)).fetchone() for i in ids]

        assert read([i for i, _ in sent]) == read([i for i, _ in bound])
        assert made is None or read([i for i, _ in ahead]) == read([i for i, _ in bound])
        assert [r[0] for r in store.conn.execute("SELECT id FROM _journal ORDER BY seq")][-2 * len(
            sent):] == [i for i, _ in sent + ahead]  # inserted in the order given


def test_versions_are_recorded_whatever_their_order_and_the_last_given_wins(store: Store) -> None:
    ids = [str(uuid.uuid4()) for _ in range(50)]
    with store.write():
        set_versions(store, [(oid, n, False, None) for n, oid in enumerate(ids, 1)])
        set_versions(store, [(ids[0], 100, False, 1.5), (ids[1], 7, True, None),
                             (ids[0], 101, True, 2.5)])  # ids[0] twice: the later one counts
    got = {r[0]: tuple(r[1:]) for r in store.conn.execute(
        "SELECT id, version, deleted, at FROM _versions")}
    assert got[ids[0]] == (101, 1, 2.5) and got[ids[1]] == (7, 1, None)
    assert all(got[oid] == (n, 0, None) for n, oid in enumerate(ids, 1) if n > 2)


def _written(store: Store, after: int) -> tuple[list[Any], list[Any]]:
    """Every journal row after `after` (all its columns), and every counterparty."""
    return (store.conn.execute("SELECT * FROM _journal WHERE seq > ? ORDER BY seq",
                               (after,)).fetchall(),
            store.conn.execute("SELECT rowid, * FROM counterparties ORDER BY rowid").fetchall())


def test_new_objects_inserted_stamped_are_written_as_the_triggers_and_the_stamp_write(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The same objects into two like infobases: through the capture triggers, then stamped
    with their origin (what the cloud did for every pushed batch), and stamped as inserted."""
    objs = [(str(uuid.uuid4()), {"code": f"W-{i}", "name": f"Made {i}", "tax_id": None})
            for i in range(50)]
    kept = [(str(uuid.uuid4()), {"code": f"K-{i}", "name": f"Kept {i}", "tax_id": "77"})
            for i in range(5)]
    seen = []
    for way in ("triggers", "stamped"):
        path = tmp_path_factory.mktemp(way) / "infobase.db"
        with Store.create(path, default_schema(), prefix="AB") as store:
            e = store.entity("counterparties")
            with store.write():
                upsert_objects(store, e, kept)  # rows there before: rowids go on after them
            before = store.head()
            with store.write():
                if way == "triggers":
                    upsert_objects(store, e, objs, rows=new_rows(e, objs))
                    stamp_origin_since(store, before, "ws-1")
                else:
                    assert insert_stamped(store, e, new_rows(e, objs) or "", "ws-1")
            seen.append(_written(store, before))
    assert seen[0] == seen[1]
    assert len(seen[0][0]) == 50 and {r[5] for r in seen[0][0]} == {"ws-1"}


def test_objects_the_triggers_would_do_more_for_are_not_inserted_stamped(store: Store) -> None:
    e = store.entity("counterparties")
    unnumbered = [(str(uuid.uuid4()), {"code": "", "name": "Numbered here", "tax_id": None})]
    before = store.head()
    with store.write():
        assert not insert_stamped(store, e, new_rows(e, unnumbered) or "", "ws-1")
    assert store.head() == before and store.count("counterparties") == 0
    with store.write():
        store.conn.execute("CREATE TRIGGER someone_elses AFTER INSERT ON counterparties "
                           "BEGIN SELECT 1; END")
    numbered = [(str(uuid.uuid4()), {"code": "N-1", "name": "Given", "tax_id": None})]
    with store.write():
        assert not insert_stamped(store, e, new_rows(e, numbered) or "", "ws-1")
    assert store.head() == before and store.count("counterparties") == 0
    with store.write():
        assert not insert_stamped(store, store.entity("sales_invoices"), "[]", "ws-1")
