"""Loading many new objects at once, for seeding: checked like any put, inserted in batches.

Objects are validated by core.objects.coerce_fields as Store.put would, then rows go in with
executemany; the capture and numbering triggers fire as for any insert. References
are not looked up one by one: the caller loads objects it made itself, in dependency order.
Versions are stamped at the end from the journal, as Store.put_row would have left them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.ddl import q
from core.objects import check_id, coerce_fields
from core.store import Store


def insert_new(
    store: Store, entity: str, objects: Iterable[tuple[str, dict[str, Any]]], *,
    check_all: bool = True,
) -> int:
    """Insert new objects (id, fields) of `entity`; call inside `store.write()`. Returns count.

    With `check_all=False` only the first object is validated and the rest are trusted to have
    its shape: for generated data, where checking each one would cost most of the time.
    """
    e = store.entity(entity)
    names = [f.name for f in e.fields]
    rows: list[tuple[Any, ...]] = []
    section_rows: dict[str, list[tuple[Any, ...]]] = {s.name: [] for s in e.sections}
    for n, (oid, fields) in enumerate(objects):
        if check_all or n == 0:
            changes = coerce_fields(e, fields, existing=None)
            columns, sections = changes.columns, changes.sections
            check_id(oid)
        else:
            columns, sections = _plain(fields), {
                s.name: [_plain(r) for r in fields.get(s.name, ())] for s in e.sections
            }
        rows.append((oid, *(columns.get(n) for n in names)))
        for s in e.sections:
            snames = [f.name for f in s.fields]
            for i, line in enumerate(sections.get(s.name, []), 1):
                section_rows[s.name].append((oid, i, *(line.get(n) for n in snames)))
    cols = ", ".join(q(n) for n in ["id", *names])
    store.conn.executemany(
        f"INSERT INTO {q(e.table)}({cols}) VALUES ({', '.join('?' * (len(names) + 1))})", rows
    )
    for s in e.sections:
        scols = ", ".join(q(f.name) for f in s.fields)
        marks = ", ".join("?" * (len(s.fields) + 2))
        store.conn.executemany(
            f"INSERT INTO {q(s.table)}(owner, line_no, {scols}) VALUES ({marks})",
            section_rows[s.name],
        )
    return len(rows)


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    """Column values of already valid JSON fields: booleans are stored as 0 or 1."""
    return {k: int(v) if isinstance(v, bool) else v for k, v in fields.items()}


def stamp_versions(store: Store, since: int) -> None:
    """Give every object changed after journal seq `since` its version (its last seq)."""
    store.conn.execute(
        "INSERT INTO _versions(id, version) SELECT id, max(seq) FROM _journal WHERE seq > ? "
        "GROUP BY id ON CONFLICT(id) DO UPDATE SET version = excluded.version", (since,),
    )
