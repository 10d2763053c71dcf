"""The workstation's infobase: filtered, consistent, and ready to use."""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path

import pytest

import bundle_builder.export as export_mod
from bundle_builder import ExportSpec, export_infobase
from core import NotFound, Store, ValidationError, parse_schema
from core.ddl import q

WS = "7f7c5f38-1a7e-4a55-9d0a-2f8a3c1e0b11"


def spec(**kw: object) -> ExportSpec:
    base: dict[str, object] = {"workstation_id": WS, "tenant": "acme", "prefix": "AB",
                               "cloud_url": "http://127.0.0.1:8750"}
    base.update(kw)
    return ExportSpec(**base)  # type: ignore[arg-type]


def ids(store: Store, entity: str) -> set[str]:
    return {r[0] for r in store.conn.execute(f"SELECT id FROM {q(entity)}")}


def all_objects(store: Store, entity: str, org: str | None = None) -> list[dict]:
    out, after = [], None
    while True:
        page = store.list_objects(entity, org=org, after=after, limit=1000)
        if not page:
            return out
        out += page
        after = page[-1]["id"]


def test_one_of_three_organizations_holds_exactly_its_documents(tenant, tmp_path):
    org = tenant.orgs[1]
    res = export_infobase(tenant.path, tmp_path / "ws.db", spec(orgs=[org]))
    with Store.open(tmp_path / "ws.db", readonly=True) as ws:
        assert ids(ws, "organizations") == {org}
        assert ids(ws, "sales_invoices") == set(tenant.invoices[org])
        assert ids(ws, "payments") == set(tenant.payments[org])
        others = [i for o in tenant.orgs if o != org for i in tenant.invoices[o]]
        assert not ids(ws, "sales_invoices") & set(others)
        # every line belongs to an exported invoice, and every exported invoice has its lines
        owners = {r[0] for r in ws.conn.execute("SELECT owner FROM sales_invoices_lines")}
        assert owners == set(tenant.invoices[org])
        # catalogs "all": every shared catalog object, used or not
        assert ids(ws, "counterparties") == set(tenant.counterparties)
        assert ids(ws, "items") == set(tenant.items)
    with Store.open(tenant.path, readonly=True) as cloud, \
            Store.open(tmp_path / "ws.db", readonly=True) as ws:
        for entity in ("sales_invoices", "payments", "organizations"):
            mine = all_objects(cloud, entity, org=org)
            assert all_objects(ws, entity) == mine  # same fields, lines and versions
    assert res.counts["sales_invoices"] == len(tenant.invoices[org])
    assert res.organizations == [{"id": org, "name": "Org B"}]


def test_no_organizations_chosen_means_all(tenant, tmp_path):
    res = export_infobase(tenant.path, tmp_path / "ws.db", spec())
    with Store.open(tenant.path, readonly=True) as cloud, \
            Store.open(tmp_path / "ws.db", readonly=True) as ws:
        for entity in cloud.schema.entities:
            assert all_objects(ws, entity) == all_objects(cloud, entity)
        assert ws.scalar("SELECT count(*) FROM _versions") == cloud.scalar(
            "SELECT count(*) FROM _versions WHERE deleted = 0")
    assert [o["name"] for o in res.organizations] == ["Org A", "Org B", "Org C"]
    assert {o["id"] for o in res.organizations} == set(tenant.orgs)


def test_catalogs_used_keeps_only_what_the_documents_refer_to(tenant, tmp_path):
    org = tenant.orgs[0]
    export_infobase(tenant.path, tmp_path / "ws.db", spec(orgs=[org], catalogs="used"))
    with Store.open(tenant.path, readonly=True) as cloud:
        used_cp = {r[0] for r in cloud.conn.execute(
            "SELECT counterparty FROM sales_invoices WHERE organization = ? UNION "
            "SELECT counterparty FROM payments WHERE organization = ?", (org, org))}
        used_items = {r[0] for r in cloud.conn.execute(
            "SELECT l.item FROM sales_invoices_lines l JOIN sales_invoices d ON d.id = l.owner "
            "WHERE d.organization = ?", (org,))}
    with Store.open(tmp_path / "ws.db", readonly=True) as ws:
        assert ids(ws, "counterparties") == used_cp
        assert ids(ws, "items") == used_items  # items are referred to only by lines
        assert used_items < set(tenant.items) and used_cp < set(tenant.counterparties)
        assert ws.scalar("SELECT count(*) FROM _versions") == sum(
            len(ids(ws, e)) for e in ws.schema.entities)


TRANSITIVE = """
format = 1
name = "chain"
version = 3
[entities.orgs]
kind = "catalog"
organization = "self"
fields = [{ name = "name", type = "string" }]
[entities.units]
kind = "catalog"
fields = [{ name = "name", type = "string" }]
[entities.groups]
kind = "catalog"
fields = [{ name = "name", type = "string" }, { name = "parent", type = "ref", to = "groups" }]
[entities.products]
kind = "catalog"
fields = [{ name = "name", type = "string" }, { name = "group", type = "ref", to = "groups" }]
[entities.products.sections.packs]
fields = [{ name = "unit", type = "ref", to = "units" }]
[entities.orders]
kind = "document"
organization = "org"
fields = [{ name = "org", type = "ref", to = "orgs", required = true },
          { name = "product", type = "ref", to = "products" }]
"""


def test_catalogs_used_follows_catalogs_that_refer_to_catalogs(tmp_path):
    schema = parse_schema(TRANSITIVE)
    with Store.create(tmp_path / "t.db", schema, prefix="00") as s:
        o1, o2 = (s.put("orgs", {"name": n})["id"] for n in ("one", "two"))
        box, kg, unused_unit = (s.put("units", {"name": n})["id"] for n in ("box", "kg", "m"))
        root = s.put("groups", {"name": "root"})["id"]
        mid = s.put("groups", {"name": "mid", "parent": root})["id"]
        leaf = s.put("groups", {"name": "leaf", "parent": mid})["id"]
        lone = s.put("groups", {"name": "lone"})["id"]
        p1 = s.put("products", {"name": "p1", "group": leaf, "packs": [{"unit": box}]})["id"]
        p2 = s.put("products", {"name": "p2", "group": lone, "packs": [{"unit": kg}]})["id"]
        s.put("orders", {"org": o1, "product": p1})
        s.put("orders", {"org": o2, "product": p2})
    export_infobase(tmp_path / "t.db", tmp_path / "ws.db", spec(orgs=[o1], catalogs="used"))
    with Store.open(tmp_path / "ws.db", readonly=True) as ws:
        assert ids(ws, "products") == {p1}
        assert ids(ws, "groups") == {leaf, mid, root}  # the parent chain, not `lone`
        assert ids(ws, "units") == {box}  # through the product's section
        assert unused_unit not in ids(ws, "units")
        assert ws.require("products", p1)["fields"]["packs"] == [{"unit": box}]
        assert ws.schema.version == 3 and ws.meta("schema") == TRANSITIVE


def test_the_database_is_a_ready_workstation_infobase(tenant, tmp_path):
    org = tenant.orgs[2]
    with Store.open(tenant.path, readonly=True) as cloud:
        head = cloud.head()
        schema_text = cloud.meta("schema")
    res = export_infobase(tenant.path, tmp_path / "ws.db",
                          spec(orgs=[org], receive_only=["items"], priority="workstation"))
    assert res.cursor == head
    with Store.open(tmp_path / "ws.db") as ws:
        meta = dict(ws.conn.execute("SELECT key, value FROM _meta"))
        assert meta["schema"] == schema_text
        assert meta["node"] == "workstation" and meta["workstation_id"] == WS
        assert meta["tenant"] == "acme" and meta["prefix"] == "AB"
        assert meta["cursor"] == head
        assert json.loads(meta["orgs"]) == [org]
        assert json.loads(meta["receive_only"]) == ["items"]
        assert meta["priority"] == "workstation"
        assert meta["cloud_url"] == "http://127.0.0.1:8750"
        assert ws.head() == 0 and ws.pending() == 0
        assert set(ws.conn.execute("SELECT entity, next FROM _counters")) == {
            ("counterparties", 0), ("items", 0), ("sales_invoices", 0), ("payments", 0)}
        # capture and numbering work as in any infobase, with the workstation's prefix
        made = ws.put("sales_invoices", {"date": "2024-05-05", "organization": org,
                                         "counterparty": tenant.counterparties[6],
                                         "lines": [{"item": tenant.items[6], "quantity": 1}]})
        assert made["fields"]["number"] == "AB-000001"
        assert ws.pending() >= 1
        ws.conn.execute("UPDATE items SET price = 9 WHERE id = ?", (tenant.items[0],))
        assert ws.scalar("SELECT entity FROM _journal ORDER BY seq DESC LIMIT 1") == "items"
        assert ws.scalar("SELECT count(*) FROM sqlite_master WHERE name = ?",
                         ("sales_invoices_by_org",)) == 1
        assert ws.scalar("PRAGMA integrity_check") == "ok"


def test_unknown_organization_and_bad_options_write_nothing(tenant, tmp_path):
    with pytest.raises(NotFound, match="no organization"):
        export_infobase(tenant.path, tmp_path / "ws.db",
                        spec(orgs=["00000000-0000-4000-8000-000000000000"]))
    with pytest.raises(ValidationError, match="catalogs"):
        export_infobase(tenant.path, tmp_path / "ws.db", spec(catalogs="some"))
    assert not list(tmp_path.glob("ws.db*"))


def test_snapshot_writes_landing_mid_export_are_wholly_after_the_cursor(tenant, tmp_path):
    """Writes committed on the cloud while the export runs: none of them is in the file."""
    org = tenant.orgs[0]
    with Store.open(tenant.path, readonly=True) as cloud:
        before = {e: all_objects(cloud, e) for e in cloud.schema.entities}
        head = cloud.head()
    landed: list[str] = []

    def write_now() -> None:  # runs inside the export's snapshot, on another connection
        with Store.open(tenant.path) as other:
            inv = tenant.invoices[org]
            landed.append(other.put("sales_invoices", {
                "date": "2024-04-01", "organization": org,
                "counterparty": tenant.counterparties[0],
                "lines": [{"item": tenant.items[0], "quantity": 5}]})["id"])
            other.put("sales_invoices", {"total": 999.0,
                                         "lines": [{"item": tenant.items[1], "quantity": 9}]},
                      id=inv[0])
            other.delete("sales_invoices", inv[1])
            other.put("payments", {"organization": org}, id=tenant.payments[tenant.orgs[1]][0])
            other.put("counterparties", {"name": "Renamed"}, id=tenant.counterparties[0])

    res = export_infobase(tenant.path, tmp_path / "ws.db", spec(orgs=[org]),
                          snapshot_hook=write_now)
    assert landed, "the hook ran"
    assert res.cursor == head
    with Store.open(tenant.path, readonly=True) as cloud:
        assert cloud.head() > head  # the writes did land, after the cursor
    with Store.open(tmp_path / "ws.db", readonly=True) as ws:
        for entity in ws.schema.entities:
            want = [o for o in before[entity]
                    if entity in ("counterparties", "items") or o["org"] == org]
            assert all_objects(ws, entity) == want, entity


def test_snapshot_is_consistent_while_a_writer_runs(tenant, tmp_path, monkeypatch):
    """A writer keeps committing invoices whose total is the sum of their lines, and edits
    them; each write is in the export whole (total matches lines) or not at all."""
    monkeypatch.setattr(export_mod, "CHUNK_ROWS", 2)  # many steps: the export takes a while
    org = tenant.orgs[0]
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with Store.open(tenant.path) as w:
                n = 0
                while not stop.is_set():
                    n += 1
                    lines = [{"item": tenant.items[0], "quantity": 1, "amount": float(k)}
                             for k in range(1, n % 5 + 2)]
                    made = w.put("sales_invoices", {
                        "date": "2024-06-01", "organization": org,
                        "counterparty": tenant.counterparties[0],
                        "total": sum(x["amount"] for x in lines), "lines": lines})
                    w.put("sales_invoices", {"total": 1.0, "lines": [
                        {"item": tenant.items[1], "quantity": 1, "amount": 1.0}]},
                        id=made["id"]) if n % 3 == 0 else None
                    time.sleep(0.001)
        except BaseException as exc:
            errors.append(exc)

    for _ in range(40):  # more invoices, so the export has plenty of steps
        lines = [{"item": tenant.items[0], "quantity": 1, "amount": 2.0}]
        Store.open(tenant.path).put("sales_invoices", {
            "date": "2024-06-01", "organization": org, "counterparty": tenant.counterparties[0],
            "total": 2.0, "lines": lines})
    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.05)
        res = export_infobase(tenant.path, tmp_path / "ws.db", spec(orgs=[org]))
    finally:
        stop.set()
        t.join()
    assert not errors
    with Store.open(tenant.path, readonly=True) as cloud:
        assert cloud.head() > res.cursor, "writes landed during and after the export"
        alive_at_cursor = {r[0] for r in cloud.conn.execute(
            "SELECT id FROM _journal WHERE entity = 'sales_invoices' AND seq <= ? "
            "GROUP BY id HAVING max(CASE WHEN op = 'D' THEN seq END) IS NULL "
            "OR max(CASE WHEN op = 'I' THEN seq END) > max(CASE WHEN op = 'D' THEN seq END)",
            (res.cursor,))}
        mine = {r[0] for r in cloud.conn.execute(
            "SELECT id FROM sales_invoices WHERE organization = ?", (org,))}
    with Store.open(tmp_path / "ws.db", readonly=True) as ws:
        exported = all_objects(ws, "sales_invoices")
        assert {o["id"] for o in exported} == alive_at_cursor & mine
        for o in exported:
            assert o["fields"]["total"] == sum(x["amount"] for x in o["fields"]["lines"]), o
            assert o["version"] <= res.cursor


def test_a_failed_export_leaves_no_file(tenant, tmp_path, monkeypatch):
    def boom(self):  # fail half-way, after rows were copied
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export_mod._Copier, "copy_versions", boom)
    with pytest.raises(RuntimeError):
        export_infobase(tenant.path, tmp_path / "ws.db", spec())
    assert not list(tmp_path.glob("ws.db*"))
    with pytest.raises(Exception, match="already exists"):
        Path(tmp_path / "ws.db").write_bytes(b"x")
        export_infobase(tenant.path, tmp_path / "ws.db", spec())


def test_key_ranges_cover_every_key():
    ranges = list(export_mod.key_ranges())
    assert len(ranges) == 16
    for key in ["", "0", "00000000-0000", "0fff", "1", "9zz", "A", "Z", "a", "ef", "f", "fff",
                "g", "~~~", "\U0010ffff"]:
        hits = [(lo, hi) for lo, hi in ranges
                if (lo is None or key >= lo) and (hi is None or key < hi)]
        assert len(hits) == 1, key


def test_progress_advances_to_its_total(tenant, tmp_path, monkeypatch):
    monkeypatch.setattr(export_mod, "CHUNK_ROWS", 5)
    seen: list[tuple[int, int]] = []
    export_infobase(tenant.path, tmp_path / "ws.db", spec(orgs=[tenant.orgs[0]]),
                    progress=lambda done, total: seen.append((done, total)))
    assert len(seen) > 10
    totals = {t for _, t in seen}
    assert len(totals) == 1 and seen[0][0] == 0 and seen[-1][0] == seen[-1][1]
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))
