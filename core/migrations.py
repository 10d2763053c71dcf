"""Numbered upgrades of Outpost's own tables in an infobase, applied in order on open.

Migration N takes a file of store_format N-1 to N. A file newer than this program is refused
rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import apsw

from core.db import write_tx
from core.ddl import (
    COUNTERS_TABLE,
    JOURNAL_TABLE,
    NUMBERING_TABLE,
    capture_triggers,
    entity_tables,
    numbering_trigger,
    q,
)
from core.errors import StoreError
from core.schema import Schema, parse_schema


def _rebuild(conn: apsw.Connection, table: str, create: str) -> None:
    """Give `table` the definition `create` (same columns), keeping its rows and rowids.

    SQLite's way for a change ALTER TABLE cannot make: build the new table, copy, drop the old
    one (its triggers and indexes go with it) and rename the new one into its place.
    """
    new = f"_rebuilt_{table}"
    conn.execute(f"CREATE TABLE {q(new)}({create.split('(', 1)[1]}")
    cols = ", ".join(q(str(r[1])) for r in conn.execute(f"PRAGMA table_info({q(table)})"))
    rowid = "" if "WITHOUT ROWID" in create else "rowid, "
    conn.execute(f"INSERT INTO {q(new)}({rowid}{cols}) SELECT {rowid}{cols} FROM {q(table)}")
    conn.execute(f"DROP TABLE {q(table)}")
    conn.execute(f"ALTER TABLE {q(new)} RENAME TO {q(table)}")


def _to_2(conn: apsw.Connection) -> None:
    """Inserts without a statement journal: constraints ON CONFLICT FAIL, no SQL function in
    anything an INSERT sets off, numbering in two triggers (core/ddl.py says why)."""
    schema = _schema_of(conn)
    for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {q(str(name))}")
    _rebuild(conn, "_journal", JOURNAL_TABLE)
    _rebuild(conn, "_counters", COUNTERS_TABLE)
    conn.execute(NUMBERING_TABLE)
    for e in schema.entities.values():
        tables = [e.table, *(s.table for s in e.sections)]
        for stmt in entity_tables(e):
            if stmt.startswith("CREATE TABLE"):
                _rebuild(conn, tables.pop(0), stmt)
            else:  # the indexes went with the old tables
                conn.execute(stmt)
        for stmt in [*capture_triggers(e), *numbering_trigger(e)]:
            if stmt.startswith("CREATE TRIGGER"):  # the counters are there already
                conn.execute(stmt)


def _to_3(conn: apsw.Connection) -> None:
    """Journal rows name the rowid of the object's row (`rid`), so that a sync's window finds
    the row without a search by id. Rows journaled before have none and are found by id."""
    columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(_journal)")}
    if "rid" not in columns:  # a format 1 file rebuilt by `_to_2` has it already
        conn.execute("ALTER TABLE _journal ADD COLUMN rid INTEGER")
    for (name,) in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name GLOB '_cap_*'"
    ).fetchall():
        conn.execute(f"DROP TRIGGER {q(str(name))}")
    for e in _schema_of(conn).entities.values():
        for stmt in capture_triggers(e):
            conn.execute(stmt)


def _schema_of(conn: apsw.Connection) -> Schema:
    source = conn.execute("SELECT value FROM _meta WHERE key = 'schema'").fetchall()[0][0]
    return parse_schema(str(source), origin="_meta")


# store_format 1 is what core.ddl.BASE_TABLES created first.
MIGRATIONS: dict[int, Callable[[apsw.Connection], None]] = {2: _to_2, 3: _to_3}
CURRENT = 3


def check(found: int, path: Path) -> None:
    """Refuse a file this program cannot read: made by a newer Outpost, or not an infobase."""
    if found > CURRENT:
        raise StoreError(
            f"{path}: made by a newer Outpost (store format {found}, this one knows {CURRENT})"
        )
    if found < 1:
        raise StoreError(f"{path}: not an Outpost infobase")


def upgrade(conn: apsw.Connection, found: int, path: Path) -> None:
    check(found, path)
    for n in range(found + 1, CURRENT + 1):
        with write_tx(conn):
            # `found` was read before the lock: another process may have upgraded since
            now: Any = conn.execute(
                "SELECT value FROM _meta WHERE key = 'store_format'").fetchone()
            if now is not None and int(now[0]) >= n:
                continue
            MIGRATIONS[n](conn)
            conn.execute("UPDATE _meta SET value = ? WHERE key = 'store_format'", (n,))
