"""Writing objects that come from the other side: in bulk, without re-validating each field.

Pulled objects were validated by the cloud when they were written there, and the cloud
validates pushed ones before it calls these, so here we only write rows fast: one executemany
per entity and section. Callers hold the write transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from core.ddl import q
from core.schema import Entity
from core.store import Store

Fields = dict[str, Any]


def upsert_objects(store: Store, entity: Entity, objects: Sequence[tuple[str, Fields]]) -> None:
    """Create or replace each (id, fields) of `entity`, its tabular sections included."""
    if not objects:
        return
    names = [f.name for f in entity.fields]
    cols = ", ".join(q(n) for n in ["id", *names])
    updates = ", ".join(f"{q(n)} = excluded.{q(n)}" for n in names)
    store.conn.executemany(
        f"INSERT INTO {q(entity.table)}({cols}) VALUES ({', '.join('?' * (len(names) + 1))}) "
        f"ON CONFLICT(id) DO UPDATE SET {updates}",
        # Values bind as they are: apsw binds True and False as the integers 1 and 0.
        [(oid, *map(fields.get, names)) for oid, fields in objects],
    )
    for s in entity.sections:
        snames = [f.name for f in s.fields]
        owners = [(oid,) for oid, _ in objects]
        store.conn.executemany(f"DELETE FROM {q(s.table)} WHERE owner = ?", owners)
        store.conn.executemany(
            f"INSERT INTO {q(s.table)}(owner, line_no, {', '.join(q(n) for n in snames)}) "
            f"VALUES (?, ?, {', '.join('?' * len(snames))})",
            _section_rows(objects, s.name, s.fields),
        )


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
    """Record (id, version, deleted, at) as the agreed version of each object."""
    store.conn.executemany(
        "INSERT INTO _versions(id, version, deleted, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
        "deleted = excluded.deleted, at = excluded.at",
        [(i, v, int(d), a) for i, v, d, a in versions],
    )


def mute_since(store: Store, seq: int) -> None:
    """Forget journal rows after `seq`: they record what a sync just wrote, not local work.

    Safe only inside the write transaction that made them, when no one else could write.
    """
    store.conn.execute("DELETE FROM _journal WHERE seq > ?", (seq,))


def stamp_origin_since(store: Store, seq: int, origin: str) -> None:
    """Mark journal rows after `seq` as made by `origin` (the cloud's change log)."""
    store.conn.execute("UPDATE _journal SET origin = ? WHERE seq > ?", (origin, seq))
