"""The infobase: one SQLite file holding an application's objects and the journal of changes.

The same class serves the cloud (one file per tenant) and the workstation. The file describes
itself: the schema it was built from is kept in `_meta`, so any copy of it can be opened
without knowing where it came from.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import apsw
import orjson

from core import migrations
from core.db import INFOBASE_PAGE_SIZE, connect, read_tx, write_tx
from core.ddl import BASE_TABLES, q, schema_sql
from core.errors import MissingReference, NotFound, StoreError
from core.objects import Row, check_id, coerce_fields, new_id, to_json_value
from core.schema import Entity, Schema, parse_schema

MAX_PAGE = 1000


class Store:
    """Objects in, objects out; every write goes through the capture triggers."""

    def __init__(
        self, conn: apsw.Connection, schema: Schema, path: Path, *, node: str = "cloud"
    ) -> None:
        self.conn = conn
        self.schema = schema
        self.path = path
        # On the cloud a write made through Outpost gets a new version; on a workstation the
        # version is the cloud's, the base of the next merge, and only sync may change it.
        self.stamps_versions = node != "workstation"
        self.node = node

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, schema: Schema, *, prefix: str = "") -> Store:
        """Build a new, empty infobase at `path`; refuses to touch an existing file."""
        p = Path(path)
        if p.exists():
            raise StoreError(f"{p}: already exists")
        conn = connect(p, create=True, page_size=INFOBASE_PAGE_SIZE)
        try:
            with write_tx(conn):
                conn.execute(BASE_TABLES)
                for stmt in schema_sql(schema):
                    conn.execute(stmt)
                meta = {
                    "store_format": migrations.CURRENT,
                    "schema_name": schema.name,
                    "schema_version": schema.version,
                    "schema": schema.source,
                    "prefix": prefix,
                }
                conn.executemany("INSERT INTO _meta(key, value) VALUES (?, ?)", meta.items())
        except apsw.Error as exc:  # leave no half-built file behind
            conn.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{p}{suffix}").unlink(missing_ok=True)
            raise StoreError(f"{p}: cannot create the infobase: {exc}") from None
        return cls(conn, schema, p)

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> Store:
        p = Path(path)
        conn = connect(p, readonly=readonly)
        try:
            rows = {str(k): v for k, v in conn.execute("SELECT key, value FROM _meta")}
        except apsw.Error:
            conn.close()
            raise StoreError(f"{p}: not an Outpost infobase") from None
        try:
            if "schema" not in rows:
                raise StoreError(f"{p}: not an Outpost infobase")
            found = _format_of(rows.get("store_format"))
            if readonly:
                migrations.check(found, p)  # no upgrade without writing; still refuse newer
            else:
                migrations.upgrade(conn, found, p)
            schema = parse_schema(str(rows["schema"]), origin=f"{p}:_meta")
        except BaseException:
            conn.close()
            raise
        return cls(conn, schema, p, node=str(rows.get("node", "cloud")))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions and metadata -----------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Store]:
        with write_tx(self.conn):
            yield self

    @contextmanager
    def read(self) -> Iterator[Store]:
        with read_tx(self.conn):
            yield self

    def meta(self, key: str, default: Any = None) -> Any:
        row: Sequence[Any] | None = self.conn.execute(
            "SELECT value FROM _meta WHERE key = ?", (key,)
        ).fetchone()
        return default if row is None else row[0]

    def set_meta(self, key: str, value: Any) -> None:
        self.conn.execute(
            "INSERT INTO _meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        row: Sequence[Any] | None = self.conn.execute(sql, args).fetchone()
        return None if row is None else row[0]

    @property
    def prefix(self) -> str:
        return str(self.meta("prefix", ""))

    def head(self) -> int:
        """The newest change sequence number (0 for a database with no change yet)."""
        return int(self.scalar("SELECT max(seq) FROM _journal") or 0)

    def pending(self) -> int:
        """Journal rows not made by a sync (origin NULL): the local changes not yet sent."""
        return int(self.scalar("SELECT count(*) FROM _journal WHERE origin IS NULL"))

    # -- reading -----------------------------------------------------------------------------

    def entity(self, name: str) -> Entity:
        return self.schema.entity(name)

    def get(self, entity: str, id: str) -> Row | None:
        e = self.entity(entity)
        oid = check_id(id)
        cols = ", ".join(q(f.name) for f in e.fields)
        row: Sequence[Any] | None = self.conn.execute(
            f"SELECT id, {cols} FROM {q(e.table)} WHERE id = ?", (oid,)
        ).fetchone()
        if row is None:
            return None
        return self._objects(e, [row])[0]

    def get_many(self, entity: str, ids: Sequence[str]) -> dict[str, Row]:
        """The objects among `ids` that exist, by id, read in bulk (ids are trusted here)."""
        e = self.entity(entity)
        cols = ", ".join(q(f.name) for f in e.fields)
        rows: list[Sequence[Any]] = []
        for chunk in _chunks(ids, 500):
            rows.extend(self.conn.execute(
                f"SELECT id, {cols} FROM {q(e.table)} WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ))
        return {o["id"]: o for o in self._objects(e, rows)}

    def require(self, entity: str, id: str) -> Row:
        obj = self.get(entity, id)
        if obj is None:
            raise NotFound(f"no {entity} with id {id}")
        return obj

    def list_objects(
        self, entity: str, *, org: str | None = None, after: str | None = None,
        limit: int = 100,
    ) -> list[Row]:
        """A page of objects in id order; pass the last id seen as `after` for the next page."""
        e = self.entity(entity)
        limit = max(1, min(int(limit), MAX_PAGE))
        where, args = self._org_filter(e, org)
        if after is not None:
            where.append("id > ?")
            args.append(check_id(after, what="after"))
        sql = (
            f"SELECT id, {', '.join(q(f.name) for f in e.fields)} FROM {q(e.table)}"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY id LIMIT ?"
        )
        rows = self.conn.execute(sql, (*args, limit)).fetchall()
        return self._objects(e, rows)

    def count(self, entity: str, *, org: str | None = None) -> int:
        e = self.entity(entity)
        where, args = self._org_filter(e, org)
        sql = f"SELECT count(*) FROM {q(e.table)}" + (
            f" WHERE {' AND '.join(where)}" if where else ""
        )
        return int(self.scalar(sql, args))

    def _org_filter(self, e: Entity, org: str | None) -> tuple[list[str], list[Any]]:
        if org is None:
            return [], []
        oid = check_id(org, what="org")
        if e.organization == "self":
            return ["id = ?"], [oid]
        if e.org_field:
            return [f"{q(e.org_field)} = ?"], [oid]
        return [], []  # shared catalogs belong to every organization

    def _objects(self, e: Entity, rows: Sequence[Sequence[Any]]) -> list[Row]:
        """Turn entity rows into JSON objects, reading sections and versions in bulk."""
        ids = [r[0] for r in rows]
        versions = self._lookup(
            "SELECT id, version FROM _versions WHERE deleted = 0 AND id IN ({})", ids
        )
        sections: dict[str, dict[str, list[Row]]] = {}
        for s in e.sections:
            cols = ", ".join(q(f.name) for f in s.fields)
            by_owner: dict[str, list[Row]] = {}
            for chunk in _chunks(ids, 500):
                marks = ", ".join("?" * len(chunk))
                for r in self.conn.execute(
                    f"SELECT owner, {cols} FROM {q(s.table)} WHERE owner IN ({marks}) "
                    "ORDER BY owner, line_no", chunk,
                ):
                    by_owner.setdefault(r[0], []).append(
                        {f.name: to_json_value(f, v) for f, v in zip(s.fields, r[1:], strict=True)}
                    )
            sections[s.name] = by_owner
        out: list[Row] = []
        for r in rows:
            fields: Row = {
                f.name: to_json_value(f, v) for f, v in zip(e.fields, r[1:], strict=True)
            }
            for s in e.sections:
                fields[s.name] = sections[s.name].get(r[0], [])
            out.append({
                "id": r[0],
                "entity": e.name,
                "org": e.org_of(r[0], fields),
                "version": versions.get(r[0], 0),
                "fields": fields,
            })
        return out

    def _lookup(self, sql: str, ids: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for chunk in _chunks(ids, 500):
            out.update(self.conn.execute(sql.format(", ".join("?" * len(chunk))), chunk))
        return out

    # -- writing -----------------------------------------------------------------------------

    def put(self, entity: str, fields: Any, *, id: str | None = None) -> Row:
        """Create or update one object; fields left out keep their values. Returns the object."""
        with self.write():
            oid = self.put_row(entity, fields, id=id)
            return self.require(entity, oid)

    def put_row(self, entity: str, fields: Any, *, id: str | None = None) -> str:
        """`put` without reading the object back: for bulk loads inside one transaction."""
        e = self.entity(entity)
        oid = new_id() if id is None else check_id(id)
        cols = [f.name for f in e.fields]
        with self.write():  # read and write under one lock: no other writer in between
            existing_row: Sequence[Any] | None = self.conn.execute(
                f"SELECT {', '.join(q(c) for c in cols)} FROM {q(e.table)} WHERE id = ?", (oid,)
            ).fetchone()
            existing = dict(zip(cols, existing_row, strict=True)) if existing_row else None
            changes = coerce_fields(e, fields, existing=existing)
            self.check_refs(e, changes.columns, changes.sections)
            since = 0
            if existing is not None:
                self._keep_current(e.name, oid)
                since = self.head()
            changed = False
            if existing is None:
                names = ["id", *changes.columns]
                self.conn.execute(
                    f"INSERT INTO {q(e.table)}({', '.join(q(n) for n in names)}) "
                    f"VALUES ({', '.join('?' * len(names))})",
                    (oid, *changes.columns.values()),
                )
                changed = True
            else:
                diff = {k: v for k, v in changes.columns.items() if existing.get(k) != v}
                if diff:
                    sets = ", ".join(f"{q(k)} = ?" for k in diff)
                    self.conn.execute(
                        f"UPDATE {q(e.table)} SET {sets} WHERE id = ?", (*diff.values(), oid)
                    )
                    changed = True
            for name, rows in changes.sections.items():
                changed |= self._replace_section(e, name, oid, rows, new=existing is None)
            if changed and existing is not None:
                # New section rows and a new number alone are journaled without a time (see
                # core/ddl.py); a change made here has one, for "newest wins".
                self.conn.execute(
                    "UPDATE _journal SET at = ? WHERE seq > ? AND at IS NULL", (time.time(), since)
                )
            if changed and self.stamps_versions:
                self.stamp_version(oid, deleted=False)
        return oid

    def keep_history(self, oid: str, version: int, fields: Row) -> None:
        """Keep the version about to be replaced: a workstation may hold it as its merge base."""
        if version <= 0:
            return
        self.conn.execute(
            "INSERT OR IGNORE INTO _history(id, version, origin, body) "
            "VALUES (?, ?, (SELECT origin FROM _journal WHERE seq = ?), ?)",
            (oid, version, version, orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)),
        )

    def _keep_current(self, entity: str, oid: str) -> None:
        if self.stamps_versions:
            current = self.get(entity, oid)
            if current is not None:
                self.keep_history(oid, int(current["version"]), current["fields"])

    def stamp_version(self, oid: str, *, deleted: bool) -> None:
        """Record that `oid` changed at the current head, now (cloud side)."""
        self.conn.execute(
            "INSERT INTO _versions(id, version, deleted, at) "
            "SELECT ?, max(seq), ?, ? FROM _journal WHERE true"
            " ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
            "deleted = excluded.deleted, at = excluded.at",
            (oid, int(deleted), time.time()),
        )

    def _replace_section(
        self, e: Entity, name: str, oid: str, rows: list[Row], *, new: bool
    ) -> bool:
        s = e.section(name)
        assert s is not None
        names = [f.name for f in s.fields]
        wanted = [tuple(r.get(n) for n in names) for r in rows]
        if not new:
            current = self.conn.execute(
                f"SELECT {', '.join(q(n) for n in names)} FROM {q(s.table)} "
                "WHERE owner = ? ORDER BY line_no", (oid,),
            ).fetchall()
            if [tuple(c) for c in current] == wanted:
                return False
            self.conn.execute(f"DELETE FROM {q(s.table)} WHERE owner = ?", (oid,))
        if wanted:
            self.conn.executemany(
                f"INSERT INTO {q(s.table)}(owner, line_no, {', '.join(q(n) for n in names)}) "
                f"VALUES (?, ?, {', '.join('?' * len(names))})",
                ((oid, i, *w) for i, w in enumerate(wanted, 1)),
            )
        return bool(wanted) or not new

    def check_refs(
        self, e: Entity, columns: Row, sections: dict[str, list[Row]],
        also: set[tuple[str, str]] | None = None,
    ) -> None:
        """Every reference must name an existing object (or one of `also`, being written)."""
        checks: list[tuple[str, str, str]] = []  # (where, target entity, id)
        for f in e.fields:
            if f.to and columns.get(f.name) is not None:
                checks.append((f.name, f.to, columns[f.name]))
        for name, rows in sections.items():
            s = e.section(name)
            assert s is not None
            for i, r in enumerate(rows):
                for f in s.fields:
                    if f.to and r.get(f.name) is not None:
                        checks.append((f"{name}[{i}].{f.name}", f.to, r[f.name]))
        seen: set[tuple[str, str]] = set()
        for where, target, ref in checks:
            if (target, ref) in seen or (also and (target, ref) in also):
                continue
            if self.conn.execute(
                f"SELECT 1 FROM {q(self.entity(target).table)} WHERE id = ?", (ref,)
            ).fetchone() is None:
                raise MissingReference(
                    f"{e.name}.{where}: no {target} with id {ref}", entity=e.name, field=where
                )
            seen.add((target, ref))

    def delete(self, entity: str, id: str) -> bool:
        """Delete one object with its section rows; False if there was none."""
        e = self.entity(entity)
        oid = check_id(id)
        with self.write():
            self._keep_current(e.name, oid)
            self.conn.execute(f"DELETE FROM {q(e.table)} WHERE id = ?", (oid,))
            gone = self.conn.changes() > 0
            if gone and self.stamps_versions:
                self.stamp_version(oid, deleted=True)
        return gone


def _format_of(value: Any) -> int:
    """The store_format recorded in _meta; 0 (not an infobase) if it is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
