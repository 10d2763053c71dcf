"""Opening an infobase made by an older Outpost upgrades it in place, losing nothing."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import apsw
import orjson

from core import Store, migrations

DATA = Path(__file__).with_name("data")


def format_1(path: Path) -> Path:
    conn = apsw.Connection(str(path))
    conn.execute((DATA / "store_format_1.sql").read_text())
    conn.close()
    return path


def dump(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return [tuple(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_format_1_is_upgraded_with_every_row_kept(tmp_path: Path) -> None:
    path = format_1(tmp_path / "old.db")
    tables = ["_journal", "_counters", "_versions", "_history", "_meta", "organizations",
              "counterparties", "items", "sales_invoices", "sales_invoices_lines", "payments"]
    columns = {"_journal": "seq, entity, id, op, org, origin, at"}  # format 3 adds `rid`
    read = {t: f"SELECT {columns.get(t, '*')} FROM {t} ORDER BY 1, 2" for t in tables}
    before = {t: dump(path, sql) for t, sql in read.items()}
    assert before["_meta"] and ("store_format", 1) in before["_meta"]
    with Store.open(path) as store:
        assert store.meta("store_format") == migrations.CURRENT == 3
        objects = {e: store.list_objects(e) for e in store.schema.entities}
    after = {t: dump(path, sql) for t, sql in read.items()}
    assert {r[0] for r in dump(path, "SELECT rid FROM _journal")} == {None}
    before["_meta"].remove(("store_format", 1))
    after["_meta"].remove(("store_format", 3))
    assert after == before
    assert dump(path, "PRAGMA integrity_check") == [("ok",)]
    # the objects read back whole: an invoice with its line, numbered with the old prefix
    (invoice,) = objects["sales_invoices"]
    assert invoice["fields"]["number"] == "K7-000001" and len(invoice["fields"]["lines"]) == 1
    assert [c["fields"]["name"] for c in objects["counterparties"]] == ["Acme"]


def test_an_upgraded_infobase_captures_and_numbers_as_a_new_one(tmp_path: Path) -> None:
    path = format_1(tmp_path / "old.db")
    Store.open(path).close()
    triggers = dict(dump(path, "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'"))
    assert {"_num_items", "_numbered_items", "_cap_items_n"} <= set(triggers)
    assert not any("printf" in sql for sql in triggers.values())
    other = sqlite3.connect(path, isolation_level=None)
    oid = str(uuid.uuid4())
    other.execute("INSERT INTO counterparties(id, name) VALUES (?, 'New')", (oid,))
    other.execute("UPDATE counterparties SET name = 'Newer' WHERE id = ?", (oid,))
    other.close()
    with Store.open(path) as store:
        # the counter went on from where format 1 left it (Acme 1, a deleted one 2)
        assert store.require("counterparties", oid)["fields"]["code"] == "K7-000003"
        ops = [r[0] for r in store.conn.execute(
            "SELECT op FROM _journal WHERE id = ? ORDER BY seq", (oid,))]
        assert sorted(ops) == ["I", "U", "U"]  # inserted, numbered, renamed


def test_an_upgrade_happens_once(tmp_path: Path) -> None:
    path = format_1(tmp_path / "old.db")
    Store.open(path).close()
    schema = dump(path, "SELECT type, name, sql FROM sqlite_schema ORDER BY name")
    Store.open(path).close()
    assert dump(path, "SELECT type, name, sql FROM sqlite_schema ORDER BY name") == schema


def test_two_programs_opening_an_old_file_at_once_upgrade_it_once(tmp_path: Path) -> None:
    path = format_1(tmp_path / "old.db")
    # the second read the format (1) before the first upgraded; it must not upgrade again
    from core.db import connect

    late = connect(path)
    Store.open(path).close()
    migrations.upgrade(late, 1, path)
    late.close()
    with Store.open(path) as store:
        assert store.meta("store_format") == migrations.CURRENT
        assert len(store.list_objects("counterparties")) == 1


def format_2(path: Path) -> Path:
    """An infobase as format 2 made it: journal rows without `rid`, triggers that write none."""
    from core.ddl import capture_triggers
    from core.schema import default_schema

    schema = default_schema()
    Store.create(path, schema, prefix="K7").close()
    conn = apsw.Connection(str(path))
    with conn:
        for (name,) in conn.execute(
                "SELECT name FROM sqlite_schema WHERE name GLOB '_cap_*'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("ALTER TABLE _journal DROP COLUMN rid")
        for e in schema.entities.values():
            for stmt in capture_triggers(e):
                conn.execute(stmt.replace(", rid)", ")").replace(", NEW.rowid)", ")"))
        conn.execute("UPDATE _meta SET value = 2 WHERE key = 'store_format'")
    conn.close()
    return path


def test_format_2_journals_rowids_after_the_upgrade(tmp_path: Path) -> None:
    from core.changes import outgoing_window
    from daemon.sync.tables import ensure_workstation_tables

    path = format_2(tmp_path / "old.db")
    other = sqlite3.connect(path, isolation_level=None)  # another program, before the upgrade
    old = str(uuid.uuid4())
    other.execute("INSERT INTO counterparties(id, name) VALUES (?, 'Old')", (old,))
    other.close()
    with Store.open(path) as store:
        assert store.meta("store_format") == migrations.CURRENT == 3
        new = store.put("counterparties", {"name": "New"})["id"]
        rids = dict(store.conn.execute("SELECT id, max(rid) FROM _journal GROUP BY id"))
        assert rids[old] is None
        assert rids[new] == store.scalar("SELECT rowid FROM counterparties WHERE id = ?", (new,))
        ensure_workstation_tables(store)
        sent = {c["id"]: c for c in orjson.loads(outgoing_window(store, 100).body)}
        assert sent[old]["fields"]["name"] == "Old" and sent[new]["fields"]["name"] == "New"
