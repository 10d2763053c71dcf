"""A pushed batch checked key by key across the batch reads exactly as one read change by
change: the same changes, or the same error."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.sync.incoming import Parsed, _parse_each, _read_ahead, parse_changes
from core.errors import ValidationError
from core.schema import default_schema

SCHEMA = default_schema()


def _change(entity: str, n: int) -> dict[str, Any]:
    fields: dict[str, Any] = {"code": f"C-{n}", "name": f"Made {n}", "tax_id": None}
    if entity == "items":
        fields = {"code": f"I-{n}", "name": f"Item {n}", "unit": "pcs", "price": n / 2}
    return {"entity": entity, "id": str(uuid.uuid4()), "op": "put", "base": 0, "at": None,
            "fields": fields}


# What one change of a batch may become: the usual, or one thing about it otherwise.
_twists = st.sampled_from([
    None, None, None, "delete", "unknown op", "no base", "base -1", "base true", "base 2",
    "at int", "at float", "at true", "at text", "id upper", "id twice", "id bad", "no id",
    "entity unknown", "entity number", "fields none", "fields list", "field missing",
    "field extra", "field wrong", "not an object", "no fields key", "name too long",
])


def _twist(batch: list[Any], i: int, twist: str | None) -> None:
    ch = batch[i]
    if twist is None:
        return
    if twist == "delete":
        ch["op"] = "delete"
    elif twist == "unknown op":
        ch["op"] = "patch"
    elif twist == "no base":
        del ch["base"]
    elif twist.startswith("base"):
        ch["base"] = {"base -1": -1, "base true": True, "base 2": 2}[twist]
    elif twist.startswith("at"):
        ch["at"] = {"at int": 1700000000, "at float": 1.5, "at true": True, "at text": "x"}[twist]
    elif twist == "id upper":
        ch["id"] = ch["id"].upper()
    elif twist == "id twice" and i > 0 and isinstance(batch[0], dict) and "id" in batch[0]:
        ch["id"] = batch[0]["id"]
    elif twist == "id bad":
        ch["id"] = "not-an-id"
    elif twist == "no id":
        del ch["id"]
    elif twist == "entity unknown":
        ch["entity"] = "spaceships"
    elif twist == "entity number":
        ch["entity"] = 7
    elif twist == "fields none":
        ch["fields"] = None
    elif twist == "fields list":
        ch["fields"] = [1]
    elif twist == "field missing":
        ch["fields"].pop("name")
    elif twist == "field extra":
        ch["fields"]["colour"] = "red"
    elif twist == "field wrong":
        ch["fields"]["name"] = 12
    elif twist == "not an object":
        batch[i] = [ch["id"]]
    elif twist == "no fields key":
        del ch["fields"]
    elif twist == "name too long":
        ch["fields"]["code"] = "x" * 40


def _read_each(changes: list[Any]) -> Parsed:
    try:
        read = _parse_each(SCHEMA, changes)
    except ValidationError as exc:
        return Parsed([], exc)
    return Parsed(read, all_new=_read_ahead(read))


@settings(max_examples=600, deadline=None)
@given(plan=st.lists(st.tuples(st.sampled_from(["counterparties", "items"]), _twists),
                     max_size=6))
def test_a_batch_reads_the_same_checked_across_it_or_change_by_change(
    plan: list[tuple[str, str | None]],
) -> None:
    batch: list[Any] = [_change(entity, n) for n, (entity, _) in enumerate(plan)]
    for i, (_, twist) in enumerate(plan):
        _twist(batch, i, twist)
    fast, slow = parse_changes(SCHEMA, batch), _read_each(batch)
    assert fast.changes == slow.changes
    assert fast.all_new == slow.all_new  # read ahead as new objects alike, or not at all
    if fast.all_new is not None:
        e, objects = fast.all_new.entity, fast.all_new.objects
        assert fast.all_new.orgs == {e.org_of(i, f) for i, f in objects.items()}
    assert (fast.error and fast.error.message) == (slow.error and slow.error.message)


def test_a_usual_batch_is_read_whole_and_valid() -> None:
    batch = [_change("counterparties", n) for n in range(3)] + [_change("items", 9)]
    parsed = parse_changes(SCHEMA, batch)
    assert parsed.error is None
    assert [(c.entity.name, c.id, c.whole) for c in parsed.changes] == [
        (ch["entity"], ch["id"], True) for ch in batch]
