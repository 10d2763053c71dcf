"""Bulk writes of objects from the other side: new ones inserted, existing ones replaced."""

from __future__ import annotations

import uuid

from core import Store
from core.apply import upsert_objects
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
