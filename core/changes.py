"""Reading changes out of a journal, coalesced per object, in the shape sync sends them.

A change is `{"entity", "id", "op": "put"|"delete", "version", "fields"?}`: only the newest
state of an object matters, so however many times an object changed in a window, it travels
once, whole (a document with its lines).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, NamedTuple

from core.ddl import q
from core.filters import Scope
from core.schema import Entity, Field
from core.store import Store

Change = dict[str, Any]


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


def pull_window(
    store: Store, after: int, limit: int, scope: Scope | None, *, skip_origin: str | None
) -> tuple[list[Change], int]:
    """The changes after `after` that a node with `scope` should receive, and the last seq read.

    Reads a window of at most `limit` journal rows. Coalescing (newest row per object) and the
    join with each entity's table happen in SQL, so the per-object work left in Python is
    building its dict. Objects whose newest change came from `skip_origin` are left out: that
    node has them. A document that left the scope (moved to another organization, or deleted)
    travels as a delete to the nodes that carried it.
    """
    upto = store.scalar(
        "SELECT seq FROM _journal WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?",
        (after, max(limit, 1) - 1),
    )
    if upto is None:
        upto = store.head()
    found: list[tuple[int, Change]] = []
    for e in store.schema.entities.values():
        found.extend(_entity_window(store, e, after, int(upto), scope, skip_origin))
    found.sort(key=lambda pair: pair[0])
    return [c for _, c in found], max(int(upto), after)


def _entity_window(
    store: Store, e: Entity, after: int, upto: int, scope: Scope | None, skip: str | None
) -> list[tuple[int, Change]]:
    cols = ", ".join(f"t.{q(f.name)}" for f in e.fields)
    rows: list[Any] = store.conn.execute(  # objects last changed by `skip` go no further
        "WITH w AS (SELECT max(seq) AS s, id, origin AS o, group_concat(org, ' ') AS orgs "
        "FROM _journal WHERE seq > ?2 AND seq <= ?3 AND entity = ?4 GROUP BY id) "
        f"SELECT w.s, w.id, w.orgs, v.version, t.id IS NOT NULL, {cols} FROM w "
        f"LEFT JOIN {q(e.table)} t ON t.id = w.id LEFT JOIN _versions v ON v.id = w.id "
        "WHERE ?1 IS NULL OR w.o IS NOT ?1",
        (skip, after, upto, e.name),
    ).fetchall()
    names = [f.name for f in e.fields]
    bools = [i for i, f in enumerate(e.fields) if f.type == "boolean"]
    org_at = names.index(e.org_field) if e.org_field else -1
    own_org = e.organization == "self"
    everything = scope is None or e.shared  # every object of `e` belongs on the node

    def carried(orgs: Any) -> bool:  # the node had it: one of its past organizations is its own
        return scope is None or (
            orgs is not None and any(scope.receives(e, o) for o in str(orgs).split(" ")))

    out: list[tuple[int, Change]] = []
    puts: dict[str, dict[str, Any]] = {}
    name = e.name
    for row in rows:
        seq: int = row[0]
        oid: str = row[1]
        if row[4]:
            if bools:
                values = list(row[5:])
                for i in bools:
                    if values[i] is not None:
                        values[i] = bool(values[i])
                fields = dict(zip(names, values, strict=True))
            else:
                fields = dict(zip(names, row[5:], strict=True))
            org = oid if own_org else (fields[names[org_at]] if org_at >= 0 else None)
            if everything or scope.receives(e, org):  # type: ignore[union-attr]
                puts[oid] = fields
                out.append((seq, {"entity": name, "id": oid, "op": "put",
                                  "version": row[3] or 0, "org": org, "fields": fields}))
                continue
            gone = carried(row[2])  # it left the node's organizations: a delete where it was
        else:
            gone = e.shared or carried(row[2])
        if gone:
            out.append((seq, {"entity": name, "id": oid, "op": "delete", "version": row[3] or 0}))
    if e.sections and puts:
        _attach_sections(store, e, puts)
    return out


def _attach_sections(store: Store, e: Entity, puts: dict[str, dict[str, Any]]) -> None:
    ids = list(puts)
    for s in e.sections:
        for fields in puts.values():
            fields[s.name] = []
        names = [f.name for f in s.fields]
        bools = [i for i, f in enumerate(s.fields) if f.type == "boolean"]
        cols = ", ".join(q(n) for n in names)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for row in store.conn.execute(
                f"SELECT owner, {cols} FROM {q(s.table)} WHERE owner IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY owner, line_no", chunk,
            ):
                values = list(row[1:])
                for b in bools:
                    if values[b] is not None:
                        values[b] = bool(values[b])
                puts[row[0]][s.name].append(dict(zip(names, values, strict=True)))


class Outgoing(NamedTuple):
    """A window of local changes to send: the changes as one JSON array, ready for the wire
    and the outbox, and what recording the answer needs of each, in the same order."""

    body: str
    heads: list[Head]  # (id, entity, op) of each change
    upto: int  # the last journal position the window read


Head = tuple[str, str, str]


def outgoing_window(
    store: Store, limit: int, *, after: int = 0, leave_out: Collection[str] = ()
) -> Outgoing:
    """Up to `limit` journal rows' worth of local changes to send, in the order objects began.

    The window starts after journal row `after`, and objects in `leave_out` (a batch still in
    flight) stay out of it. An object refused by the cloud and not changed since stays out
    too (it is flagged, not lost). Each change carries the object's current state and `base`,
    the version last agreed on: `{"entity", "id", "op": "put"|"delete", "base", "at",
    "fields"?}`, a document's lines among its fields.

    SQLite writes each change's JSON (json_object): building dicts in Python and encoding
    them again took twice as long as the query itself, for a body that is only sent and kept.
    """
    eligible = "NOT EXISTS (SELECT 1 FROM _rejected r WHERE r.id = j.id AND r.seq >= j.seq)"
    upto = store.scalar(
        f"SELECT seq FROM _journal j WHERE seq > ? AND {eligible} ORDER BY seq LIMIT 1 OFFSET ?",
        (after, max(limit, 1) - 1),
    )
    if upto is None:
        upto = store.head()
    found: list[Any] = []
    for e in store.schema.entities.values():
        found.extend(store.conn.execute(
            f"WITH w AS (SELECT min(seq) AS s, id, max(at) AS at FROM _journal j "
            f"WHERE seq > ?1 AND seq <= ?2 AND entity = ?3 AND {eligible} GROUP BY id) "
            "SELECT w.s, w.id, ?3, iif(t.id IS NULL, 'delete', 'put'), json_object("
            "'entity', ?3, 'id', w.id, 'op', iif(t.id IS NULL, 'delete', 'put'), "
            "'base', coalesce(v.version, 0), "
            f"'at', w.at, 'fields', iif(t.id IS NULL, NULL, {_fields_json(e, 't')})) FROM w "
            f"LEFT JOIN {q(e.table)} t ON t.id = w.id LEFT JOIN _versions v ON v.id = w.id",
            (after, upto, e.name),
        ))
    found.sort(key=_first)
    if leave_out:  # their rows in the window stay in the journal, for a window after theirs
        out = set(leave_out)
        found = [r for r in found if r[1] not in out]
    return Outgoing("[" + ",".join([r[4] for r in found]) + "]",
                    [(r[1], r[2], r[3]) for r in found], int(upto))


def _first(row: Any) -> int:
    return int(row[0])


def _fields_json(e: Entity, alias: str) -> str:
    """SQL for the JSON object of an object's fields, its tabular sections' rows included."""
    parts = [_field_pair(f, alias) for f in e.fields]
    for s in e.sections:
        rows = ", ".join(_field_pair(f, "l") for f in s.fields)
        # json(): a subquery's value is plain text to json_object, which would quote it
        parts.append(f"'{s.name}', json((SELECT json_group_array(json_object({rows}) ORDER BY "
                     f"l.line_no) FROM {q(s.table)} l WHERE l.owner = {alias}.id))")
    return f"json_object({', '.join(parts)})"


def _field_pair(f: Field, alias: str) -> str:
    col = f"{alias}.{q(f.name)}"
    if f.type == "boolean":  # stored as 0/1, sent as false/true
        col = (f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN json('true') "
               "ELSE json('false') END")
    return f"'{f.name}', {col}"
