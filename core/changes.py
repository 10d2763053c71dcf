"""Reading changes out of a journal, coalesced per object, as the JSON sync sends.

A pulled change is `{"entity", "id", "op": "put"|"delete", "version", "org"?, "fields"?}`, a
pushed one names its `base` and `at` instead of the version: only the newest state of an object
matters, so however many times an object changed in a window, it travels once, whole (a
document with its lines). SQLite writes each change's JSON (`json_object`): building a dict per
change in Python and encoding it cost more than the query that read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from core.ddl import q
from core.filters import Scope
from core.schema import Entity, Field
from core.store import Store


def pull_window(
    store: Store, after: int, limit: int, scope: Scope | None, *, skip_origin: str | None
) -> tuple[list[str], int]:
    """The changes after `after` that a node with `scope` should receive, each as its JSON
    text, and the last seq read.

    Reads a window of at most `limit` journal rows. The join with each entity's table and each
    change's JSON (`json_object`, as for pushes) happen in SQL, and so does coalescing (newest
    row per object) for a document; an object without lines is read row by row and coalesced
    here when it has more than one (`_flat_pull`). The per-object work left in Python is the
    scope's verdict. Objects whose newest change came from `skip_origin` are left out: that
    node has them. A document that left the scope (moved to another organization, or deleted)
    travels as a delete to the nodes that carried it.
    """
    if skip_origin is not None:
        # The node's own changes at the front go no further: stepped over in one scan rather
        # than grouped by object in windows that find nothing (after its push of 100,000).
        first = store.scalar("SELECT seq FROM _journal WHERE seq > ? AND origin IS NOT ? "
                             "ORDER BY seq LIMIT 1", (after, skip_origin))
        after = max(after, store.head() if first is None else int(first) - 1)
    upto = store.scalar(
        "SELECT seq FROM _journal WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?",
        (after, max(limit, 1) - 1),
    )
    if upto is None:
        upto = store.head()
    found: list[tuple[int, str]] = []
    entities = _entities_in(store, after, int(upto))
    for e in entities:
        found.extend(_entity_window(store, e, after, int(upto), scope, skip_origin))
    if len(entities) > 1:  # each entity's changes come in order: merged by it
        found.sort(key=itemgetter(0))
    return [c for _, c in found], max(int(upto), after)


# A change of a pull window, the newest of its object in the window, in order of that:
# (seq, id, organizations the object had on deletes and moves, version, exists, owner, JSON).
_Pulled = tuple[int, str, Any, int, int, Any, Any]


def _entity_window(
    store: Store, e: Entity, after: int, upto: int, scope: Scope | None, skip: str | None
) -> list[tuple[int, str]]:
    read = _flat_pull if not e.sections else _grouped_pull
    rows = read(store, e, after, upto, skip)  # objects last changed by `skip` go no further
    everything = scope is None or e.shared  # every object of `e` belongs on the node

    def carried(orgs: Any) -> bool:  # the node had it: one of its past organizations is its own
        return scope is None or (
            orgs is not None and any(scope.receives(e, o) for o in str(orgs).split(" ")))

    out: list[tuple[int, str]] = []
    for seq, oid, orgs, version, exists, owner, change in rows:
        if exists:
            if everything or scope.receives(e, owner):  # type: ignore[union-attr]
                out.append((seq, change))
                continue
            gone = carried(orgs)  # it left the node's organizations: a delete where it was
        else:
            gone = e.shared or carried(orgs)
        if gone:
            out.append((seq, orjson.dumps(
                {"entity": e.name, "id": oid, "op": "delete", "version": version}).decode()))
    return out


def _pull_sql(e: Entity, w: str) -> str:
    """The columns of a `_Pulled` but the organizations, over the window's rows `w` joined
    with the object's table `t` and its version `v`; ?4 is the entity's name."""
    org = _owner_sql(e, w)
    return (f"coalesce(v.version, 0), t.id IS NOT NULL, {org}, iif(t.id IS NULL, NULL, "
            f"json_object('entity', ?4, 'id', {w}.id, 'op', 'put', 'version', "
            f"coalesce(v.version, 0), 'org', {org}, 'fields', {_fields_json(e, 't')}))")


def _grouped_pull(store: Store, e: Entity, after: int, upto: int,
                  skip: str | None) -> list[_Pulled]:
    """The window's changes of `e`, grouped by object in SQL: for a document, whose every line
    written has its own journal row, so that its JSON (lines and all) is built once."""
    rows: list[Any] = store.conn.execute(
        "WITH w AS (SELECT max(seq) AS s, id, origin AS o, group_concat(org, ' ') AS orgs "
        "FROM _journal WHERE seq > ?2 AND seq <= ?3 AND entity = ?4 GROUP BY id) "
        f"SELECT w.s, w.id, w.orgs, {_pull_sql(e, 'w')} "
        f"FROM w LEFT JOIN {q(e.table)} t ON t.id = w.id LEFT JOIN _versions v ON v.id = w.id "
        "WHERE ?1 IS NULL OR w.o IS NOT ?1 ORDER BY w.s",
        (skip, after, upto, e.name),
    ).fetchall()
    return rows


def _flat_pull(store: Store, e: Entity, after: int, upto: int,
               skip: str | None) -> list[_Pulled]:
    """The window's changes of `e`, read in journal order and coalesced here: for an object
    without lines, which mostly has one row in a window. As for a push (`_flat_window`), each
    object's row is found by the rowid its journal row names, checked against the id, and
    looked up by id where that finds none (a delete, a rowid a VACUUM renumbered). A window of
    10,000 read 22% faster than grouped by object in SQL, which sorted it by id and back."""
    sql = (f"SELECT j.seq, j.id, j.org, j.origin, {_pull_sql(e, 'j')} FROM _journal j "
           f"LEFT JOIN {q(e.table)} t ON {{on}} LEFT JOIN _versions v ON v.id = j.id "
           "WHERE {rows} AND j.entity = ?4 ORDER BY j.seq")
    rows: list[Any] = store.conn.execute(
        sql.format(on="t.rowid = j.rid AND t.id = j.id", rows="j.seq > ?2 AND j.seq <= ?3"),
        (None, after, upto, e.name)).fetchall()
    missed = [r[0] for r in rows if not r[5]]
    if missed:
        found = {r[0]: r for r in store.conn.execute(
            sql.format(on="t.id = j.id", rows="j.seq IN (SELECT value FROM json_each(?1))"),
            (orjson.dumps(missed).decode(), after, upto, e.name))}
        rows = [found.get(r[0], r) for r in rows]
    if len({r[1] for r in rows}) != len(rows):
        rows = _newest(rows)
    return [(r[0], r[1], r[2], *r[4:]) for r in rows if skip is None or r[3] != skip]


def _newest(rows: list[Any]) -> list[Any]:
    """The newest row of each object, in order of it, with the organizations of all its rows
    (as SQL's group_concat(org, ' ') gives them): rows in journal order of `_flat_pull`."""
    newest: dict[str, Any] = {}
    orgs: dict[str, list[str]] = {}
    for r in rows:
        newest[r[1]] = r
        if r[2] is not None:
            orgs.setdefault(r[1], []).append(str(r[2]))
    out = [(r[0], r[1], " ".join(orgs[r[1]]) if r[1] in orgs else None, *r[3:])
           for r in newest.values()]
    out.sort(key=itemgetter(0))
    return out


class Outgoing(NamedTuple):
    """A window of local changes to send: the changes as one JSON array, ready for the wire
    and the outbox, and what recording the answer needs of each, in the same order."""

    body: str
    heads: list[Head]  # (id, entity, op) of each change
    upto: int  # the last journal position the window read
    rows: int  # the journal rows in the window of the objects sent


Head = tuple[str, str, str]


def outgoing_window(
    store: Store, limit: int, *, after: int = 0, leave_out: Sequence[AbstractSet[str]] = ()
) -> Outgoing:
    """Up to `limit` journal rows' worth of local changes to send, in the order objects began.

    The window starts after journal row `after`, and objects in any set of `leave_out` (the
    batches still in flight) stay out of it. An object refused by the cloud and not changed
    since stays out too (it is flagged, not lost). Each change carries the object's current
    state and `base`, the version last agreed on: `{"entity", "id", "op": "put"|"delete",
    "base", "at", "fields"?}`, a document's lines among its fields.
    """
    eligible = "NOT EXISTS (SELECT 1 FROM _rejected r WHERE r.id = j.id AND r.seq >= j.seq)"
    if not store.scalar("SELECT EXISTS(SELECT 1 FROM _rejected)"):
        eligible = "1"  # nothing refused: no probe for each row
    upto = store.scalar(
        f"SELECT seq FROM _journal j WHERE seq > ? AND {eligible} ORDER BY seq LIMIT 1 OFFSET ?",
        (after, max(limit, 1) - 1),
    )
    if upto is None:
        upto = store.head()
    found: list[Any] = []
    entities = _entities_in(store, after, int(upto))
    for e in entities:
        read = _flat_window if not e.sections else _grouped_window
        found.extend(read(store, e, after, int(upto), eligible))
    if len(entities) > 1:
        found.sort(key=_first)
    # Objects of the batches in flight: their rows in the window stay in the journal, for a
    # window after theirs. Seldom any: the window starts past theirs.
    if leave_out:
        ids = [r[1] for r in found]
        if not all(s.isdisjoint(ids) for s in leave_out):
            found = [r for r in found if not any(r[1] in s for s in leave_out)]
    return Outgoing("[" + ",".join([r[4] for r in found]) + "]",
                    [(r[1], r[2], r[3]) for r in found], int(upto), sum([r[5] for r in found]))


# A change of the window: (first seq, id, entity, op, JSON, journal rows of the object).
_Row = tuple[int, str, str, str, str, int]


def _change_sql(e: Entity, w: str, at: str) -> str:
    """The columns of a `_Row` but its last, over the window's rows `w` joined with the
    object's table `t` and its agreed version `v`; `at` is SQL for the change's time."""
    return (f"{w}.id, ?3, iif(t.id IS NULL, 'delete', 'put'), json_object('entity', ?3, "
            f"'id', {w}.id, 'op', iif(t.id IS NULL, 'delete', 'put'), 'base', "
            f"coalesce(v.version, 0), 'at', {at}, 'fields', iif(t.id IS NULL, NULL, "
            f"{_fields_json(e, 't')}))")


def _grouped_window(store: Store, e: Entity, after: int, upto: int, eligible: str) -> list[_Row]:
    """The window's changes of `e`, grouped by object in SQL: for a document, whose every line
    written has its own journal row, so that its JSON (lines and all) is built once."""
    rows: list[Any] = store.conn.execute(
        f"WITH w AS (SELECT min(seq) AS s, id, max(at) AS at, count(*) AS n FROM _journal j "
        f"WHERE seq > ?1 AND seq <= ?2 AND entity = ?3 AND {eligible} GROUP BY id) "
        f"SELECT w.s, {_change_sql(e, 'w', 'w.at')}, w.n FROM w "
        f"LEFT JOIN {q(e.table)} t ON t.id = w.id LEFT JOIN _versions v ON v.id = w.id "
        "ORDER BY w.s",  # in SQL's sorter: a key function called per row cost twice that
        (after, upto, e.name),
    ).fetchall()
    return rows


def _flat_window(store: Store, e: Entity, after: int, upto: int, eligible: str) -> list[_Row]:
    """The window's changes of `e`, read in journal order and grouped by object here: for an
    object without lines, which mostly has one row in a window. Grouping in SQL sorted the
    window by id and then back by seq (a window of 10,000 rows read in 61 ms that way, 54 this
    way); an object with more rows has its JSON built for each, and one kept.

    Each object's row is found by the rowid its journal row names (`rid`), checked against the
    id: a window of new objects reads their rows in the order they were written, where a
    search by id jumps about the whole table (10,000 rows of 200,000: 30-37 ms against 44-53).
    A row not found that way (a delete, a row written before rowids were journaled, or moved
    since: VACUUM may renumber rowids) is looked up again by id."""
    sql = (f"SELECT j.seq, {_change_sql(e, 'j', 'j.at')}, j.at FROM _journal j "
           f"LEFT JOIN {q(e.table)} t ON {{on}} LEFT JOIN _versions v ON v.id = j.id "
           f"WHERE {{rows}} AND j.entity = ?3 AND {eligible} ORDER BY j.seq")
    rows: list[Any] = store.conn.execute(
        sql.format(on="t.rowid = j.rid AND t.id = j.id", rows="j.seq > ?1 AND j.seq <= ?2"),
        (after, upto, e.name)).fetchall()
    missed = [r[0] for r in rows if r[3] == "delete"]
    if missed:
        found = {r[0]: r for r in store.conn.execute(
            sql.format(on="t.id = j.id", rows="j.seq IN (SELECT value FROM json_each(?4))"),
            (after, upto, e.name, orjson.dumps(missed).decode()))}
        rows = [found.get(r[0], r) for r in rows]
    if len({r[1] for r in rows}) == len(rows):  # one row each: the common case
        return [(*r[:5], 1) for r in rows]
    return _coalesced(rows)


def _coalesced(rows: list[Any]) -> list[_Row]:
    """One change per object from rows in journal order (seq, id, entity, op, JSON, at): the
    first row's place, the newest time (SQL's max(at), NULLs aside) and the count of rows."""
    first: dict[str, list[Any]] = {}
    for seq, oid, entity, op, change, at in rows:
        got = first.get(oid)
        if got is None:
            first[oid] = [seq, oid, entity, op, change, 1, at, at]
            continue
        got[5] += 1
        if at is not None and (got[6] is None or at > got[6]):
            got[6] = at
    out: list[_Row] = []
    for seq, oid, entity, op, change, n, at, written in first.values():
        if at != written:  # the JSON carries the first row's time: the newest goes instead
            c = orjson.loads(change)
            c["at"] = at
            change = orjson.dumps(c).decode()
        out.append((seq, oid, entity, op, change, n))
    return out


def _entities_in(store: Store, after: int, upto: int) -> list[Entity]:
    """The entities with journal rows in (after, upto]: one scan of the window, rather than a
    query per entity of the schema that finds nothing (a quarter of a window's cost)."""
    names = {r[0] for r in store.conn.execute(
        "SELECT DISTINCT entity FROM _journal WHERE seq > ? AND seq <= ?", (after, upto))}
    return [e for e in store.schema.entities.values() if e.name in names]


def _owner_sql(e: Entity, w: str) -> str:
    """SQL for an object's organization, over the window's rows `w` joined with its table
    `t`."""
    if e.organization == "self":
        return f"{w}.id"
    return f"t.{q(e.org_field)}" if e.org_field else "NULL"


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
