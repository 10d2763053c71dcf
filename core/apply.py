"""Writing objects that come from the other side: in bulk, without re-validating each field.

Pulled objects were validated by the cloud when they were written there, and the cloud
validates pushed ones before it calls these, so here we only write rows fast: one statement per
entity and section (see `_as_json` for why some take their rows as JSON). Callers hold the write
transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

import apsw
import orjson

from core.db import IDS, json_ids
from core.ddl import q, trigger_names
from core.schema import Entity
from core.store import Store

Fields = dict[str, Any]


def upsert_objects(
    store: Store, entity: Entity, objects: Sequence[tuple[str, Fields]],
    *, known_new: Container[str] = (), in_one_statement: bool = False,
    rows: str | None = None,
) -> None:
    """Create or replace each (id, fields) of `entity`, its tabular sections included.

    The objects that are new get a plain INSERT and only the others an upsert: an upsert
    compiles the update triggers too, whose time stamp gives every row it writes, new ones
    included, a statement journal (core/ddl.py says why that costs). Probing first cost less
    than that for new objects (7.7 against 9.4 us each) and little for existing ones, for
    which an upsert measured faster than an UPDATE by id. Ids in `known_new` are taken as new
    without a probe (the caller looked them up already, or is ready for the plain INSERT to
    fail with a constraint error if one is there after all, as the cloud's push is). New
    objects are inserted in the order given: the cloud numbers their versions by it.

    `in_one_statement`: the new objects go in by one statement over a JSON array of them
    (`_insert_json`), which SQLite runs without Python's GIL, for a server whose other threads
    have work meanwhile. `rows`: that array as `new_rows` made it from `objects`, every one of
    them new, made before the writer's transaction (so that it takes none of its time).
    """
    if not objects:
        return
    if rows is not None:
        _insert_rows(store, entity.table, [f.name for f in entity.fields], rows)
        _insert_sections(store, entity, objects, have=())
        return
    latest = dict(objects)  # an object given twice is written once, as given last
    unknown = [oid for oid in latest if oid not in known_new] if known_new else latest
    have = found_ids(store, entity.table, json_ids(unknown)) if unknown else set()
    names = [f.name for f in entity.fields]
    insert = (f"INSERT INTO {q(entity.table)}({', '.join(q(n) for n in ['id', *names])}) "
              f"VALUES ({', '.join('?' * (len(names) + 1))})")
    # Values bind as they are: apsw binds True and False as the integers 1 and 0.
    new = _rows(entity, [(oid, f) for oid, f in latest.items() if oid not in have]
                if have else list(latest.items()))
    if new and not (in_one_statement and _insert_json(store, entity.table, names, new)):
        store.conn.executemany(insert, new)
    if have:
        updates = ", ".join(f"{q(n)} = excluded.{q(n)}" for n in names)
        store.conn.executemany(f"{insert} ON CONFLICT(id) DO UPDATE SET {updates}",
                               [(oid, *map(latest[oid].get, names)) for oid in have])
    _insert_sections(store, entity, list(latest.items()), have=have)


def _insert_sections(store: Store, entity: Entity, objects: Sequence[tuple[str, Fields]],
                     *, have: Collection[str]) -> None:
    """The objects' tabular-section rows, replacing those of the objects in `have`."""
    for s in entity.sections:
        snames = [f.name for f in s.fields]
        if have:
            store.conn.executemany(f"DELETE FROM {q(s.table)} WHERE owner = ?",
                                   [(oid,) for oid in have])
        store.conn.executemany(
            f"INSERT INTO {q(s.table)}(owner, line_no, {', '.join(q(n) for n in snames)}) "
            f"VALUES (?, ?, {', '.join('?' * len(snames))})",
            _section_rows(objects, s.name, s.fields),
        )


def _insert_json(store: Store, table: str, names: list[str], rows: list[tuple[Any, ...]]) -> bool:
    """Insert `rows` (id, then `names`) with one INSERT ... SELECT over their JSON array, which
    SQLite runs without Python's GIL (see `_as_json`); False, writing nothing, for a value JSON
    cannot carry."""
    text = _as_json(rows)
    if text is None:
        return False
    _insert_rows(store, table, names, text)
    return True


def insert_stamped(store: Store, entity: Entity, rows: str, origin: str) -> bool:
    """Insert new objects of `entity` (`rows` as `new_rows` made them, every one new) and their
    journal rows, stamped with `origin`, with the connection's triggers off; False, writing
    nothing, where the triggers would do more than journal each insert.

    The cloud stamps the journal rows of a pushed batch with the workstation that sent it: an
    UPDATE of every row the capture triggers had just written (`stamp_origin_since`), a fifth
    of its writer's time for a batch of 10,000 new objects (21 ms of 111). Here the journal
    rows are written as the capture trigger writes them, stamped already: (entity, id, 'I',
    rowid), one per object in the order inserted. Only where that is all the triggers would
    do: an entity without sections, whose table has no trigger but Outpost's own (core.ddl),
    each object's number given (an empty one is the numbering trigger's to fill).
    """
    conn, table = store.conn, q(entity.table)
    if entity.sections or not {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?",
            (entity.table,))} <= trigger_names(entity):
        return False
    num = entity.numbered_field
    if num is not None and store.scalar(
            f"SELECT EXISTS(SELECT 1 FROM {ROWS} WHERE value->>?2 IS NULL OR value->>?2 = '')",
            (rows, 1 + entity.fields.index(num))):
        return False
    top = store.scalar(f"SELECT max(rowid) FROM {table}") or 0
    conn.config(apsw.SQLITE_DBCONFIG_ENABLE_TRIGGER, 0)
    try:
        _insert_rows(store, entity.table, [f.name for f in entity.fields], rows)
    finally:
        conn.config(apsw.SQLITE_DBCONFIG_ENABLE_TRIGGER, 1)
    conn.execute(  # new rows take rowids past every one there, in the order inserted
        f"INSERT INTO _journal(entity, id, op, rid, origin) SELECT ?, id, 'I', rowid, ? "
        f"FROM {table} WHERE rowid > ? ORDER BY rowid", (entity.name, origin, top))
    return True


def _insert_rows(store: Store, table: str, names: list[str], text: str) -> None:
    columns = ", ".join(q(n) for n in ["id", *names])
    store.conn.execute(
        f"INSERT INTO {q(table)}({columns}) SELECT {_picks(len(names) + 1)} FROM {ROWS}",
        (text,))


def new_rows(entity: Entity, objects: Sequence[tuple[str, Fields]]) -> str | None:
    """`objects` (each id once) as the JSON array `upsert_objects` inserts new ones by: made
    ahead, outside the transaction that writes them. None for a value JSON cannot carry."""
    return _as_json(_rows(entity, objects))


def new_rows_of(ids: Sequence[str], columns: Sequence[Sequence[Any]]) -> str | None:
    """`new_rows` of objects given as their ids and their fields a column at a time, in the
    entity's order of fields (core.objects.whole_columns)."""
    return _as_json(list(zip(ids, *columns, strict=True)))


def _rows(entity: Entity, objects: Sequence[tuple[str, Fields]]) -> list[tuple[Any, ...]]:
    """Each object as the row its table takes: its id, then its fields in the table's order.

    Made a column at a time (`dict.get` mapped over all the objects' fields, then zipped),
    which took 6.3 ms for 10,000 objects where a tuple made per object took 10."""
    ids, fields = [o[0] for o in objects], [o[1] for o in objects]
    columns = [list(map(dict.get, fields, repeat(f.name))) for f in entity.fields]
    return list(zip(ids, *columns, strict=True))


def _as_json(rows: Sequence[tuple[Any, ...]]) -> str | None:
    """`rows` as one JSON array, for a statement that writes them all in one run.

    executemany takes the GIL back after every row, and each time another thread of the
    process holds it (the next batch being read, or sent), it waits out the switch interval
    (5 ms): with a busy thread beside it, 10,000 rows took 48 s against 43 ms alone. One
    statement gives the GIL up once, for its whole run (47 ms alone, 78 beside a busy thread).
    JSON carries the values exactly as they bind (floats, 64-bit integers, booleans as 0/1,
    text with any character in it); None for a value it cannot carry."""
    try:
        return orjson.dumps(rows).decode()
    except orjson.JSONEncodeError:
        return None


# A JSON array of rows (`_as_json`) as a table, a row's values picked by `_picks`. jsonb_each
# hands each row over as JSONB, which `->>` reads as it is; json_each hands it over as text,
# which each `->>` parsed again: 10,000 versions into 150,000 took 37 ms against 49.
ROWS = "jsonb_each(?)"


def _picks(n: int) -> str:
    """SQL for the first `n` values of each row of `ROWS`: a row is a JSON array."""
    return ", ".join(f"value->>{i}" for i in range(n))


def found_ids(store: Store, table: str, batch: str) -> set[str]:
    """Which ids of `batch` (core.db.json_ids) have a row in `table`: each probed by id, the
    batch the outer loop, so a large table is never scanned."""
    return {r[0] for r in store.conn.execute(
        f"SELECT t.id FROM {IDS} b CROSS JOIN {q(table)} t ON t.id = b.value", (batch,))}


def _section_rows(
    objects: Sequence[tuple[str, dict[str, Any]]], name: str, fields: Sequence[Any]
) -> Iterable[tuple[Any, ...]]:
    names = [f.name for f in fields]
    for oid, obj in objects:
        for i, row in enumerate(obj.get(name) or [], 1):
            yield (oid, i, *map(row.get, names))


def delete_objects(store: Store, entity: Entity, ids: Sequence[str]) -> None:
    """Delete each object (its section rows go with it, by the delete trigger)."""
    store.conn.executemany(f"DELETE FROM {q(entity.table)} WHERE id = ?", [(i,) for i in ids])


def set_versions(store: Store, versions: Iterable[tuple[str, int, bool, float | None]]) -> None:
    """Record (id, version, deleted, at) as the agreed version of each object (`deleted` binds
    as 1 or 0).

    Written in id order (an id given twice keeps its order, so the last still wins): a
    workstation holding 150,000 objects took 10,000 new versions in random order in 138 ms and
    in id order in 62 (74 with the sort), the B-tree filled from one end rather than at random
    places all over it."""
    rows = sorted(versions, key=itemgetter(0))
    if not rows:
        return
    upsert = ("ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
              "deleted = excluded.deleted, at = excluded.at")
    text = _as_json(rows)
    if text is None:
        store.conn.executemany(
            f"INSERT INTO _versions(id, version, deleted, at) VALUES (?, ?, ?, ?) {upsert}", rows)
        return
    store.conn.execute(  # WHERE true: an upsert's SELECT needs a clause before ON CONFLICT
        f"INSERT INTO _versions(id, version, deleted, at) SELECT {_picks(4)} "
        f"FROM {ROWS} WHERE true {upsert}", (text,))


def mute_since(store: Store, seq: int) -> None:
    """Forget journal rows after `seq`: they record what a sync just wrote, not local work.

    Safe only inside the write transaction that made them, when no one else could write.
    """
    store.conn.execute("DELETE FROM _journal WHERE seq > ?", (seq,))


def stamp_origin_since(store: Store, seq: int, origin: str) -> None:
    """Mark journal rows after `seq` as made by `origin` (the cloud's change log)."""
    store.conn.execute("UPDATE _journal SET origin = ? WHERE seq > ?", (origin, seq))
