"""Reading changes out of a journal, coalesced per object, in the shape sync sends them.

A change is `{"entity", "id", "op": "put"|"delete", "version", "fields"?}`: only the newest
state of an object matters, so however many times an object changed in a window, it travels
once, whole (a document with its lines).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.filters import Scope
from core.store import Store

Change = dict[str, Any]


@dataclass
class Touched:
    """What the journal says about one object within a window."""

    entity: str
    id: str
    seq: int  # its newest row
    origin: str | None  # who made the newest change
    at: float | None
    old_orgs: set[str] = field(default_factory=set)  # organizations it had before moving/deleting


def scan(store: Store, after: int, max_rows: int) -> tuple[dict[tuple[str, str], Touched], int]:
    """Objects touched by the journal rows after `after` (at most `max_rows`); the last seq."""
    touched: dict[tuple[str, str], Touched] = {}
    last = after
    for seq, entity, oid, org, origin, at in store.conn.execute(
        "SELECT seq, entity, id, org, origin, at FROM _journal WHERE seq > ? ORDER BY seq LIMIT ?",
        (after, max_rows),
    ):
        last = seq
        t = touched.get((entity, oid))
        if t is None:
            t = touched[(entity, oid)] = Touched(entity, oid, seq, origin, at)
        else:
            t.seq, t.origin, t.at = seq, origin, at
        if org is not None:
            t.old_orgs.add(org)
    return touched, last


def versions_of(store: Store, ids: Iterable[str]) -> dict[str, tuple[int, bool, float | None]]:
    """(version, deleted, at) recorded for each id that has one."""
    out: dict[str, tuple[int, bool, float | None]] = {}
    chunk: list[str] = []
    for oid in ids:
        chunk.append(oid)
        if len(chunk) == 500:
            out.update(_versions_chunk(store, chunk))
            chunk = []
    if chunk:
        out.update(_versions_chunk(store, chunk))
    return out


def _versions_chunk(store: Store, ids: list[str]) -> dict[str, tuple[int, bool, float | None]]:
    marks = ", ".join("?" * len(ids))
    return {
        r[0]: (int(r[1]), bool(r[2]), r[3])
        for r in store.conn.execute(
            f"SELECT id, version, deleted, at FROM _versions WHERE id IN ({marks})", ids
        )
    }


def changes_for(
    store: Store, touched: Iterable[Touched], scope: Scope | None, *, skip_origin: str | None
) -> list[Change]:
    """The changes a node with `scope` should receive for `touched` objects, in journal order.

    Objects whose newest change came from `skip_origin` are left out: that node has them.
    A document that left the scope (moved to another organization, or deleted) travels as a
    delete to the nodes that carried it.
    """
    wanted = [t for t in touched if skip_origin is None or t.origin != skip_origin]
    wanted.sort(key=lambda t: t.seq)
    by_entity: dict[str, list[str]] = {}
    for t in wanted:
        by_entity.setdefault(t.entity, []).append(t.id)
    current: dict[tuple[str, str], dict[str, Any]] = {}
    for entity, ids in by_entity.items():
        if entity not in store.schema.entities:
            continue
        for oid, found in store.get_many(entity, ids).items():
            current[(entity, oid)] = found
    gone = [t.id for t in wanted if (t.entity, t.id) not in current]
    tomb = versions_of(store, gone)
    out: list[Change] = []
    for t in wanted:
        if t.entity not in store.schema.entities:
            continue
        e = store.schema.entity(t.entity)
        obj: dict[str, Any] | None = current.get((t.entity, t.id))
        carried = scope is None or any(scope.receives(e, o) for o in t.old_orgs)
        if obj is not None and (scope is None or scope.receives(e, obj["org"])):
            out.append({
                "entity": t.entity, "id": t.id, "op": "put", "version": obj["version"],
                "org": obj["org"], "fields": obj["fields"],
            })
        elif obj is not None and carried:
            out.append({"entity": t.entity, "id": t.id, "op": "delete",
                        "version": obj["version"]})
        elif obj is None and (e.shared or carried):
            v = tomb.get(t.id)
            out.append({"entity": t.entity, "id": t.id, "op": "delete",
                        "version": v[0] if v else 0})
    return out
