"""The workstation's infobase, exported from a tenant's file as one consistent snapshot.

The new file is ATTACHed to a connection on the tenant's file and filled inside ONE read
transaction, so every write that lands on the cloud meanwhile is either wholly in the snapshot or
wholly after its cursor. Rows are copied by `INSERT ... SELECT` statements that SQLite runs in C,
chunk after chunk, so memory stays bounded (the page caches) whatever the tenant's size; tables
copied whole use SQLite's transfer optimisation (what VACUUM INTO uses). Triggers, counters and
the indexes that only help filtering are built after the copy, on the new file alone.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw

from core import migrations
from core.db import connect
from core.ddl import BASE_TABLES, capture_triggers, numbering_trigger, q, schema_sql
from core.errors import NotFound, StoreError, ValidationError
from core.schema import Entity, Schema, parse_schema

CHUNK_ROWS = 50_000  # rows per copy step of a filtered table: one tick of the progress bar
CACHE_KIB = 32_768  # page cache of the new file, like core.db's for the tenant's
ATTACHED = "ws"
# Key ranges that split a table keyed by UUID text into 16 near-equal chunks (and cover any key).
_KEY_BOUNDS: list[str | None] = [None, *"123456789abcdef", None]

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in all) after each step of the copy."""
Job = Callable[[], Iterator[tuple[float, int]]]
"""One table's copy, step by step: yields (fraction of the table done, objects copied)."""


@dataclass(frozen=True)
class ExportSpec:
    """What goes into a workstation's infobase, and the identity written into it."""

    workstation_id: str
    tenant: str
    prefix: str
    orgs: Sequence[str] | None = None  # None: every organization
    catalogs: str = "all"  # "all" | "used"
    priority: str = "cloud"
    receive_only: Sequence[str] = ()
    cloud_url: str = ""


@dataclass
class ExportResult:
    cursor: int  # the tenant's journal head inside the snapshot
    schema: Schema
    counts: dict[str, int] = field(default_factory=dict)  # objects per entity
    organizations: list[dict[str, str]] = field(default_factory=list)  # [{id, name}]

    @property
    def objects(self) -> int:
        return sum(self.counts.values())


def export_infobase(
    tenant_db: Path, dest: Path, spec: ExportSpec, *, progress: Progress | None = None,
    snapshot_hook: Callable[[], None] | None = None,
) -> ExportResult:
    """Write the workstation's ready infobase for `spec` to `dest` (which must not exist).

    `snapshot_hook` runs inside the snapshot, after the first copy step: tests use it to land
    writes on the tenant in the middle of an export. On failure `dest` is removed.
    """
    if spec.catalogs not in ("all", "used"):
        raise ValidationError(f"catalogs: must be all or used, got {spec.catalogs!r}",
                              field="catalogs")
    if dest.exists():
        raise StoreError(f"{dest}: already exists")
    src = connect(tenant_db)
    try:
        schema_text, page_size = _tenant_layout(src, tenant_db)
        schema = parse_schema(schema_text, origin=f"{tenant_db}:_meta")
        _prepare(dest, schema, page_size)
        src.execute("ATTACH ? AS " + ATTACHED, (str(dest),))
        try:
            src.execute(f"PRAGMA {ATTACHED}.journal_mode=MEMORY; "
                        f"PRAGMA {ATTACHED}.synchronous=OFF; "
                        f"PRAGMA {ATTACHED}.cache_size=-{CACHE_KIB}")
            src.execute("BEGIN")
            try:
                result = _Copier(src, schema, spec, progress, snapshot_hook).run(schema_text)
                src.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(apsw.Error):
                    src.execute("ROLLBACK")
                raise
        finally:
            src.execute("DETACH " + ATTACHED)
    except BaseException:
        src.close()
        _remove_db(dest)
        raise
    src.close()
    try:
        _finish(dest, schema, spec, result.cursor)
    except BaseException:
        _remove_db(dest)
        raise
    return result


def _tenant_layout(conn: apsw.Connection, path: Path) -> tuple[str, int]:
    try:
        meta = {str(k): v for k, v in conn.execute("SELECT key, value FROM _meta")}
    except apsw.Error:
        raise StoreError(f"{path}: not an Outpost infobase") from None
    if "schema" not in meta:
        raise StoreError(f"{path}: not an Outpost infobase")
    fmt = int(meta.get("store_format", 0))
    if fmt != migrations.CURRENT:
        raise StoreError(f"{path}: store format {fmt}, this bundle builder writes "
                         f"{migrations.CURRENT}; open it with the cloud once to upgrade it")
    page_size: Any = conn.execute("PRAGMA page_size").fetchall()[0][0]
    return str(meta["schema"]), int(page_size)


def _prepare(dest: Path, schema: Schema, page_size: int) -> None:
    """The new file with Outpost's tables and the entity tables, without triggers or the
    secondary indexes (built after the copy, which is faster than keeping them up to date)."""
    conn = apsw.Connection(str(dest), flags=apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
    try:
        conn.execute(f"PRAGMA page_size={int(page_size)}; PRAGMA journal_mode=DELETE")
        conn.execute("BEGIN")
        conn.execute(BASE_TABLES)
        for stmt in schema_sql(schema, capture=False):
            if not stmt.startswith("CREATE INDEX"):
                conn.execute(stmt)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _finish(dest: Path, schema: Schema, spec: ExportSpec, cursor: int) -> None:
    """Indexes, capture and numbering triggers, counters at 0, and the workstation's _meta."""
    conn = apsw.Connection(str(dest), flags=apsw.SQLITE_OPEN_READWRITE)
    try:
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        conn.execute("BEGIN")
        for stmt in schema_sql(schema, capture=False):
            if stmt.startswith("CREATE INDEX"):
                conn.execute(stmt)
        for e in schema.entities.values():
            for stmt in [*capture_triggers(e), *numbering_trigger(e)]:
                conn.execute(stmt)
        meta: dict[str, Any] = {
            "store_format": migrations.CURRENT,
            "schema_name": schema.name,
            "schema_version": schema.version,
            "schema": schema.source,
            "prefix": spec.prefix,
            "node": "workstation",
            "workstation_id": spec.workstation_id,
            "tenant": spec.tenant,
            "cursor": cursor,
            "orgs": json.dumps(list(spec.orgs or [])),
            "priority": spec.priority,
            "receive_only": json.dumps(list(spec.receive_only)),
            "cloud_url": spec.cloud_url,
        }
        conn.executemany("INSERT INTO _meta(key, value) VALUES (?, ?)", meta.items())
        conn.execute("COMMIT")
    finally:
        conn.close()


def _remove_db(path: Path) -> None:
    for p in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)


class _Copier:
    """The copy itself, inside the open snapshot transaction on `conn` (tenant = main)."""

    def __init__(self, conn: apsw.Connection, schema: Schema, spec: ExportSpec,
                 progress: Progress | None, hook: Callable[[], None] | None) -> None:
        self.conn = conn
        self.schema = schema
        self.spec = spec
        self.progress = progress
        self.hook = hook
        self.orgs: list[str] | None = None if spec.orgs is None else list(spec.orgs)
        self.whole: set[str] = set()  # entities copied without a filter

    def run(self, schema_text: str) -> ExportResult:
        if self.conn.execute("SELECT value FROM main._meta WHERE key = 'schema'").fetchone() != (
            schema_text,
        ):
            raise StoreError("the tenant's schema changed while the export started; try again")
        cursor = int(self.scalar("SELECT max(seq) FROM main._journal") or 0)
        self.check_orgs()
        result = ExportResult(cursor=cursor, schema=self.schema)
        jobs = self.plan()
        total = sum(weight for weight, _, _ in jobs)
        done = 0.0
        if self.progress:
            self.progress(0, total)
        for weight, entity, job in jobs:
            for fraction, n in job():
                if entity is not None:
                    result.counts[entity] = result.counts.get(entity, 0) + n
                done += weight * fraction
                if self.progress:
                    self.progress(min(int(done), total), total)
                if self.hook is not None:
                    self.hook()
                    self.hook = None
        if self.spec.catalogs == "used":
            for name, n in self.copy_used_catalogs().items():
                result.counts[name] = result.counts.get(name, 0) + n
        self.copy_versions()
        if self.progress:
            self.progress(total, total)
        result.organizations = self.organizations()
        return result

    # -- helpers -----------------------------------------------------------------------------

    def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def exec_count(self, sql: str, args: Sequence[Any] = ()) -> int:
        self.conn.execute(sql, args)
        return int(self.conn.changes())

    def marks(self) -> str:
        return ", ".join("?" * len(self.orgs or []))

    def check_orgs(self) -> None:
        if self.orgs is None:
            return
        if not self.orgs:
            raise ValidationError("orgs: name at least one organization, or none for all",
                                  field="orgs")
        table = q(self.schema.org_entity.table)
        for oid in self.orgs:
            if self.scalar(f"SELECT 1 FROM main.{table} WHERE id = ?", (oid,)) is None:
                raise NotFound(f"no organization with id {oid} in tenant '{self.spec.tenant}'")

    def weight(self, table: str) -> int:
        """About how many rows main's `table` holds, for the progress bar only: the span of its
        rowids, found in two index lookups (a count would read the whole table)."""
        if not self.progress:
            return 1
        row: Any = self.conn.execute(
            f"SELECT min(rowid), max(rowid) FROM main.{q(table)}").fetchone()
        return 1 if row is None or row[0] is None else int(row[1]) - int(row[0]) + 1

    # -- the plan ----------------------------------------------------------------------------

    def org_filter(self, e: Entity) -> str | None:
        """The WHERE condition on main's rows of `e`; None: copied whole; "": not here."""
        if e.organization == "self":
            return None if self.orgs is None else f"id IN ({self.marks()})"
        if e.org_field:
            return None if self.orgs is None else f"{q(e.org_field)} IN ({self.marks()})"
        return None if self.spec.catalogs == "all" else ""  # shared catalogs: all or used

    def plan(self) -> list[tuple[int, str | None, Job]]:
        """(weight, entity whose objects it copies, job) for every table to copy."""
        jobs: list[tuple[int, str | None, Job]] = []
        for e in self.schema.entities.values():
            cond = self.org_filter(e)
            if cond == "":
                continue  # a shared catalog, filled by copy_used_catalogs
            if cond is None:
                self.whole.add(e.name)
                weight = self.weight(e.table)
                jobs.append((weight, e.name, self.copy_whole(e.table)))
                for s in e.sections:  # about as many rows as owners: good enough for a bar
                    jobs.append((weight, None, self.copy_whole(s.table)))
                continue
            weight = self.weight(e.table)
            jobs.append((weight, e.name, self.copy_rows(e, cond)))
            for s in e.sections:
                jobs.append((weight, None, self.copy_section(e.table, s.table)))
        return jobs

    def copy_whole(self, table: str) -> Job:
        # The plain form lets SQLite transfer whole records, as VACUUM does.
        sql = f"INSERT INTO {ATTACHED}.{q(table)} SELECT * FROM main.{q(table)}"

        def job() -> Iterator[tuple[float, int]]:
            yield 1.0, self.exec_count(sql)
        return job

    def copy_rows(self, e: Entity, cond: str) -> Job:
        """Filtered rows in rowid chunks; empty stretches of rowids are skipped, not walked."""
        t = q(e.table)
        sql = (f"INSERT INTO {ATTACHED}.{t} SELECT * FROM main.{t} "
               f"WHERE rowid >= ? AND rowid < ? AND {cond}")

        def job() -> Iterator[tuple[float, int]]:
            first = self.scalar(f"SELECT min(rowid) FROM main.{t}")
            last = self.scalar(f"SELECT max(rowid) FROM main.{t}")
            if first is None:
                return
            span = float(last - first + 1)
            lo = int(first)
            while lo is not None and lo <= last:
                hi = lo + CHUNK_ROWS
                n = self.exec_count(sql, (lo, hi, *(self.orgs or [])))
                yield (min(hi, last + 1) - lo) / span, n
                lo = self.scalar(f"SELECT min(rowid) FROM main.{t} WHERE rowid >= ?", (hi,))
        return job

    def copy_section(self, owner_table: str, table: str) -> Job:
        """Section rows of exported owners, in key order, in 16 ranges of the owner's id."""
        def job() -> Iterator[tuple[float, int]]:
            ranges = list(key_ranges())
            for lo, hi in ranges:
                where, args = _key_range("l.owner", lo, hi)
                sql = (f"INSERT INTO {ATTACHED}.{q(table)} SELECT l.* FROM main.{q(table)} AS l "
                       f"WHERE {where} AND EXISTS (SELECT 1 FROM {ATTACHED}.{q(owner_table)} "
                       "AS o WHERE o.id = l.owner)")
                self.conn.execute(sql, args)
                yield 1 / len(ranges), 0
        return job

    # -- catalogs the exported objects use -----------------------------------------------------

    def shared_refs(self, e: Entity) -> list[tuple[str | None, str, str]]:
        """(section table or None, ref column, shared catalog) for refs of `e` to catalogs."""
        out: list[tuple[str | None, str, str]] = []
        for f in e.fields:
            if f.to and self.schema.entity(f.to).shared:
                out.append((None, f.name, f.to))
        for s in e.sections:
            for f in s.fields:
                if f.to and self.schema.entity(f.to).shared:
                    out.append((s.table, f.name, f.to))
        return out

    def copy_used_catalogs(self) -> dict[str, int]:
        """Shared catalogs' objects referred to by what is exported, transitively.

        Each round reads only the rows added by the round before (rowids grow), so a chain of
        catalogs referring to catalogs costs one pass over each new row.
        """
        counts: dict[str, int] = {}
        shared = [e for e in self.schema.entities.values() if e.shared]
        frontier: dict[str, int] = {
            e.name: 0 for e in self.schema.entities.values() if not e.shared
        }
        while frontier:
            before = {c.name: self.max_rowid(c.table) for c in shared}
            for name, since in frontier.items():
                e = self.schema.entity(name)
                o = q(e.table)
                for section, col, target in self.shared_refs(e):
                    c = q(self.schema.entity(target).table)
                    if section is None:
                        src = f"{ATTACHED}.{o} AS s"
                        cond = "s.rowid > ?"
                    else:
                        src = (f"{ATTACHED}.{o} AS o JOIN {ATTACHED}.{q(section)} AS s "
                               "ON s.owner = o.id")
                        cond = "o.rowid > ?"
                    n = self.exec_count(
                        f"INSERT OR IGNORE INTO {ATTACHED}.{c} SELECT c.* FROM {src} "
                        f"JOIN main.{c} AS c ON c.id = s.{q(col)} WHERE {cond}", (since,))
                    counts[target] = counts.get(target, 0) + n
            frontier = {}
            for cat in shared:
                if self.max_rowid(cat.table) > before[cat.name]:
                    for s in cat.sections:
                        self.conn.execute(
                            f"INSERT OR IGNORE INTO {ATTACHED}.{q(s.table)} SELECT l.* "
                            f"FROM {ATTACHED}.{q(cat.table)} AS c JOIN main.{q(s.table)} AS l "
                            "ON l.owner = c.id WHERE c.rowid > ? ORDER BY l.owner, l.line_no",
                            (before[cat.name],))
                    frontier[cat.name] = before[cat.name]
        return counts

    def max_rowid(self, table: str) -> int:
        return int(self.scalar(f"SELECT max(rowid) FROM {ATTACHED}.{q(table)}") or 0)

    # -- versions and organizations ------------------------------------------------------------

    def copy_versions(self) -> None:
        """The agreed version of every exported object (tombstones stay on the cloud)."""
        cols = {str(r[1]) for r in self.conn.execute("PRAGMA main.table_info(_versions)")}
        if self.whole == set(self.schema.entities):
            live = " WHERE deleted = 0" if "deleted" in cols else ""
            self.conn.execute(f"INSERT INTO {ATTACHED}._versions SELECT * FROM main._versions"
                              + live)
            return
        # Walking each new table's id index gives the ids in key order: main's _versions is
        # then read, and the new one written, in order (three times faster than a join).
        for e in self.schema.entities.values():
            self.conn.execute(
                f"INSERT OR IGNORE INTO {ATTACHED}._versions SELECT v.* FROM main._versions AS v "
                f"WHERE v.id IN (SELECT id FROM {ATTACHED}.{q(e.table)})")

    def organizations(self) -> list[dict[str, str]]:
        e = self.schema.org_entity
        label = "name" if e.field("name") else "id"
        rows = self.conn.execute(
            f"SELECT id, {q(label)} FROM {ATTACHED}.{q(e.table)} ORDER BY {q(label)}, id")
        return [{"id": str(i), "name": "" if n is None else str(n)} for i, n in rows]


def _key_range(col: str, lo: str | None, hi: str | None) -> tuple[str, list[str]]:
    conds, args = [], []
    if lo is not None:
        conds.append(f"{col} >= ?")
        args.append(lo)
    if hi is not None:
        conds.append(f"{col} < ?")
        args.append(hi)
    return (" AND ".join(conds) or "1"), args


def key_ranges() -> Iterator[tuple[str | None, str | None]]:
    """The 16 ranges that together cover every text key (exposed for the tests)."""
    yield from itertools.pairwise(_KEY_BOUNDS)
