"""End to end: a real `outpost-cloud serve`, two workstations installed from their bundles with
`outpost-install` (organization A; organization B, which may only receive items), offline work on
both, online work in the cloud through its HTTP API, then `outpost sync` in various orders.

Whatever the order, every node ends holding exactly what it should: each workstation the cloud's
objects of its organization and the shared catalogs, the cloud everything accepted, conflicts
logged on both sides, refused changes flagged and kept where they were made.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from tests.sync.sync_helpers import (
    Node,
    Site,
    assert_holds,
    assert_unique_numbers,
    cloud_conflicts,
    invoice,
    local_conflicts,
    objects,
    sync_all,
)


class CloudApi:
    """The tenant's data API, as a person using the cloud application would change data."""

    def __init__(self, site: Site) -> None:
        self.base = f"{site.cloud.url}/api/v1/tenants/{site.tenant}/objects"
        self.auth = ("alice", site.password("alice"))

    def put(self, entity: str, fields: dict[str, Any], id: str | None = None) -> str:
        oid = id or str(uuid.uuid4())
        r = requests.put(f"{self.base}/{entity}/{oid}", json={"fields": fields},
                         auth=self.auth, timeout=30)
        assert r.status_code in (200, 201), r.text
        return oid

    def delete(self, entity: str, id: str) -> None:
        r = requests.delete(f"{self.base}/{entity}/{id}", auth=self.auth, timeout=30)
        assert r.status_code == 204, r.text


def cli_sync(node: Node) -> dict[str, Any]:
    node.close()
    out: dict[str, Any] = json.loads(node.cli("sync", "--json").stdout)
    assert out["ok"], out
    return out


def status(node: Node) -> dict[str, Any]:
    node.close()
    data: dict[str, Any] = json.loads(node.cli("status", "--json").stdout)
    return data


@pytest.mark.parametrize("order", ["AB", "BA", "ABBA"])
def test_offline_work_on_two_workstations_and_online_work_in_the_cloud(
    site: Site, order: str
) -> None:
    org_a, org_b = site.orgs
    cloud = CloudApi(site)
    c1 = cloud.put("counterparties", {"name": "First Client"})
    c2 = cloud.put("counterparties", {"name": "Second Client", "tax_id": "500"})
    i1 = cloud.put("items", {"name": "Bolt", "unit": "pcs", "price": 2})
    i2 = cloud.put("items", {"name": "Nut", "unit": "pcs", "price": 0.5})
    a1, a2, a3 = (cloud.put("sales_invoices", invoice(org_a, c1, i1, q)) for q in (1, 2, 3))
    b1, b2 = (cloud.put("sales_invoices", invoice(org_b, c2, i2, q)) for q in (4, 5))

    wa = site.add("depot-a", orgs=[org_a], signed_in=False)
    wb = site.add("depot-b", orgs=[org_b], receive_only=["items"], signed_in=False)
    for w in (wa, wb):
        w.cli("login", "--user", "alice", "--password-stdin",
              stdin=site.password("alice") + "\n")

    # offline on A
    met = wa.store.put("counterparties", {"name": "Met at A"})["id"]
    lines = [{"item": i1, "quantity": 7, "price": 2, "amount": 14},
             {"item": i2, "quantity": 8, "price": 0.5, "amount": 4}]
    made_a = wa.store.put("sales_invoices", {**invoice(org_a, met, i1, 0), "lines": lines})["id"]
    paid = wa.store.put("payments", {"date": "2025-03-02", "organization": org_a,
                                     "counterparty": met, "amount": 18, "invoice": made_a})["id"]
    wa.store.put("sales_invoices", {"total": 111.0}, id=a1)
    wa.store.put("counterparties", {"name": "First Client (by A)"}, id=c1)
    wa.store.delete("sales_invoices", a2)
    wa.store.put("sales_invoices", {"lines": lines[:1]}, id=a3)
    # offline on B
    made_b = wb.store.put("sales_invoices", invoice(org_b, c2, i2, 9))["id"]
    wb.store.put("sales_invoices", {"date": "2025-04-04"}, id=b1)
    wb.store.delete("sales_invoices", b2)
    wb.store.put("counterparties", {"tax_id": "501"}, id=c2)
    wb.store.put("items", {"price": 0.75}, id=i2)  # receive only: refused
    own_item = wb.store.put("items", {"name": "Washer", "price": 0.1})["id"]  # refused
    # online in the cloud meanwhile
    cloud.put("sales_invoices", {"posted": True}, id=a1)
    cloud.put("counterparties", {"name": "First Client (by the cloud)"}, id=c1)
    cloud.put("sales_invoices", {"total": 55.0}, id=b2)
    cloud.put("sales_invoices", {"organization": org_b}, id=a3)  # leaves A for B
    made_c = cloud.put("sales_invoices", invoice(org_b, c1, i1, 6))
    c3 = cloud.put("counterparties", {"name": "Third Client"})
    cloud.put("items", {"price": 2.5}, id=i1)

    for name in order:
        cli_sync(wa if name == "A" else wb)
    sync_all(wa, wb)

    got = objects(site.store)
    inv = {k[1]: v for k, v in got.items() if k[0] == "sales_invoices"}
    # the cloud holds everything accepted
    assert (inv[a1]["total"], inv[a1]["posted"]) == (111.0, True)  # different fields merged
    assert a2 not in inv
    assert inv[a3]["organization"] == org_b and inv[a3]["lines"][0]["quantity"] == 3
    assert inv[made_a]["lines"] == lines and inv[made_a]["counterparty"] == met
    assert got[("payments", paid)]["invoice"] == made_a
    assert inv[made_b]["organization"] == org_b and inv[b1]["date"] == "2025-04-04"
    assert inv[b2]["total"] == 55.0  # edited in the cloud, deleted on B: the cloud wins
    assert made_c in inv and ("counterparties", c3) in got
    assert got[("counterparties", c1)]["name"] == "First Client (by the cloud)"
    assert got[("counterparties", c2)]["tax_id"] == "501"
    assert got[("items", i1)]["price"] == 2.5 and got[("items", i2)]["price"] == 0.5
    assert ("items", own_item) not in got
    assert_unique_numbers(site.store)

    # conflicts, logged on both sides
    for w, (oid, loser) in ((wa, (c1, {"op": "put"})), (wb, (b2, {"op": "delete"}))):
        here, there = local_conflicts(w), cloud_conflicts(site, w)
        assert here == there and len(here) == 1 and here[0]["id"] == oid
        assert here[0]["winner"] == "cloud" and here[0]["loser"]["op"] == loser["op"]
    assert local_conflicts(wa)[0]["loser"]["fields"]["name"] == "First Client (by A)"

    # refused changes: flagged and kept where they were made, nothing else pending
    a3_mine = wa.store.require("sales_invoices", a3)["fields"]
    assert a3_mine["organization"] == org_a and a3_mine["lines"] == lines[:1]
    st_a, st_b = status(wa), status(wb)
    assert (st_a["rejected"], st_a["pending_changes"], st_a["conflicts"]) == (1, 1, 1)
    assert (st_b["rejected"], st_b["pending_changes"], st_b["conflicts"]) == (2, 2, 1)
    assert st_a["state"] == st_b["state"] == "idle"
    reasons = {r["id"]: r["reason"] for w in (wa, wb) for r in w.ws.conflicts()["rejected"]}
    assert reasons[a3] == f"organization {org_b} is not carried by this workstation"
    assert "maintained in the cloud only" in reasons[i2] == reasons[own_item]

    # every node holds exactly what it should
    head = site.store.head()
    assert wa.cursor() == wb.cursor() == head
    assert_holds(site, wa, kept={("sales_invoices", a3): a3_mine})
    assert_holds(site, wb, kept={("items", i2): wb.store.require("items", i2)["fields"],
                                 ("items", own_item): objects(wb.store)[("items", own_item)]})
    assert wb.store.require("items", i2)["fields"]["price"] == 0.75
    assert objects(wb.store)[("items", i1)]["price"] == 2.5
