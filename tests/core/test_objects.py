"""The object API: put, get, list, count, delete, versions, and validation that names the field."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from core import NotFound, OutpostError, SchemaError, Store, ValidationError, parse_schema
from tests.core.helpers import Refs, invoice_fields, journal


def uid() -> str:
    return str(uuid.uuid4())


def test_put_returns_the_object_in_its_json_form(store: Store, refs: Refs) -> None:
    obj = store.put("sales_invoices", invoice_fields(refs, lines=2))
    assert set(obj) == {"id", "entity", "org", "version", "fields"}
    assert obj["entity"] == "sales_invoices" and obj["org"] == refs.org_a
    assert isinstance(obj["version"], int) and obj["version"] > 0
    assert obj["fields"] == {
        "number": "AB-000001", "date": "2024-03-01", "organization": refs.org_a,
        "counterparty": refs.counterparty, "total": 20.0, "posted": False,
        "lines": [{"item": refs.item, "quantity": 2.0, "price": 5.0, "amount": 10.0}] * 2,
    }
    assert store.get("sales_invoices", obj["id"]) == obj
    assert store.require("sales_invoices", obj["id"]) == obj


def test_absent_fields_are_null_and_catalogs_have_no_organization(store: Store) -> None:
    obj = store.put("items", {"name": "Bolt"})
    assert obj["org"] is None
    assert obj["fields"] == {"code": "AB-000001", "name": "Bolt", "unit": None, "price": None}
    org = store.put("organizations", {"name": "Org"})
    assert org["org"] == org["id"]


def test_put_with_a_chosen_id_and_uppercase_ids(store: Store) -> None:
    oid = uid()
    obj = store.put("counterparties", {"name": "A"}, id=oid.upper())
    assert obj["id"] == oid
    assert store.get("counterparties", oid.upper()) == obj


def test_get_of_a_missing_object(store: Store) -> None:
    missing = uid()
    assert store.get("counterparties", missing) is None
    with pytest.raises(NotFound, match=f"no counterparties with id {missing}"):
        store.require("counterparties", missing)


def test_list_objects_pages_by_id(store: Store) -> None:
    ids = sorted(store.put("counterparties", {"name": f"C{i}"})["id"] for i in range(7))
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = store.list_objects("counterparties", after=after, limit=3)
        if not page:
            break
        pages += 1
        assert len(page) <= 3
        seen.extend(o["id"] for o in page)
        after = page[-1]["id"]
    assert seen == ids and pages == 3
    assert [o["id"] for o in store.list_objects("counterparties")] == ids
    assert store.list_objects("counterparties", limit=0)[0]["id"] == ids[0]  # at least one
    assert store.count("counterparties") == 7


def test_list_objects_filters_documents_and_organizations_by_org(
    store: Store, refs: Refs
) -> None:
    a = {store.put("sales_invoices", invoice_fields(refs, org=refs.org_a))["id"] for _ in range(3)}
    b = {store.put("sales_invoices", invoice_fields(refs, org=refs.org_b))["id"] for _ in range(2)}
    assert {o["id"] for o in store.list_objects("sales_invoices", org=refs.org_a)} == a
    assert {o["id"] for o in store.list_objects("sales_invoices", org=refs.org_b)} == b
    assert store.count("sales_invoices", org=refs.org_a) == 3
    assert store.count("sales_invoices") == 5
    assert all(o["org"] == refs.org_b for o in store.list_objects("sales_invoices", org=refs.org_b))
    # an organization is its own organization
    assert [o["id"] for o in store.list_objects("organizations", org=refs.org_b)] == [refs.org_b]
    assert store.count("organizations", org=refs.org_a) == 1
    # shared catalogs belong to every organization
    assert store.count("counterparties", org=refs.org_a) == store.count("counterparties") == 1
    # an unknown organization has nothing
    assert store.list_objects("payments", org=uid()) == []


def test_list_objects_checks_its_arguments(store: Store) -> None:
    with pytest.raises(ValidationError, match="after must be a UUID"):
        store.list_objects("items", after="x")
    with pytest.raises(ValidationError, match="org must be a UUID"):
        store.list_objects("items", org="x")


def test_a_partial_update_keeps_the_absent_fields(store: Store) -> None:
    obj = store.put("counterparties", {"name": "Acme", "tax_id": "123"})
    again = store.put("counterparties", {"name": "Acme Ltd"}, id=obj["id"])
    assert again["fields"] == {"code": "AB-000001", "name": "Acme Ltd", "tax_id": "123"}
    cleared = store.put("counterparties", {"tax_id": None}, id=obj["id"])
    assert cleared["fields"]["tax_id"] is None and cleared["fields"]["name"] == "Acme Ltd"


def test_sections_are_replaced_when_given_and_kept_when_not(store: Store, refs: Refs) -> None:
    inv = store.put("sales_invoices", invoice_fields(refs, lines=3))
    oid = inv["id"]
    kept = store.put("sales_invoices", {"total": 1.5}, id=oid)
    assert kept["fields"]["lines"] == inv["fields"]["lines"]
    one = [{"item": refs.item, "quantity": 7, "price": None, "amount": None}]
    replaced = store.put("sales_invoices", {"lines": one}, id=oid)
    assert replaced["fields"]["lines"] == [{"item": refs.item, "quantity": 7.0, "price": None,
                                            "amount": None}]
    assert store.scalar("SELECT line_no FROM sales_invoices_lines WHERE owner = ?", (oid,)) == 1
    emptied = store.put("sales_invoices", {"lines": []}, id=oid)
    assert emptied["fields"]["lines"] == []


def test_a_put_that_changes_nothing_writes_nothing(store: Store, refs: Refs) -> None:
    inv = store.put("sales_invoices", invoice_fields(refs, lines=2))
    head = store.head()
    same = dict(inv["fields"])
    same["total"] = 20  # the same number as an integer
    again = store.put("sales_invoices", same, id=inv["id"])
    assert again == inv
    assert store.put("sales_invoices", {}, id=inv["id"]) == inv
    assert store.head() == head


def test_versions_increase_with_each_change(store: Store, refs: Refs) -> None:
    v1 = store.put("counterparties", {"name": "A"})
    v2 = store.put("counterparties", {"name": "B"}, id=v1["id"])
    v3 = store.put("counterparties", {"name": "B"}, id=v1["id"])
    assert v1["version"] < v2["version"] == v3["version"]
    assert v2["version"] == store.head()
    inv = store.put("sales_invoices", invoice_fields(refs))
    lines_only = store.put("sales_invoices", {"lines": []}, id=inv["id"])
    assert lines_only["version"] > inv["version"]


def test_delete(store: Store, refs: Refs) -> None:
    inv = store.put("sales_invoices", invoice_fields(refs, lines=2))["id"]
    assert store.delete("sales_invoices", inv) is True
    assert store.get("sales_invoices", inv) is None
    assert store.scalar("SELECT count(*) FROM sales_invoices_lines") == 0
    head = store.head()
    assert store.delete("sales_invoices", inv) is False
    assert store.delete("items", uid()) is False
    assert store.head() == head


def test_puts_inside_one_transaction_are_all_or_nothing(store: Store) -> None:
    with pytest.raises(ValidationError), store.write():
        store.put_row("items", {"name": "one"})
        store.put_row("items", {"name": 2})
    assert store.count("items") == 0 and store.head() == 0
    with store.write():
        store.put_row("items", {"name": "one"})
        with pytest.raises(ValidationError):
            store.put_row("items", {"name": 2})  # a failed put inside leaves the others
    assert store.count("items") == 1


# -- validation --------------------------------------------------------------------------------

CUSTOM = """
format = 1
name = "t"
version = 1
[entities.orgs]
kind = "catalog"
organization = "self"
fields = [{ name = "name", type = "string", max_length = 5 },
          { name = "staff", type = "integer" }, { name = "open", type = "boolean" }]
"""


def test_integer_fields(tmp_path: Path) -> None:
    with Store.create(tmp_path / "t.db", parse_schema(CUSTOM)) as store:
        obj = store.put("orgs", {"staff": 12, "open": True})
        assert obj["fields"] == {"name": None, "staff": 12, "open": True}
        for bad, words in [(1.5, "expected an integer, got float"),
                           (True, "expected an integer, got bool"),
                           ("3", "expected an integer, got str"),
                           (2**63, "integer out of range")]:
            with pytest.raises(ValidationError, match=words) as err:
                store.put("orgs", {"staff": bad})
            assert err.value.field == "staff" and str(err.value).startswith("orgs.staff: ")
        with pytest.raises(ValidationError, match="longer than 5 characters"):
            store.put("orgs", {"name": "abcdef"})
        assert store.count("orgs") == 1


def bad_puts(refs: Refs) -> list[tuple[str, str, dict[str, Any], str, str]]:
    """(case, entity, fields, the field named, words of the message)"""
    inv = invoice_fields(refs)
    line = {"item": refs.item, "quantity": 1}
    missing = uid()
    return [
        ("unknown field", "counterparties", {"name": "A", "colour": "red"}, "colour",
         "unknown field (fields of counterparties: code, name, tax_id)"),
        ("string as number", "counterparties", {"name": 5}, "name",
         "expected a string, got int"),
        ("too long", "counterparties", {"name": "x" * 201}, "name", "longer than 200"),
        ("number as text", "items", {"name": "A", "price": "5"}, "price",
         "expected a number, got str"),
        ("number as bool", "items", {"name": "A", "price": True}, "price",
         "expected a number, got bool"),
        ("number not finite", "items", {"name": "A", "price": float("nan")}, "price",
         "expected a finite number"),
        ("boolean as int", "sales_invoices", {**inv, "posted": 1}, "posted",
         "expected true or false, got int"),
        ("date as int", "sales_invoices", {**inv, "date": 20240101}, "date",
         "expected a date as YYYY-MM-DD"),
        ("impossible date", "sales_invoices", {**inv, "date": "2024-02-30"}, "date",
         "got '2024-02-30'"),
        ("date not padded", "sales_invoices", {**inv, "date": "2024-3-1"}, "date",
         "got '2024-3-1'"),
        ("date compact", "sales_invoices", {**inv, "date": "20240301"}, "date",
         "got '20240301'"),
        ("ref not a uuid", "sales_invoices", {**inv, "counterparty": "acme"}, "counterparty",
         "a reference must be a UUID"),
        ("ref as number", "sales_invoices", {**inv, "counterparty": 7}, "counterparty",
         "a reference must be a UUID"),
        ("ref to a missing object", "sales_invoices", {**inv, "counterparty": missing},
         "counterparty", f"no counterparties with id {missing}"),
        ("ref to another entity", "sales_invoices", {**inv, "counterparty": refs.item},
         "counterparty", f"no counterparties with id {refs.item}"),
        ("missing required", "sales_invoices", {k: v for k, v in inv.items() if k != "date"},
         "date", "is required"),
        ("required set to null", "sales_invoices", {**inv, "organization": None},
         "organization", "is required"),
        ("section not a list", "sales_invoices", {**inv, "lines": {"item": refs.item}}, "lines",
         "a tabular section must be a list of rows"),
        ("row not an object", "sales_invoices", {**inv, "lines": [line, 5]}, "lines[1]",
         "each row must be a JSON object"),
        ("unknown row field", "sales_invoices", {**inv, "lines": [{**line, "vat": 1}]},
         "lines[0].vat", "unknown field (fields: item, quantity, price, amount)"),
        ("row field type", "sales_invoices", {**inv, "lines": [line, {**line, "quantity": "1"}]},
         "lines[1].quantity", "expected a number, got str"),
        ("row required field", "sales_invoices", {**inv, "lines": [{"item": refs.item}]},
         "lines[0].quantity", "is required"),
        ("row ref to a missing object", "sales_invoices",
         {**inv, "lines": [line, {**line, "item": missing}]}, "lines[1].item",
         f"no items with id {missing}"),
    ]


CASES = [c[0] for c in bad_puts(Refs("", "", "", ""))]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_put_names_the_field_and_writes_nothing(
    store: Store, refs: Refs, case: str
) -> None:
    _, entity, fields, field, words = next(c for c in bad_puts(refs) if c[0] == case)
    existing = store.put("sales_invoices", invoice_fields(refs))
    before = (store.head(), journal(store), store.count(entity))
    with pytest.raises(ValidationError) as err:
        store.put(entity, fields)
    assert err.value.field == field and err.value.entity == entity
    assert str(err.value).startswith(f"{entity}.{field}: ")
    assert words in str(err.value)
    assert err.value.status == 422 and "\n" not in str(err.value)
    # an update fails the same way (a field left out of an update keeps its value)
    if entity == "sales_invoices" and case != "missing required":
        with pytest.raises(ValidationError):
            store.put(entity, fields, id=existing["id"])
        assert store.require(entity, existing["id"]) == existing
    assert (store.head(), journal(store), store.count(entity)) == before


def test_fields_must_be_an_object(store: Store) -> None:
    with pytest.raises(ValidationError, match="counterparties: 'fields' must be a JSON object"):
        store.put("counterparties", ["name", "A"])


@pytest.mark.parametrize("bad", ["42", "not-a-uuid", "{8c0d2f7e-0000-4000-8000-000000000000}", 5])
def test_an_id_must_be_a_uuid(store: Store, bad: Any) -> None:
    for call in (lambda: store.put("items", {"name": "A"}, id=bad),
                 lambda: store.get("items", bad), lambda: store.delete("items", bad)):
        with pytest.raises(ValidationError, match="id must be a UUID"):
            call()
    assert store.head() == 0


def test_an_unknown_entity_is_named(store: Store) -> None:
    for call in (lambda: store.put("invoices", {}), lambda: store.get("invoices", uid()),
                 lambda: store.list_objects("invoices"), lambda: store.delete("invoices", uid())):
        with pytest.raises(SchemaError, match="unknown entity 'invoices'") as err:
            call()
        assert isinstance(err.value, OutpostError)
    assert store.head() == 0
