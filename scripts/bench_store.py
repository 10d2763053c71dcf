#!/usr/bin/env python3
"""What capturing every write costs: insert rates with and without the capture triggers.

    .venv/bin/python scripts/bench_store.py [--objects 100000] [--rounds 3] [--no-documents]
    .venv/bin/python scripts/bench_store.py --breakdown [--objects 100000] [--rounds 5]

For N counterparties (and N/5 invoices of 3 lines each), each loaded in one transaction into a
fresh file opened with core.db.connect's PRAGMAs, it measures:
  api        Store.put_row for each object inside one `with store.write()` (validation,
             reference checks, versions: everything the object API does)
  capture    raw SQL executemany into an infobase: the capture triggers journal every row
  plain      the same executemany into identical tables without triggers
             (core.ddl.schema_sql(schema, capture=False)): the floor
  numbered   `capture` with the codes left NULL, so the numbering trigger assigns them
             (counterparties only)
Rounds are interleaved and their order rotated, and medians are kept, because the machine is
shared and noisy. A ratio is the median of each round's own ratio (a variant against the plain
run of the same round), which cancels most of the drift of the load; the CPU time, the ratio of
the medians and that of the fastest runs are shown as cross-checks.
--breakdown adds capture's pieces to the plain tables one at a time (a trigger that does
nothing, the journal row, the idle numbering triggers) to show where the cost goes; then the
shapes not chosen: constraints left ON CONFLICT ABORT, the insert trigger stamping its time
(both give every insert a statement journal), keeping versions, reading the writer's origin.
Target: capture <= 1.5x plain. Figures: docs/performance.md, "Store: capture cost".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.db import INFOBASE_PAGE_SIZE, connect, write_tx  # noqa: E402
from core.ddl import BASE_TABLES, schema_sql  # noqa: E402
from core.schema import Schema, default_schema  # noqa: E402
from core.store import Store  # noqa: E402

Rows = list[tuple[Any, ...]]
Timing = tuple[float, float]  # wall seconds, CPU seconds of this process
LINES_PER_DOCUMENT = 3


class Clock:
    """Wall and CPU time of a block. CPU time is the cross-check on a busy machine: it moves
    less than wall time when other processes take the cores."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    @property
    def took(self) -> Timing:
        return self.wall, self.cpu


class Data:
    """The objects every variant loads, made once so that making them is never timed."""

    def __init__(self, n: int, documents: int) -> None:
        self.org = str(uuid.uuid4())
        self.counterparty = str(uuid.uuid4())
        self.item = str(uuid.uuid4())
        self.counterparties: Rows = [
            (str(uuid.uuid4()), f"C-{i:07d}", f"Counterparty {i} Ltd", f"{7700000000 + i}")
            for i in range(n)
        ]
        self.invoices: Rows = []
        self.lines: Rows = []
        for i in range(documents):
            oid = str(uuid.uuid4())
            self.invoices.append(
                (oid, f"I-{i:07d}", "2024-03-01", self.org, self.counterparty, 30.0, 1)
            )
            for n_line in range(1, LINES_PER_DOCUMENT + 1):
                self.lines.append((oid, n_line, self.item, 2.0, 5.0, 10.0))

    def invoice_fields(self) -> list[tuple[str, dict[str, Any]]]:
        lines: dict[str, list[dict[str, Any]]] = {}
        for owner, _, item, qty, price, amount in self.lines:
            lines.setdefault(owner, []).append(
                {"item": item, "quantity": qty, "price": price, "amount": amount}
            )
        return [
            (oid, {"number": num, "date": date, "organization": org, "counterparty": cp,
                   "total": total, "posted": bool(posted), "lines": lines[oid]})
            for oid, num, date, org, cp, total, posted in self.invoices
        ]


def fresh(path: Path, schema: Schema, *, capture: bool) -> Any:
    """A new file with the schema's tables; an open Store when capturing, else a bare connection."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if capture:
        return Store.create(path, schema, prefix="AB")
    conn = connect(path, create=True, page_size=INFOBASE_PAGE_SIZE)  # as Store.create
    with write_tx(conn):
        conn.execute(BASE_TABLES)
        for stmt in schema_sql(schema, capture=False):
            conn.execute(stmt)
    return conn


# --breakdown: where capture's cost goes, adding one piece at a time to the plain tables; then
# shapes the design chose against: constraints left ABORT (SQLite's default), the insert
# trigger stamping its time, keeping _versions, or reading the writer's origin from _meta. The
# first two give every insert a statement journal (core/ddl.py says why).
NO_OP_TRIGGER = "CREATE TRIGGER t AFTER INSERT ON counterparties BEGIN SELECT 1; END"
JOURNAL_ROW = ("INSERT INTO _journal(entity, id, op, rid) "
               "VALUES ('counterparties', NEW.id, 'I', NEW.rowid); ")
WITH_TIME = (
    "INSERT INTO _journal(entity, id, op, rid, at) VALUES ('counterparties', NEW.id, 'I', "
    "NEW.rowid, (julianday('now') - 2440587.5) * 86400.0); "
)
WITH_VERSIONS = JOURNAL_ROW + (
    "INSERT INTO _versions(id, version, deleted, at) VALUES (NEW.id, last_insert_rowid(), 0, "
    "(julianday('now') - 2440587.5) * 86400.0) ON CONFLICT(id) DO UPDATE SET "
    "version = excluded.version, deleted = 0, at = excluded.at; "
)
WITH_ORIGIN = (
    "INSERT INTO _journal(entity, id, op, rid, origin) VALUES ('counterparties', NEW.id, 'I', "
    "NEW.rowid, (SELECT value FROM _meta WHERE key = 'origin')); "
)
STEPS = ("plain", "trigger", "journal", "capture", "abort", "+time", "+versions", "+origin")


def breakdown_tables(schema: Schema, step: str) -> list[str]:
    """Outpost's tables and the statements of one step of the breakdown."""
    full = schema_sql(schema)
    if step == "plain":
        return [BASE_TABLES, *schema_sql(schema, capture=False)]
    if step == "trigger":
        return [BASE_TABLES, *schema_sql(schema, capture=False), NO_OP_TRIGGER]
    if step == "journal":  # the capture triggers without the numbering ones
        return [BASE_TABLES, *(s for s in full if not s.startswith('CREATE TRIGGER "_num'))]
    if step == "abort":
        return [st.replace(" ON CONFLICT FAIL", "") for st in [BASE_TABLES, *full]]
    if step in ("+time", "+versions", "+origin"):
        swap = {"+time": WITH_TIME, "+versions": WITH_VERSIONS, "+origin": WITH_ORIGIN}[step]
        changed = [st.replace(JOURNAL_ROW, swap) for st in full]
        assert sum(a != b for a, b in zip(full, changed, strict=True)) == 1
        return [BASE_TABLES, *changed]
    return [BASE_TABLES, *full]


def raw_breakdown(path: Path, schema: Schema, rows: Rows, step: str) -> Timing:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = connect(path, create=True, page_size=INFOBASE_PAGE_SIZE)  # as Store.create
    with write_tx(conn):
        for stmt in breakdown_tables(schema, step):
            conn.execute(stmt)
    with Clock() as clock, write_tx(conn):
        conn.executemany(CP_SQL, rows)
    check(conn, "counterparties", len(rows), 0 if step in ("plain", "trigger") else len(rows))
    conn.close()
    return clock.took


def seed_refs(conn: Any, data: Data) -> None:
    """The organization, counterparty and item the invoices refer to (not timed)."""
    with write_tx(conn):
        conn.execute("INSERT INTO organizations(id, name) VALUES (?, 'Org')", (data.org,))
        conn.execute("INSERT INTO counterparties(id, code, name) VALUES (?, 'K-1', 'Buyer')",
                     (data.counterparty,))
        conn.execute("INSERT INTO items(id, code, name) VALUES (?, 'P-1', 'Widget')",
                     (data.item,))


CP_SQL = "INSERT INTO counterparties(id, code, name, tax_id) VALUES (?, ?, ?, ?)"
INV_SQL = ("INSERT INTO sales_invoices(id, number, date, organization, counterparty, total, "
           "posted) VALUES (?, ?, ?, ?, ?, ?, ?)")
LINE_SQL = ("INSERT INTO sales_invoices_lines(owner, line_no, item, quantity, price, amount) "
            "VALUES (?, ?, ?, ?, ?, ?)")


def check(conn: Any, table: str, count: int, journaled: int) -> None:
    """What was loaded is all there, and journaled exactly as the variant should be."""
    got = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    journal = conn.execute("SELECT count(*) FROM _journal").fetchall()[0][0]
    if got != count or journal < journaled or (journaled == 0 and journal):
        raise SystemExit(f"bench: {table} has {got} rows and {journal} journal rows")


def raw_counterparties(path: Path, schema: Schema, rows: Rows, capture: bool) -> Timing:
    target = fresh(path, schema, capture=capture)
    conn = target.conn if capture else target
    with Clock() as clock, write_tx(conn):
        conn.executemany(CP_SQL, rows)
    check(conn, "counterparties", len(rows), len(rows) if capture else 0)
    conn.close()
    return clock.took


def api_counterparties(path: Path, schema: Schema, data: Data) -> Timing:
    store = fresh(path, schema, capture=True)
    objects = [(oid, {"code": c, "name": n, "tax_id": t}) for oid, c, n, t in data.counterparties]
    with Clock() as clock, store.write():
        for oid, fields in objects:
            store.put_row("counterparties", fields, id=oid)
    check(store.conn, "counterparties", len(objects), len(objects))
    store.close()
    return clock.took


def raw_documents(path: Path, schema: Schema, data: Data, capture: bool) -> Timing:
    target = fresh(path, schema, capture=capture)
    conn = target.conn if capture else target
    seed_refs(conn, data)
    with Clock() as clock, write_tx(conn):
        conn.executemany(INV_SQL, data.invoices)
        conn.executemany(LINE_SQL, data.lines)
    check(conn, "sales_invoices_lines", len(data.lines),
          len(data.invoices) + len(data.lines) if capture else 0)
    conn.close()
    return clock.took


def api_documents(path: Path, schema: Schema, data: Data) -> Timing:
    store = fresh(path, schema, capture=True)
    seed_refs(store.conn, data)
    objects = data.invoice_fields()
    with Clock() as clock, store.write():
        for oid, fields in objects:
            store.put_row("sales_invoices", fields, id=oid)
    check(store.conn, "sales_invoices_lines", len(data.lines), len(objects) + len(data.lines))
    store.close()
    return clock.took


def run(name: str, count: int, variants: dict[str, Callable[[], Timing]], rounds: int) -> None:
    """Time every variant `rounds` times, interleaved with a rotating order; print medians."""
    times: dict[str, list[Timing]] = {v: [] for v in variants}
    order = list(variants)
    for r in range(rounds):
        for v in order[r % len(order):] + order[: r % len(order)]:
            times[v].append(variants[v]())
    wall = {v: statistics.median(t[0] for t in ts) for v, ts in times.items()}
    best = {v: min(t[0] for t in ts) for v, ts in times.items()}
    cpu = {v: statistics.median(t[1] for t in ts) for v, ts in times.items()}
    print(f"\n{name}: {count:,} objects per load, median of {rounds} (best: the fastest run)")
    w = max(map(len, order))
    print(f"  {'':{w}} {'objects/s':>10} {'wall s':>7} {'best s':>7} {'cpu s':>7}   all wall times")
    for v in order:
        runs = ", ".join(f"{t[0]:.2f}" for t in times[v])
        print(f"  {v:{w}} {count / wall[v]:>10,.0f} {wall[v]:7.2f} {best[v]:7.2f} {cpu[v]:7.2f}"
              f"   {runs}")
    for v in order:
        if v != "plain":
            # paired: each round's ratio, its variant against its plain run, then the median;
            # the load of a shared machine drifts over minutes, and this cancels most of it
            paired = statistics.median(a[0] / b[0] for a, b in zip(times[v], times["plain"],
                                                                    strict=True))
            paired_cpu = statistics.median(a[1] / b[1] for a, b in zip(times[v], times["plain"],
                                                                        strict=True))
            print(f"  {v}/plain = {paired:.2f}x  (cpu {paired_cpu:.2f}x; medians "
                  f"{wall[v] / wall['plain']:.2f}x, best runs {best[v] / best['plain']:.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--objects", type=int, default=100_000, help="counterparties per load")
    ap.add_argument("--rounds", type=int, default=3, help="loads of each variant (median kept)")
    ap.add_argument("--no-documents", action="store_true", help="skip the invoices run")
    ap.add_argument("--breakdown", action="store_true",
                    help="only show where capture's cost goes, one piece at a time")
    args = ap.parse_args()
    schema = default_schema()
    documents = 0 if args.no_documents or args.breakdown else max(1, args.objects // 5)
    data = Data(args.objects, documents)
    unnumbered = [(oid, None, name, tax) for oid, _, name, tax in data.counterparties]
    with tempfile.TemporaryDirectory(prefix="outpost-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        if args.breakdown:
            # plain; + a trigger that does nothing; + the journal row; + the numbering triggers
            # (their WHEN false): all of capture. Then the shapes not chosen.
            run("capture, piece by piece (raw SQL counterparties)", args.objects, {
                step: (lambda step=step: raw_breakdown(db, schema, data.counterparties, step))
                for step in STEPS
            }, args.rounds)
            return
        run("counterparties", args.objects, {
            "api": lambda: api_counterparties(db, schema, data),
            "capture": lambda: raw_counterparties(db, schema, data.counterparties, True),
            "plain": lambda: raw_counterparties(db, schema, data.counterparties, False),
            "numbered": lambda: raw_counterparties(db, schema, unnumbered, True),
        }, args.rounds)
        if documents:
            run(f"sales_invoices with {LINES_PER_DOCUMENT} lines each", documents, {
                "api": lambda: api_documents(db, schema, data),
                "capture": lambda: raw_documents(db, schema, data, True),
                "plain": lambda: raw_documents(db, schema, data, False),
            }, args.rounds)


if __name__ == "__main__":
    main()
