"""Capture: every write to the entity tables, by any program, lands in the journal.

Writes here come from another connection, as another program's would: the standard library's
`sqlite3` (a different SQLite build) and a separate `apsw.Connection`.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import apsw
import pytest

from core import Store
from tests.core.helpers import Refs, invoice_fields, journal, last_op

Sql = Callable[..., None]


@pytest.fixture(params=["sqlite3", "apsw"])
def sql(request: pytest.FixtureRequest, store: Store) -> Iterator[Sql]:
    """Run one statement, committed, through a connection other than the store's."""
    if request.param == "sqlite3":
        conn: Any = sqlite3.connect(store.path, isolation_level=None, timeout=10)
    else:
        conn = apsw.Connection(str(store.path))
        conn.set_busy_timeout(10_000)

    def run(statement: str, *args: Any) -> None:
        conn.execute(statement, args)

    yield run
    conn.close()


def new_id() -> str:
    return str(uuid.uuid4())


def code_of(store: Store, oid: str) -> str:
    return str(store.scalar("SELECT code FROM counterparties WHERE id = ?", (oid,)))


def test_raw_insert_update_delete_of_a_catalog_are_journaled(store: Store, sql: Sql) -> None:
    oid = new_id()
    head = store.head()
    sql("INSERT INTO counterparties(id, code, name) VALUES (?, 'K-1', 'Acme')", oid)
    assert journal(store, head) == [("counterparties", oid, "I", None)]
    head = store.head()
    sql("UPDATE counterparties SET name = 'Acme Ltd' WHERE id = ?", oid)
    assert journal(store, head) == [("counterparties", oid, "U", None)]
    head = store.head()
    sql("DELETE FROM counterparties WHERE id = ?", oid)
    assert journal(store, head) == [("counterparties", oid, "D", None)]
    assert store.get("counterparties", oid) is None


def test_organizations_journal_themselves_as_their_organization(store: Store, sql: Sql) -> None:
    oid = new_id()
    sql("INSERT INTO organizations(id, name) VALUES (?, 'Org')", oid)
    head = store.head()
    sql("DELETE FROM organizations WHERE id = ?", oid)
    assert journal(store, head) == [("organizations", oid, "D", oid)]


def test_a_write_of_many_rows_journals_each(store: Store, sql: Sql) -> None:
    ids = sorted(new_id() for _ in range(5))
    for i, oid in enumerate(ids):
        sql("INSERT INTO items(id, code, name) VALUES (?, ?, 'Thing')", oid, f"P-{i}")
    head = store.head()
    sql("UPDATE items SET price = 2.5")
    assert sorted(journal(store, head)) == [("items", oid, "U", None) for oid in ids]
    head = store.head()
    sql("DELETE FROM items")
    assert sorted(journal(store, head)) == [("items", oid, "D", None) for oid in ids]


def test_section_rows_journal_their_owner(store: Store, refs: Refs, sql: Sql) -> None:
    inv = new_id()
    sql("INSERT INTO sales_invoices(id, number, date, organization, counterparty) "
        "VALUES (?, 'S-1', '2024-01-05', ?, ?)", inv, refs.org_a, refs.counterparty)
    head = store.head()
    sql("INSERT INTO sales_invoices_lines(owner, line_no, item, quantity) VALUES (?, 1, ?, 3)",
        inv, refs.item)
    assert journal(store, head) == [("sales_invoices", inv, "U", None)]
    head = store.head()
    sql("UPDATE sales_invoices_lines SET quantity = 4 WHERE owner = ?", inv)
    assert journal(store, head) == [("sales_invoices", inv, "U", None)]
    lines = store.require("sales_invoices", inv)["fields"]["lines"]
    assert lines == [{"item": refs.item, "quantity": 4.0, "price": None, "amount": None}]
    head = store.head()
    sql("DELETE FROM sales_invoices_lines WHERE owner = ?", inv)
    assert journal(store, head) == [("sales_invoices", inv, "U", None)]
    assert store.require("sales_invoices", inv)["fields"]["lines"] == []


def test_moving_a_line_to_another_document_journals_both(
    store: Store, refs: Refs, sql: Sql
) -> None:
    a = store.put("sales_invoices", invoice_fields(refs, lines=1))["id"]
    b = store.put("sales_invoices", invoice_fields(refs, lines=0))["id"]
    head = store.head()
    sql("UPDATE sales_invoices_lines SET owner = ? WHERE owner = ?", b, a)
    assert sorted(journal(store, head)) == sorted(
        [("sales_invoices", a, "U", None), ("sales_invoices", b, "U", None)]
    )


def test_deleting_a_document_deletes_its_lines_and_ends_with_a_delete(
    store: Store, refs: Refs, sql: Sql
) -> None:
    inv = store.put("sales_invoices", invoice_fields(refs, lines=3))["id"]
    other = store.put("sales_invoices", invoice_fields(refs, lines=2))["id"]
    head = store.head()
    sql("DELETE FROM sales_invoices WHERE id = ?", inv)
    rows = journal(store, head)
    assert {(e, i) for e, i, _, _ in rows} == {("sales_invoices", inv)}
    assert rows[-1] == ("sales_invoices", inv, "D", refs.org_a)  # the newest row is the delete
    assert store.scalar("SELECT count(*) FROM sales_invoices_lines WHERE owner = ?", (inv,)) == 0
    assert len(store.require("sales_invoices", other)["fields"]["lines"]) == 2
    assert last_op(store, "sales_invoices", inv) == ("D", refs.org_a)


def test_moving_a_document_to_another_organization_records_the_old_one(
    store: Store, refs: Refs, sql: Sql
) -> None:
    inv = store.put("sales_invoices", invoice_fields(refs))["id"]
    head = store.head()
    sql("UPDATE sales_invoices SET total = 99 WHERE id = ?", inv)
    assert journal(store, head) == [("sales_invoices", inv, "U", None)]
    head = store.head()
    sql("UPDATE sales_invoices SET organization = ? WHERE id = ?", refs.org_b, inv)
    assert journal(store, head) == [("sales_invoices", inv, "U", refs.org_a)]
    assert store.require("sales_invoices", inv)["org"] == refs.org_b


def test_changing_an_id_records_a_delete_of_the_old_one(store: Store, sql: Sql) -> None:
    old, new = new_id(), new_id()
    sql("INSERT INTO counterparties(id, code, name) VALUES (?, 'K-9', 'Acme')", old)
    head = store.head()
    sql("UPDATE counterparties SET id = ? WHERE id = ?", new, old)
    assert sorted(journal(store, head)) == sorted(
        [("counterparties", new, "U", None), ("counterparties", old, "D", None)]
    )
    assert last_op(store, "counterparties", old) == ("D", None)
    org_old, org_new = new_id(), new_id()
    sql("INSERT INTO organizations(id, name) VALUES (?, 'Org')", org_old)
    sql("UPDATE organizations SET id = ? WHERE id = ?", org_new, org_old)
    assert last_op(store, "organizations", org_old) == ("D", org_old)


def test_numbers_left_empty_are_assigned_in_sequence(store: Store, sql: Sql) -> None:
    a, b, c, d, e = (new_id() for _ in range(5))
    sql("INSERT INTO counterparties(id, name) VALUES (?, 'A')", a)
    sql("INSERT INTO counterparties(id, code, name) VALUES (?, NULL, 'B')", b)
    sql("INSERT INTO counterparties(id, code, name) VALUES (?, '', 'C')", c)
    sql("INSERT INTO counterparties(id, code, name) VALUES (?, 'MINE-7', 'D')", d)
    sql("INSERT INTO counterparties(id, name) VALUES (?, 'E')", e)
    assert [code_of(store, x) for x in (a, b, c, d, e)] == [
        "AB-000001", "AB-000002", "AB-000003", "MINE-7", "AB-000004",
    ]
    # the insert and the numbering's update, in the order SQLite fires the two triggers
    # (op is informational: sync reads the object's current state)
    assert sorted(journal(store)[:2]) == [("counterparties", a, "I", None),
                                          ("counterparties", a, "U", None)]
    assert [(i, op) for _, i, op, _ in journal(store)[6:7]] == [(d, "I")]  # given: one row
    # each entity counts on its own
    item = new_id()
    sql("INSERT INTO items(id, name) VALUES (?, 'Thing')", item)
    assert store.scalar("SELECT code FROM items WHERE id = ?", (item,)) == "AB-000001"


def test_an_update_to_an_empty_number_is_left_alone(store: Store, sql: Sql) -> None:
    oid = new_id()
    sql("INSERT INTO counterparties(id, code, name) VALUES (?, 'K-1', 'A')", oid)
    sql("UPDATE counterparties SET code = '' WHERE id = ?", oid)
    assert code_of(store, oid) == ""


def test_numbering_through_the_object_api(store: Store, refs: Refs) -> None:
    # make_refs created one counterparty and one item, numbered 1
    assert store.require("counterparties", refs.counterparty)["fields"]["code"] == "AB-000001"
    given = store.put("counterparties", {"name": "G", "code": "OWN-1"})
    blank = store.put("counterparties", {"name": "B", "code": ""})
    none = store.put("counterparties", {"name": "N", "code": None})
    assert [o["fields"]["code"] for o in (given, blank, none)] == ["OWN-1", "AB-000002",
                                                                     "AB-000003"]
    inv = store.put("sales_invoices", invoice_fields(refs))
    pay = store.put("payments", {"date": "2024-01-01", "organization": refs.org_a,
                                 "counterparty": refs.counterparty, "amount": 5})
    assert (inv["fields"]["number"], pay["fields"]["number"]) == ("AB-000001", "AB-000001")
    # an update never renumbers
    again = store.put("counterparties", {"name": "B2"}, id=blank["id"])
    assert again["fields"]["code"] == "AB-000002"


def test_the_prefix_comes_from_the_infobase(tmp_path: Any) -> None:
    from core import default_schema

    with Store.create(tmp_path / "ws.db", default_schema(), prefix="Z9") as ws:
        assert ws.prefix == "Z9"
        assert ws.put("items", {"name": "x"})["fields"]["code"] == "Z9-000001"


def test_object_api_writes_are_journaled_too(store: Store, refs: Refs) -> None:
    head = store.head()
    inv = store.put("sales_invoices", invoice_fields(refs, lines=2))["id"]
    assert {(e, i) for e, i, _, _ in journal(store, head)} == {("sales_invoices", inv)}
    head = store.head()
    store.put("sales_invoices", {"organization": refs.org_b}, id=inv)
    assert journal(store, head) == [("sales_invoices", inv, "U", refs.org_a)]
    head = store.head()
    assert store.delete("sales_invoices", inv)
    assert journal(store, head)[-1] == ("sales_invoices", inv, "D", refs.org_b)


def times(store: Store, after: int) -> list[tuple[str, bool]]:
    """(op, has a time) of every journal row after `after`, in order."""
    return [(str(op), at is not None) for op, at in store.conn.execute(
        "SELECT op, at FROM _journal WHERE seq > ? ORDER BY seq", (after,))]


def test_which_raw_changes_carry_their_time(store: Store, refs: Refs, sql: Sql) -> None:
    oid = new_id()
    head = store.head()
    sql("INSERT INTO counterparties(id, code, name) VALUES (?, 'K-1', 'Acme')", oid)
    sql("UPDATE counterparties SET name = 'Acme Ltd' WHERE id = ?", oid)
    sql("UPDATE counterparties SET code = 'K-2' WHERE id = ?", oid)
    sql("UPDATE counterparties SET code = 'K-3', tax_id = '77' WHERE id = ?", oid)
    sql("DELETE FROM counterparties WHERE id = ?", oid)
    # the insert and the number alone without (see core/ddl.py); both fields: a timed row too
    rows = times(store, head)
    assert rows[:3] == [("I", False), ("U", True), ("U", False)]
    assert sorted(rows[3:5]) == [("U", False), ("U", True)]
    assert rows[5:] == [("D", True)]
    inv = store.put("sales_invoices", invoice_fields(refs, lines=0))["id"]
    head = store.head()
    sql("INSERT INTO sales_invoices_lines(owner, line_no, item, quantity) VALUES (?, 1, ?, 3)",
        inv, refs.item)
    sql("UPDATE sales_invoices_lines SET quantity = 4 WHERE owner = ?", inv)
    sql("DELETE FROM sales_invoices_lines WHERE owner = ?", inv)
    assert times(store, head) == [("U", False), ("U", True), ("U", True)]


def test_a_change_through_the_object_api_always_carries_its_time(
    store: Store, refs: Refs
) -> None:
    cp = store.put("counterparties", {"name": "Acme", "code": "K-1"})["id"]
    head = store.head()
    store.put("counterparties", {"code": "K-2"}, id=cp)
    inv = store.put("sales_invoices", invoice_fields(refs, lines=0))["id"]
    between = store.head()
    store.put("sales_invoices", {"lines": invoice_fields(refs, lines=2)["lines"]}, id=inv)
    assert times(store, head)[0] == ("U", True)
    assert times(store, between) == [("U", True), ("U", True)]


def test_a_failed_statement_keeps_what_it_wrote_before_with_its_journal(
    store: Store, sql: Sql
) -> None:
    a, b = new_id(), new_id()
    head = store.head()
    with pytest.raises((sqlite3.IntegrityError, apsw.ConstraintError)):
        sql("INSERT INTO items(id, code, name) VALUES (?, 'P-1', 'x'), (?, 'P-2', 'y'), "
            "(?, 'P-3', 'z')", a, b, a)
    # ON CONFLICT FAIL: the rows before the duplicate stay, and so do their journal rows
    assert store.scalar("SELECT group_concat(code) FROM items") == "P-1,P-2"
    assert journal(store, head) == [("items", a, "I", None), ("items", b, "I", None)]


def test_a_failed_statement_is_undone_with_its_transaction(store: Store) -> None:
    other = apsw.Connection(str(store.path))
    head, a = store.head(), new_id()
    other.execute("BEGIN")
    with pytest.raises(apsw.ConstraintError):
        other.execute("INSERT INTO items(id, code, name) VALUES (?, 'P-1', 'x'), (?, 'P-1', 'x')",
                      (a, a))
    other.execute("ROLLBACK")
    other.close()
    assert store.scalar("SELECT count(*) FROM items") == 0
    assert journal(store, head) == []
