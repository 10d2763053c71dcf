"""Opening and creating infobase files: clear one-line refusals, nothing touched on failure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core import Entity, Field, Schema, Store, StoreError, default_schema, migrations


def refused(path: Path, words: str, *, readonly: bool = False) -> str:
    with pytest.raises(StoreError) as err:
        Store.open(path, readonly=readonly)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and words in message, message
    assert "\n" not in message
    return message


@pytest.mark.parametrize("readonly", [False, True])
def test_open_a_missing_file(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "none.db"
    refused(path, "no such database", readonly=readonly)
    assert not path.exists()


@pytest.mark.parametrize("readonly", [False, True])
def test_open_a_file_that_is_not_a_database(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    refused(path, "cannot open database", readonly=readonly)
    assert path.read_bytes() == b"these are my notes, not a database\n" * 200


@pytest.mark.parametrize("readonly", [False, True])
def test_open_a_database_that_is_not_an_infobase(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE contacts(name TEXT)")
    conn.close()
    refused(path, "not an Outpost infobase", readonly=readonly)
    other = tmp_path / "other_meta.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE _meta(key TEXT PRIMARY KEY, value)")
        conn.execute("INSERT INTO _meta VALUES ('store_format', 1)")
    conn.close()
    refused(other, "not an Outpost infobase", readonly=readonly)


def test_open_a_directory(tmp_path: Path) -> None:
    refused(tmp_path, "cannot open database")


def set_format(path: Path, value: object) -> None:
    with Store.create(path, default_schema()) as store, store.write():
        store.set_meta("store_format", value)


@pytest.mark.parametrize("readonly", [False, True])
def test_open_a_file_made_by_a_newer_outpost(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "new.db"
    set_format(path, 99)
    message = refused(path, "made by a newer Outpost (store format 99, this one knows "
                      f"{migrations.CURRENT})",
                      readonly=readonly)
    assert "store format 99" in message
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM _meta WHERE key = 'store_format'").fetchone() == (99,)
    conn.close()


@pytest.mark.parametrize("value", ["two", None, 0])
def test_open_a_file_with_a_broken_store_format(tmp_path: Path, value: object) -> None:
    path = tmp_path / "broken.db"
    set_format(path, value)
    refused(path, "not an Outpost infobase")


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.db"
    path.write_text("keep me")
    with pytest.raises(StoreError, match="already exists"):
        Store.create(path, default_schema())
    assert path.read_text() == "keep me"
    with Store.create(tmp_path / "a.db", default_schema()) as store:
        store.put("items", {"name": "x"})
    with pytest.raises(StoreError, match="already exists"):
        Store.create(tmp_path / "a.db", default_schema())
    with Store.open(tmp_path / "a.db") as store:
        assert store.count("items") == 1


def test_a_create_that_fails_leaves_no_file(tmp_path: Path) -> None:
    # a schema made in code, past the loader's checks: SQLite refuses the table's name
    bad = Schema("bad", 1, {
        "orgs": Entity("orgs", "catalog", "self", (Field("name", "string"),)),
        "sqlite_x": Entity("sqlite_x", "catalog", "none", (Field("name", "string"),)),
    })
    path = tmp_path / "bad.db"
    with pytest.raises(StoreError) as err:
        Store.create(path, bad)
    assert str(err.value).startswith(f"{path}: cannot create the infobase")
    assert list(tmp_path.iterdir()) == []


def test_a_reopened_infobase_describes_itself(tmp_path: Path) -> None:
    path = tmp_path / "ib.db"
    with Store.create(path, default_schema(), prefix="K7") as store:
        obj = store.put("counterparties", {"name": "Acme"})
        head = store.head()
    for readonly in (False, True):
        with Store.open(path, readonly=readonly) as store:
            assert store.schema.entities == default_schema().entities
            assert store.prefix == "K7"
            assert store.meta("schema_name") == "accounting"
            assert store.meta("schema_version") == 1
            assert store.meta("store_format") == migrations.CURRENT
            assert store.head() == head
            assert store.require("counterparties", obj["id"]) == obj
            assert store.stamps_versions  # made by Store.create: the cloud's kind


def test_a_workstation_infobase_leaves_versions_to_sync(tmp_path: Path) -> None:
    path = tmp_path / "ws.db"
    with Store.create(path, default_schema(), prefix="W1") as store, store.write():
        store.set_meta("node", "workstation")
    with Store.open(path) as store:
        assert not store.stamps_versions
        obj = store.put("items", {"name": "x"})
        assert obj["version"] == 0 and store.head() > 0


def test_meta_round_trip_and_reads_in_a_snapshot(store: Store) -> None:
    assert store.meta("nothing", "dflt") == "dflt"
    with store.write():
        store.set_meta("cursor", 5)
        store.set_meta("cursor", 6)
    assert store.meta("cursor") == 6
    with store.read():
        assert store.scalar("SELECT count(*) FROM _meta WHERE key = 'cursor'") == 1


@pytest.mark.parametrize("page_size", [4096, 16384])
def test_the_wal_is_checkpointed_and_cut_back_by_bytes_whatever_the_page_size(
    tmp_path: Path, page_size: int
) -> None:
    from core.db import WAL_CHECKPOINT_BYTES, WAL_KEPT_BYTES, connect

    conn = connect(tmp_path / "x.db", create=True, page_size=page_size)
    conn.execute("CREATE TABLE t(x)")
    conn.close()
    conn = connect(tmp_path / "x.db")
    pages = conn.execute("PRAGMA wal_autocheckpoint").fetchall()[0][0]
    assert pages * page_size == WAL_CHECKPOINT_BYTES
    assert conn.execute("PRAGMA journal_size_limit").fetchall()[0][0] == WAL_KEPT_BYTES
    conn.close()
