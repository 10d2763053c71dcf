"""An insert into any table of an infobase opens no statement journal (core/ddl.py says why).

A statement journal is a copy of every page a statement touches, kept so that the statement can
be undone on its own; with it, a captured insert cost 1.6 to 1.9 times a plain one instead of
1.3 to 1.5 (docs/performance.md). It comes back as soon as anything an insert sets off could stop
it half-way: an ABORT constraint, or a call to any SQL function in a trigger.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from core import Store, default_schema
from tests.core.helpers import invoice_fields, make_refs

PROBE = Path(__file__).with_name("stmt_journal_probe.py")


def journaled(path: Path, statements: list[tuple[str, list[Any]]]) -> list[bool]:
    proc = subprocess.run([sys.executable, str(PROBE), str(path)], input=json.dumps(statements),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout))


def test_no_insert_opens_a_statement_journal(tmp_path: Path) -> None:
    path = tmp_path / "infobase.db"
    with Store.create(path, default_schema(), prefix="AB") as store:
        refs = make_refs(store)
        inv = store.put("sales_invoices", invoice_fields(refs, lines=0))["id"]
        columns = {e.table: [f.name for f in e.fields] for e in store.schema.entities.values()}
    inserts: list[tuple[str, list[Any]]] = []
    for table, cols in columns.items():
        for number in ("N-1", None):  # a number given, and one the triggers hand out
            values = {c: None for c in cols}
            values.update({"name": "x", "number": number, "code": number})
            names = ["id", *cols]
            inserts.append((f"INSERT INTO {table}({', '.join(names)}) "
                            f"VALUES ({', '.join('?' * len(names))})",
                            [str(uuid.uuid4()), *(values[c] for c in cols)]))
    inserts.append(("INSERT INTO sales_invoices_lines(owner, line_no, item, quantity) "
                    "VALUES (?, 1, ?, 2)", [inv, refs.item]))
    # the control: an update stamps its time, a function call, so it does open one
    control = ("UPDATE items SET name = 'y' WHERE id = ?", [refs.item])
    found = journaled(path, [*inserts, control])
    assert found[-1], "the probe no longer sees statement journals"
    assert [sql for (sql, _), opened in zip(inserts, found, strict=False) if opened] == []
    with Store.open(path) as store:  # and every insert did its work: numbered, journaled
        assert store.scalar("SELECT count(*) FROM counterparties WHERE code LIKE 'AB-%'") == 2
        assert store.scalar("SELECT count(*) FROM _numbering") == 0
