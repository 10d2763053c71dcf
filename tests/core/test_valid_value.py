"""The quick checks bulk paths use agree with the full validation: never more lenient."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from core.objects import (
    CANONICAL_ID,
    all_canonical,
    all_whole_and_valid,
    coerce_fields,
    coerce_value,
    valid_value,
    whole_and_valid,
)
from core.schema import Entity, Field, default_schema

SCHEMA = default_schema()
TYPES = ("string", "integer", "number", "boolean", "date", "ref")

values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()),
    st.dates().map(lambda d: d.isoformat()), st.just("2025-02-30"), st.just("2025-1-05"),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                         max_size=2),
)


def _accepts(f: Field, value: Any) -> tuple[bool, Any]:
    entity = SCHEMA.entity("items")
    try:
        return True, coerce_value(entity, f.name, f, value)
    except ValidationError:
        return False, None


@settings(max_examples=600, deadline=None)
@given(t=st.sampled_from(TYPES), max_length=st.sampled_from([None, 5]), value=values)
def test_a_value_valid_value_takes_is_one_coerce_value_takes_unchanged(
    t: str, max_length: int | None, value: Any
) -> None:
    f = Field(name="x", type=t, max_length=max_length if t == "string" else None)  # type: ignore[arg-type]
    ok, column = _accepts(f, value)
    if valid_value(f, value):
        assert ok
        assert column == (int(value) if t == "boolean" and value is not None else value)
    elif ok:  # the only value taken after a conversion: a UUID reference in upper case
        assert t == "ref" and isinstance(value, str) and column == value.lower()


def _invoice(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "number": "AB-000001", "date": "2025-03-01", "organization": str(uuid.uuid4()),
        "counterparty": str(uuid.uuid4()), "total": 10.5, "posted": False,
        "lines": [{"item": str(uuid.uuid4()), "quantity": 2, "price": 5.25, "amount": 10.5}],
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not _DROP}


_DROP = object()


@settings(max_examples=400, deadline=None)
@given(key=st.sampled_from(["number", "date", "organization", "counterparty", "total",
                            "posted", "lines", "extra"]),
       value=st.one_of(values, st.just(_DROP),
                       st.lists(st.dictionaries(st.sampled_from(["item", "quantity", "price",
                                                                 "amount", "bogus"]), values,
                                                max_size=4), max_size=2)))
def test_a_whole_and_valid_object_is_one_coerce_fields_takes(key: str, value: Any) -> None:
    entity = SCHEMA.entity("sales_invoices")
    fields = _invoice(**{key: value})
    if whole_and_valid(entity, fields):
        coerce_fields(entity, fields, existing=None)  # must not raise
        assert set(fields) == {f.name for f in entity.fields} | {s.name for s in entity.sections}


def test_whole_and_valid_says_no_to_what_is_missing_unknown_or_wrong() -> None:
    entity = SCHEMA.entity("sales_invoices")
    assert whole_and_valid(entity, _invoice())
    assert not whole_and_valid(entity, _invoice(total=_DROP))
    assert not whole_and_valid(entity, {**_invoice(), "colour": "red"})
    assert not whole_and_valid(entity, _invoice(date="2025-02-30"))
    assert not whole_and_valid(entity, _invoice(lines=[{"item": "nope", "quantity": 1}]))
    assert not whole_and_valid(entity, _invoice(lines=[{"quantity": 1, "bogus": 1}]))
    assert not whole_and_valid(entity, _invoice(posted=1))
    assert not whole_and_valid(entity, ["not", "an", "object"])


# ids close to canonical ones: right, upper case, a character changed, cut, lengthened, shifted
near_ids = st.one_of(
    st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()), st.uuids().map(lambda u: u.hex),
    st.tuples(st.uuids().map(str), st.integers(0, 35), st.sampled_from("-0aAgz \n\u00e9")).map(
        lambda t: t[0][:t[1]] + t[2] + t[0][t[1] + 1:]),
    st.uuids().map(lambda u: str(u)[:35]), st.uuids().map(lambda u: str(u) + "0"),
    st.uuids().map(lambda u: "-" + str(u)[:35]), st.integers(), st.none(),
    st.tuples(st.uuids().map(str), st.sampled_from([7, 8, 12, 13, 22, 23])).map(  # a dash moved
        lambda t: t[0][:t[1]] + t[0][t[1] + 1] + t[0][t[1]] + t[0][t[1] + 2:]),
)


@settings(max_examples=800, deadline=None)
@given(ids=st.lists(near_ids, max_size=6))
def test_all_canonical_agrees_with_the_canonical_pattern_id_by_id(ids: list[Any]) -> None:
    expected = all(isinstance(i, str) and CANONICAL_ID.fullmatch(i) is not None for i in ids)
    assert all_canonical(ids) == expected


def _good(f: Field) -> st.SearchStrategy[Any]:
    """Values `f` takes, mostly: the column check should meet valid batches as well as bad."""
    good = {
        "string": st.text(max_size=(f.max_length or 8) + 1), "integer": st.integers(-5, 5),
        "number": st.one_of(st.integers(-(2**64), 2**64), st.floats()), "boolean": st.booleans(),
        "date": st.dates().map(lambda d: d.isoformat()), "ref": st.uuids().map(str),
    }[f.type]
    return st.one_of(good, st.none()) if not f.required else good


@st.composite
def _objects_of(draw: st.DrawFn, entity: Entity) -> dict[str, Any]:
    fields = {f.name: draw(st.one_of(_good(f), _good(f), _good(f), values)) for f in entity.fields}
    fields.update({s.name: [] for s in entity.sections})
    if draw(st.integers(0, 9)) == 0:
        fields.pop(draw(st.sampled_from(sorted(fields))))
    if draw(st.integers(0, 9)) == 0:
        fields["colour"] = "red"
    return fields


@settings(max_examples=500, deadline=None)
@given(data=st.data(), name=st.sampled_from(["counterparties", "items", "payments",
                                              "organizations", "sales_invoices"]))
def test_the_column_check_agrees_with_whole_and_valid_object_by_object(
    data: st.DataObject, name: str
) -> None:
    entity = SCHEMA.entity(name)
    many = data.draw(st.lists(_objects_of(entity), min_size=1, max_size=4))
    each = all(whole_and_valid(entity, f) for f in many)
    if entity.sections:  # objects with lines are always checked one by one
        assert not all_whole_and_valid(entity, many)
    else:
        assert all_whole_and_valid(entity, many) == each
