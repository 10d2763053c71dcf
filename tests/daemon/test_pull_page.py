"""A pulled page read key by key across the page writes exactly what one read change by change
writes: the same puts, deletes and versions, or it is read change by change."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.schema import default_schema
from daemon.sync.pull import read_alike, read_each

ENTITIES = default_schema().entities
IDS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(6)]  # few: ids repeat, and are pending


def _change(entity: str, oid: str, version: int) -> dict[str, Any]:
    return {"entity": entity, "id": oid, "op": "put", "version": version,
            "fields": {"code": f"C-{version}", "name": f"Made {version}", "tax_id": None}}


# What one change of a page may become: the usual, or one thing about it otherwise.
_twists = st.sampled_from([
    None, None, None, None, "other entity", "delete", "delete without fields", "no fields key",
    "fields none", "fields empty", "version text", "version none", "version true",
    "version float", "no version", "entity unknown", "entity number", "id number", "no id",
    "not an object",
])


def _twist(ch: dict[str, Any], twist: str | None) -> Any:
    changes: dict[str | None, Any] = {
        None: ch,
        "other entity": {**ch, "entity": "items"},
        "delete": {**ch, "op": "delete"},
        "delete without fields": {k: v for k, v in ch.items() if k != "fields"} | {"op": "delete"},
        "no fields key": {k: v for k, v in ch.items() if k != "fields"},
        "fields none": {**ch, "fields": None},
        "fields empty": {**ch, "fields": {}},
        "version text": {**ch, "version": "7"},
        "version none": {**ch, "version": None},
        "version true": {**ch, "version": True},
        "version float": {**ch, "version": 7.0},
        "no version": {k: v for k, v in ch.items() if k != "version"},
        "entity unknown": {**ch, "entity": "planets"},
        "entity number": {**ch, "entity": 3},
        "id number": {**ch, "id": 3},
        "no id": {k: v for k, v in ch.items() if k != "id"},
        "not an object": ["counterparties", ch["id"]],
    }
    return changes[twist]


@settings(max_examples=600, deadline=None)
@given(plan=st.lists(st.tuples(st.sampled_from(IDS), _twists), max_size=8),
       pending=st.sets(st.sampled_from(IDS), max_size=2))
def test_a_page_reads_the_same_across_it_or_change_by_change(
    plan: list[tuple[str, str | None]], pending: set[str],
) -> None:
    page = [_twist(_change("counterparties", oid, n), twist)
            for n, (oid, twist) in enumerate(plan, 1)]
    fast = read_alike(ENTITIES, page, pending)
    if fast is not None:
        assert fast == read_each(ENTITIES, page, pending)
    twists = {t for _, t in plan}
    usual = (bool(plan) and twists <= {None, "fields empty", "other entity"}
             and len({t == "other entity" for t in twists}) == 1  # puts of one entity
             and pending.isdisjoint(i for i, _ in plan))
    assert (fast is not None) == usual  # the usual page is read across, and only it


def test_a_usual_page_writes_each_object_once_as_given_last_with_every_version() -> None:
    page = [_change("counterparties", IDS[0], 1), _change("counterparties", IDS[1], 2),
            _change("counterparties", IDS[0], 3)]
    read = read_alike(ENTITIES, page, set())
    assert read is not None
    assert [oid for oid, _ in read.puts["counterparties"]] == [IDS[0], IDS[1], IDS[0]]
    assert read.versions == [(IDS[0], 1, False, None), (IDS[1], 2, False, None),
                             (IDS[0], 3, False, None)]
