"""The rules of sync, one at a time, against a real cloud server: what may travel which way,
whole documents, deletes, numbering, conflicts and their settlement, exactly-once pushes,
sign-in states, and compaction."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from cloud.sync import compact
from core.store import Store
from daemon.sync import engine
from daemon.sync.errors import OutOfOrder
from tests.sync.sync_helpers import (
    Node,
    Site,
    assert_holds,
    assert_settled,
    assert_unique_numbers,
    catalogs,
    cloud_conflicts,
    invoice,
    local_conflicts,
    objects,
    sync_all,
)


def status(node: Node) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(node.cli("status", "--json").stdout)
    return data


def batches(site: Site) -> int:
    return int(site.store.scalar("SELECT count(*) FROM _batches") or 0)


_RAW = """
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute(sys.argv[2], json.loads(sys.argv[3]))
con.commit()
con.close()
"""


def raw(node: Node, sql: str, *args: Any) -> None:
    """Another program writes straight into the workstation's database (a process of its own:
    two SQLite libraries in one process would break each other's POSIX locks)."""
    subprocess.run([sys.executable, "-c", _RAW, str(node.home.database), sql, json.dumps(args)],
                   check=True, timeout=30)


# -- what may travel which way -------------------------------------------------------------------


def test_receive_only_entities_are_refused_flagged_kept_and_not_resent(site: Site) -> None:
    org = site.orgs[0]
    _, item = catalogs(site)
    a = site.add("depot", orgs=[org], receive_only=["items"])
    mine = a.store.put("items", {"name": "Made at the depot", "price": 1})["id"]
    a.store.put("items", {"price": 9.5}, id=item)
    ok = a.store.put("counterparties", {"name": "Allowed"})["id"]
    r = a.sync()
    assert r.ok and r.rejected == 2 and r.pushed == 1

    # the cloud took the counterparty and neither item
    assert site.store.get("counterparties", ok) is not None
    assert site.store.get("items", mine) is None
    assert site.store.require("items", item)["fields"]["price"] == 2
    # the workstation keeps both, flagged with the cloud's reason
    st = status(a)
    assert st["rejected"] == 2 and st["pending_changes"] == 2 and st["state"] == "idle"
    listed = json.loads(a.cli("conflicts", "--json").stdout)["rejected"]
    assert {r["id"] for r in listed} == {mine, item}
    assert all("maintained in the cloud only" in r["reason"] for r in listed)
    text = a.cli("conflicts").stdout
    assert f"rejected  items {mine}: items are maintained in the cloud only" in text
    assert a.store.require("items", item)["fields"]["price"] == 9.5

    # not sent again while unchanged
    sent = batches(site)
    r = a.synced()
    assert (r.pushed, r.rejected) == (0, 0) and batches(site) == sent
    # changed again: sent again, refused again, still flagged once
    a.store.put("items", {"price": 10.5}, id=item)
    r = a.synced()
    assert r.rejected == 1 and batches(site) == sent + 1
    assert status(a)["rejected"] == 2
    assert site.store.require("items", item)["fields"]["price"] == 2
    assert_holds(site, a, kept={("items", mine): objects(a.store)[("items", mine)],
                                ("items", item): a.store.require("items", item)["fields"]})


def test_a_batch_of_new_objects_is_taken_whole_only_where_it_may_be(site: Site) -> None:
    """A batch of new objects of one entity is taken whole by the cloud, read ahead with no
    step per object in its writer; not when the entity is one the workstation only receives,
    nor when the objects are of an organization it does not carry."""
    a = site.add("depot", orgs=[site.orgs[0]], receive_only=["items"])
    items = [a.store.put("items", {"name": f"Depot item {i}", "price": 1})["id"]
             for i in range(3)]
    r = a.synced()
    assert (r.pushed, r.rejected) == (0, 3)
    assert all(site.store.get("items", i) is None for i in items)
    branches = [a.store.put("organizations", {"name": f"Branch {i}"})["id"] for i in range(2)]
    r = a.synced()
    assert (r.pushed, r.rejected) == (0, 2)
    assert all(site.store.get("organizations", o) is None for o in branches)
    made = [a.store.put("counterparties", {"name": f"New {i}"})["id"] for i in range(3)]
    r = a.synced()
    assert (r.pushed, r.rejected) == (3, 0)
    assert [site.store.require("counterparties", c)["fields"]["name"] for c in made] == [
        "New 0", "New 1", "New 2"]
    assert status(a)["rejected"] == 5


def test_a_document_of_an_organization_not_carried_is_refused(site: Site) -> None:
    org, other = site.orgs
    cp, item = catalogs(site)
    theirs = site.store.put("sales_invoices", invoice(other, cp, item, 1))["id"]
    mine = site.store.put("sales_invoices", invoice(org, cp, item, 2))["id"]
    a = site.add("depot", orgs=[org])
    assert a.store.get("sales_invoices", theirs) is None
    # another program writes what Outpost itself would refuse: a document of the other
    # organization, and a carried one moved there
    stray = str(uuid.uuid4())
    raw(a, "INSERT INTO sales_invoices(id, date, organization, counterparty) "
           "VALUES (?, '2025-04-01', ?, ?)", stray, other, cp)
    raw(a, "UPDATE sales_invoices SET organization = ? WHERE id = ?", other, mine)
    r = a.synced()
    assert r.rejected == 2 and r.pushed == 0
    reasons = {x["id"]: x["reason"] for x in a.ws.conflicts()["rejected"]}
    assert reasons == {stray: f"organization {other} is not carried by this workstation",
                       mine: f"organization {other} is not carried by this workstation"}
    assert site.store.get("sales_invoices", stray) is None
    assert site.store.require("sales_invoices", mine)["org"] == org
    assert status(a)["rejected"] == 2


# -- what travels --------------------------------------------------------------------------------


def test_deletes_travel_both_ways(site: Site) -> None:
    org = site.orgs[0]
    cp, item = catalogs(site)
    docs = [site.store.put("sales_invoices", invoice(org, cp, item, i))["id"] for i in range(4)]
    spare = site.store.put("counterparties", {"name": "Spare"})["id"]
    a = site.add("depot", orgs=[org])
    b = site.add("office")
    a.store.delete("sales_invoices", docs[0])
    a.store.delete("counterparties", spare)
    site.store.delete("sales_invoices", docs[1])
    b.store.delete("sales_invoices", docs[2])
    sync_all(a, b)
    cloud = objects(site.store)
    for gone in [("sales_invoices", docs[0]), ("sales_invoices", docs[1]),
                 ("sales_invoices", docs[2]), ("counterparties", spare)]:
        assert gone not in cloud
    assert ("sales_invoices", docs[3]) in cloud
    assert_settled(site, a, b)
    for store in (site.store, a.store, b.store):  # the lines went with their documents
        assert store.scalar("SELECT count(*) FROM sales_invoices_lines WHERE owner NOT IN "
                            "(SELECT id FROM sales_invoices)") == 0


def test_a_document_travels_whole_with_its_lines(site: Site) -> None:
    org = site.orgs[0]
    cp, item = catalogs(site)
    other_item = site.store.put("items", {"name": "Nut", "price": 0.5})["id"]
    a = site.add("depot", orgs=[org])
    b = site.add("office", orgs=[org])
    lines = [{"item": item, "quantity": 3, "price": 2, "amount": 6},
             {"item": other_item, "quantity": 10, "price": 0.5, "amount": 5},
             {"item": item, "quantity": 1, "price": 2, "amount": 2}]
    doc = a.store.put("sales_invoices", {**invoice(org, cp, item, 0), "lines": lines})["id"]
    sync_all(a, b)
    assert site.store.require("sales_invoices", doc)["fields"]["lines"] == lines
    assert b.store.require("sales_invoices", doc)["fields"]["lines"] == lines

    # only a line changes in the cloud: the whole document arrives
    lines2 = [lines[0], {**lines[1], "quantity": 12, "amount": 6}]
    site.store.put("sales_invoices", {"lines": lines2}, id=doc)
    # another program adds a line on b, straight into the section table
    raw(b, "INSERT INTO sales_invoices_lines(owner, line_no, item, quantity) VALUES (?, 9, ?, 4)",
        doc, other_item)
    sync_all(b, a)  # b's line meets the cloud's change: lines are one field, priority cloud
    assert a.store.require("sales_invoices", doc)["fields"]["lines"] == lines2
    assert_settled(site, a, b)
    lost = local_conflicts(b)
    assert len(lost) == 1 and lost[0]["fields"] == ["lines"]
    assert lost[0]["loser"]["fields"]["lines"][-1]["quantity"] == 4


def test_numbers_made_offline_never_collide(site: Site) -> None:
    org, other = site.orgs
    cp, item = catalogs(site)
    a = site.add("depot", orgs=[org])
    b = site.add("office", orgs=[other])
    assert a.store.prefix != b.store.prefix and "00" not in (a.store.prefix, b.store.prefix)
    made: dict[str, list[str]] = {}
    for node, o in ((a, org), (b, other)):
        made[node.name] = [node.store.put("sales_invoices", invoice(o, cp, item, i))["id"]
                           for i in range(3)]
        node.store.put("counterparties", {"name": f"Met by {node.name}"})
        raw(node, "INSERT INTO counterparties(id, name) VALUES (?, 'Plain insert')",
            str(uuid.uuid4()))
    in_cloud = [site.store.put("sales_invoices", invoice(org, cp, item, 9))["id"]]
    sync_all(a, b)
    assert_settled(site, a, b)
    assert_unique_numbers(site.store)
    numbers = {site.store.require("sales_invoices", i)["fields"]["number"]
               for ids in [*made.values(), in_cloud] for i in ids}
    assert numbers == {f"{a.store.prefix}-00000{n}" for n in (1, 2, 3)} | \
        {f"{b.store.prefix}-00000{n}" for n in (1, 2, 3)} | {"00-000001"}
    codes = {o["code"] for (e, _), o in objects(site.store).items() if e == "counterparties"}
    assert {f"{a.store.prefix}-000001", f"{a.store.prefix}-000002",
            f"{b.store.prefix}-000001", f"{b.store.prefix}-000002"} <= codes


# -- conflicts -----------------------------------------------------------------------------------


def test_edits_of_different_fields_merge_without_conflict(site: Site) -> None:
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a = site.add("depot", orgs=[org])
    a.store.put("sales_invoices", {"total": 123.0}, id=doc)
    a.store.put("counterparties", {"tax_id": "7700"}, id=cp)
    site.store.put("sales_invoices", {"posted": True, "date": "2025-05-05"}, id=doc)
    site.store.put("counterparties", {"name": "Client Ltd"}, id=cp)
    r = a.synced()
    assert r.conflicts == 0
    got = site.store.require("sales_invoices", doc)["fields"]
    assert (got["total"], got["posted"], got["date"]) == (123.0, True, "2025-05-05")
    assert site.store.require("counterparties", cp)["fields"] == {
        "code": "00-000001", "name": "Client Ltd", "tax_id": "7700"}
    assert local_conflicts(a) == [] and cloud_conflicts(site, a) == []
    assert_settled(site, a)


def test_the_same_edit_made_twice_is_no_conflict(site: Site) -> None:
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a = site.add("depot", orgs=[org])
    same = {"total": 77.0, "lines": [{"item": item, "quantity": 5, "price": 2, "amount": 10}]}
    a.store.put("sales_invoices", same, id=doc)
    site.store.put("sales_invoices", same, id=doc)
    r = a.synced()
    assert r.conflicts == 0 and r.pushed == 1
    assert local_conflicts(a) == [] and cloud_conflicts(site, a) == []
    assert_settled(site, a)


def _clash(site: Site, priority: str, cloud_first: bool, name: str = "") -> tuple[Node, str]:
    """The same field edited on both sides: total = 1.0 on the workstation, 3.0 in the cloud."""
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a = site.add(name or f"ws-{priority}", orgs=[org], priority=priority)
    if cloud_first:
        site.store.put("sales_invoices", {"total": 3.0, "posted": True}, id=doc)
        time.sleep(0.01)
        a.store.put("sales_invoices", {"total": 1.0, "date": "2025-06-01"}, id=doc)
    else:
        a.store.put("sales_invoices", {"total": 1.0, "date": "2025-06-01"}, id=doc)
        time.sleep(0.01)
        site.store.put("sales_invoices", {"total": 3.0, "posted": True}, id=doc)
    r = a.synced()
    assert r.conflicts == 1
    return a, doc


def _logged_both_sides(site: Site, a: Node, doc: str, winner: str, loser_total: float) -> None:
    here, there = local_conflicts(a), cloud_conflicts(site, a)
    assert here == there and len(here) == 1
    c = here[0]
    assert (c["id"], c["winner"], c["fields"]) == (doc, winner, ["total"])
    assert c["loser"]["op"] == "put" and c["loser"]["fields"]["total"] == loser_total
    # the fields that did not clash merged either way
    got = site.store.require("sales_invoices", doc)["fields"]
    assert (got["posted"], got["date"]) == (True, "2025-06-01")


def test_same_field_cloud_priority_and_restoring_the_loser(site: Site) -> None:
    a, doc = _clash(site, "cloud", cloud_first=False)
    assert site.store.require("sales_invoices", doc)["fields"]["total"] == 3.0
    _logged_both_sides(site, a, doc, "cloud", 1.0)
    assert_settled(site, a)
    assert a.store.require("sales_invoices", doc)["fields"]["total"] == 3.0

    listed = json.loads(a.cli("conflicts", "--json").stdout)["conflicts"]
    assert len(listed) == 1 and listed[0]["loser"]["fields"]["total"] == 1.0
    assert status(a)["conflicts"] == 1
    n = listed[0]["n"]
    assert f"#{n}" in a.cli("conflicts").stdout
    out = a.cli("conflicts", "restore", str(n)).stdout
    assert f"restored conflict #{n}" in out
    a.close()
    assert status(a)["conflicts"] == 0 and status(a)["pending_changes"] == 1
    r = a.synced()
    assert r.pushed == 1 and r.conflicts == 0
    got = site.store.require("sales_invoices", doc)["fields"]
    assert got == listed[0]["loser"]["fields"]  # the losing version, whole, is current again
    assert got["total"] == 1.0
    assert_settled(site, a)


def test_same_field_workstation_priority(site: Site) -> None:
    a, doc = _clash(site, "workstation", cloud_first=True)
    assert site.store.require("sales_invoices", doc)["fields"]["total"] == 1.0
    _logged_both_sides(site, a, doc, "workstation", 3.0)
    assert_settled(site, a)


def test_same_field_newest_priority(site: Site) -> None:
    a, doc = _clash(site, "newest", cloud_first=True)  # the workstation's edit is newer
    assert site.store.require("sales_invoices", doc)["fields"]["total"] == 1.0
    _logged_both_sides(site, a, doc, "workstation", 3.0)
    assert_settled(site, a)
    b, doc2 = _clash(site, "newest", cloud_first=False, name="second")  # the cloud's edit is newer
    assert site.store.require("sales_invoices", doc2)["fields"]["total"] == 3.0
    _logged_both_sides(site, b, doc2, "cloud", 1.0)
    sync_all(a, b)
    assert_settled(site, a, b)


def test_an_edit_against_a_delete_is_settled_by_priority(site: Site) -> None:
    org = site.orgs[0]
    cp, item = catalogs(site)
    docs = [site.store.put("sales_invoices", invoice(org, cp, item, i))["id"] for i in range(2)]
    a = site.add("depot", orgs=[org])  # priority cloud
    b = site.add("office", orgs=[org], priority="workstation")
    a.store.put("sales_invoices", {"total": 5.0}, id=docs[0])
    b.store.put("sales_invoices", {"total": 6.0}, id=docs[1])
    for d in docs:
        site.store.delete("sales_invoices", d)
    sync_all(a, b)
    assert site.store.get("sales_invoices", docs[0]) is None  # the cloud's delete won
    assert site.store.require("sales_invoices", docs[1])["fields"]["total"] == 6.0  # b won
    assert local_conflicts(a)[0]["loser"]["fields"]["total"] == 5.0
    assert local_conflicts(b)[0]["loser"] == {"op": "delete", "fields": None}
    assert local_conflicts(a) == cloud_conflicts(site, a)
    assert local_conflicts(b) == cloud_conflicts(site, b)
    assert_settled(site, a, b)


def test_an_edit_that_wins_against_a_delete_brings_back_what_the_delete_removed(
    site: Site,
) -> None:
    """The cloud accepted a change, then the object was deleted; a workstation that wins
    against deletes edited another field meanwhile. The object comes back as the delete found
    it with that edit merged in: the change accepted before the delete is not dropped unseen."""
    org, other = site.orgs
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    b = site.add("office", priority="workstation")  # carries both organizations
    site.store.put("sales_invoices", {"total": 9.5}, id=doc)  # accepted, as another's push is
    site.store.delete("sales_invoices", doc)
    b.store.put("sales_invoices", {"organization": other}, id=doc)  # moved, offline
    r = b.synced()
    assert r.conflicts == 1
    got = site.store.require("sales_invoices", doc)["fields"]
    assert (got["organization"], got["total"]) == (other, 9.5)
    assert b.store.require("sales_invoices", doc)["fields"] == got
    here = local_conflicts(b)
    assert here == cloud_conflicts(site, b) and len(here) == 1
    assert here[0]["winner"] == "workstation"
    assert here[0]["loser"] == {"op": "delete", "fields": None}
    assert_settled(site, b)


def test_an_edit_that_wins_against_a_delete_logs_the_fields_it_took_from_the_cloud(
    site: Site,
) -> None:
    """As above, but the workstation edited the field the cloud had changed before deleting:
    its value wins (it won), and the cloud's value is logged as that clash's loser."""
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    b = site.add("office", orgs=[org], priority="workstation")
    site.store.put("sales_invoices", {"total": 9.5, "posted": True}, id=doc)
    site.store.delete("sales_invoices", doc)
    b.store.put("sales_invoices", {"total": 4.0}, id=doc)
    r = b.synced()
    assert r.conflicts == 2
    got = site.store.require("sales_invoices", doc)["fields"]
    assert (got["total"], got["posted"]) == (4.0, True)
    here = local_conflicts(b)
    assert here == cloud_conflicts(site, b)
    assert [c["loser"]["op"] for c in here] == ["delete", "put"]
    assert here[1]["fields"] == ["total"] and here[1]["loser"]["fields"]["total"] == 9.5
    assert_settled(site, b)


def test_an_edit_referring_to_an_object_made_after_it_in_the_same_batch_is_applied(
    site: Site,
) -> None:
    """A batch lists objects in the order they began: an invoice edited first and then pointed
    at a counterparty made after it comes before that counterparty. The cloud decides it once
    the counterparty is decided, instead of refusing it for a reference it has in hand."""
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a = site.add("depot", orgs=[org])
    a.store.put("sales_invoices", {"total": 2.0}, id=doc)
    first = a.store.put("sales_invoices", invoice(org, cp, item, 2))  # new, before the cp
    new_cp = a.store.put("counterparties", {"name": "Made later"})["id"]
    a.store.put("sales_invoices", {"counterparty": new_cp}, id=doc)
    a.store.put("sales_invoices", {"counterparty": new_cp}, id=first["id"])
    r = a.synced()
    assert r.rejected == 0 and r.pushed == 3
    assert site.store.require("sales_invoices", doc)["fields"]["counterparty"] == new_cp
    assert site.store.require("sales_invoices", first["id"])["fields"]["counterparty"] == new_cp
    assert site.store.require("counterparties", new_cp)["fields"]["name"] == "Made later"
    assert_settled(site, a)


@pytest.mark.parametrize("cut_off", [False, True], ids=["whole", "cut-off"])
def test_an_edit_referring_to_an_object_a_later_batch_brings_is_sent_again(
    site: Site, monkeypatch: pytest.MonkeyPatch, cut_off: bool,
) -> None:
    """Batches of two journal rows: the invoice, which began first, goes in the first batch
    with its new counterparty, made later, only in the second. The cloud refuses it for a
    reference to nothing; once the second batch is in, the workstation sends it once more.
    Cut off: the first sync stops after its first batch, before the batch that brings the
    reference and before the one more try; the next sync sends the refused change."""
    monkeypatch.setattr(engine, "PUSH_BATCH", 2)
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a = site.add("depot", orgs=[org])
    a.store.put("sales_invoices", {"total": 5.0}, id=doc)
    a.store.put("counterparties", {"name": "Filler one"})
    a.store.put("counterparties", {"name": "Filler two"})
    new_cp = a.store.put("counterparties", {"name": "Made later"})["id"]
    a.store.put("sales_invoices", {"counterparty": new_cp}, id=doc)
    if cut_off:
        cut = a.ws.sync(should_stop=lambda: True)
        assert cut.ok and cut.rejected == 1, cut
        assert a.store.scalar("SELECT count(*) FROM _rejected WHERE id = ?", (doc,)) == 1
    r = a.synced()
    assert r.rejected == 0, r
    fields = site.store.require("sales_invoices", doc)["fields"]
    assert (fields["counterparty"], fields["total"]) == (new_cp, 5.0)
    assert a.store.scalar("SELECT count(*) FROM _rejected") == 0
    assert_settled(site, a)


def test_a_reference_to_nothing_is_sent_again_once_and_then_kept_flagged(
    site: Site, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reference that no batch brings (here to an item the workstation may not make) is
    refused again after the one more try, and stays flagged; the next sync does not resend
    it."""
    monkeypatch.setattr(engine, "PUSH_BATCH", 2)
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a = site.add("depot", orgs=[org], receive_only=["items"])
    a.store.put("sales_invoices", {"total": 3.0}, id=doc)
    a.store.put("counterparties", {"name": "Filler one"})
    a.store.put("counterparties", {"name": "Filler two"})
    made = a.store.put("items", {"name": "Not for the workstation to make", "price": 1.0})["id"]
    a.store.put("sales_invoices", {"lines": [
        {"item": made, "quantity": 1, "price": 1.0, "amount": 1.0}]}, id=doc)
    r = a.synced()
    assert r.rejected == 2, r
    answers = [row[0] for row in site.store.conn.execute("SELECT response FROM _batches")]
    assert sum(doc.encode() in answer for answer in answers) == 2  # refused, sent again, refused
    reasons = dict(a.store.conn.execute("SELECT id, reason FROM _rejected").fetchall())
    assert f"no items with id {made}" in reasons[doc] and made in reasons
    assert site.store.require("sales_invoices", doc)["fields"]["total"] == 2.0
    pushes = batches(site)
    assert a.synced().rejected == 0 and batches(site) == pushes


def test_a_reference_to_an_object_the_batch_fails_to_make_is_refused(site: Site) -> None:
    """A change waiting for an object of its batch that is itself refused is refused too,
    with the reason, and kept: the cloud never holds a reference to nothing."""
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a = site.add("depot", orgs=[org], receive_only=["items"])
    a.store.put("sales_invoices", {"total": 3.0}, id=doc)
    made = a.store.put("items", {"name": "Not for the workstation to make", "price": 1.0})["id"]
    a.store.put("sales_invoices", {"lines": [
        {"item": made, "quantity": 1, "price": 1.0, "amount": 1.0}]}, id=doc)
    r = a.synced()
    assert r.rejected == 2
    assert site.store.get("items", made) is None
    assert site.store.require("sales_invoices", doc)["fields"]["lines"][0]["item"] == item
    reasons = dict(a.store.conn.execute("SELECT id, reason FROM _rejected").fetchall())
    assert f"no items with id {made}" in reasons[doc]


# -- exactly once --------------------------------------------------------------------------------


def test_a_batch_sent_twice_gets_the_same_answer(site: Site) -> None:
    a = site.add("depot", orgs=[site.orgs[0]])
    other = site.add("office")
    url = f"{site.cloud.url}/api/v1/tenants/{site.tenant}/sync/push"

    def push(node: Node, body: dict[str, Any]) -> requests.Response:
        token = node.ws.credentials.load()
        return requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"},
                             timeout=30)

    oid = str(uuid.uuid4())
    body = {"batch": str(uuid.uuid4()), "cursor": a.cursor(), "changes": [
        {"entity": "counterparties", "id": oid, "op": "put", "base": 0, "at": time.time(),
         "fields": {"code": "01-000100", "name": "Once", "tax_id": None}}]}
    first = push(a, body)
    assert first.status_code == 200, first.text
    head = site.store.head()
    second = push(a, body)
    assert second.status_code == 200 and second.json() == first.json()
    assert first.json()["results"][0]["status"] == "applied"
    # the same id with other content: still the stored answer, nothing applied
    body["changes"][0]["fields"]["name"] = "Twice?"
    third = push(a, body)
    assert third.json() == first.json() and site.store.head() == head
    assert site.store.require("counterparties", oid)["fields"]["name"] == "Once"
    assert site.store.count("counterparties") == 1
    # another workstation may not reuse the id
    assert push(other, body).status_code == 409
    # compaction keeps the answer to a workstation's newest batch: it may still be in flight
    compact(site.store, keep_days=0)
    again = push(a, body)
    assert again.status_code == 200 and again.json() == first.json()


def test_a_batch_named_in_headers_must_be_the_one_in_the_body(site: Site) -> None:
    """The client names the batch in headers too, so the cloud can queue it before decoding
    the body; headers that name another batch than the body get the batch refused, with
    nothing written, and headers that agree with it get it applied."""
    a = site.add("depot", orgs=[site.orgs[0]])
    url = f"{site.cloud.url}/api/v1/tenants/{site.tenant}/sync/push"
    token = a.ws.credentials.load()
    body = {"batch": str(uuid.uuid4()), "cursor": a.cursor(), "changes": [
        {"entity": "counterparties", "id": str(uuid.uuid4()), "op": "put", "base": 0,
         "at": time.time(), "fields": {"code": None, "name": "Named", "tax_id": None}}]}

    def push(**named: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **named}
        return requests.post(url, json=body, headers=headers, timeout=30)

    head = site.store.head()
    for named in ({"X-Outpost-Batch": str(uuid.uuid4())},
                  {"X-Outpost-Batch": body["batch"], "X-Outpost-After": str(uuid.uuid4())}):
        refused = push(**named)
        assert refused.status_code == 422, refused.text
        assert "not the body's" in refused.json()["message"]
    assert site.store.head() == head
    done = push(**{"X-Outpost-Batch": body["batch"]})
    assert done.status_code == 200 and done.json()["results"][0]["status"] == "applied"
    assert site.store.head() > head


def test_a_batch_sent_behind_another_is_applied_only_after_it(site: Site) -> None:
    """`after` names the batch sent before: one the cloud has not applied (here, never sent)
    gets the batch refused as out of order, at once and with nothing written; once it is
    applied, the batch goes through."""
    a = site.add("depot", orgs=[site.orgs[0]])
    url = f"{site.cloud.url}/api/v1/tenants/{site.tenant}/sync/push"
    token = a.ws.credentials.load()

    def push(body: dict[str, Any]) -> requests.Response:
        return requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"},
                             timeout=60)

    def batch(name: str, *, after: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"batch": str(uuid.uuid4()), "cursor": a.cursor(), "changes": [
            {"entity": "counterparties", "id": str(uuid.uuid4()), "op": "put", "base": 0,
             "at": time.time(), "fields": {"code": None, "name": name, "tax_id": None}}]}
        if after is not None:
            body["after"] = after
        return body

    first, second = batch("First"), batch("Second")
    second["after"] = first["batch"]
    head = site.store.head()
    started = time.monotonic()
    refused = push(second)
    assert refused.status_code == 409 and refused.json()["error"] == "out_of_order"
    assert time.monotonic() - started < 15  # not waited for: the first is not on its way
    assert site.store.head() == head
    done = push(first)
    assert done.status_code == 200 and done.json()["in_flight"] == 2
    assert push(second).status_code == 200
    names = [f["name"] for (entity, _), f in objects(site.store).items()
             if entity == "counterparties"]
    assert sorted(names) == ["First", "Second"]
    assert push(batch("Third", after="not a batch")).status_code == 422


def test_a_batch_that_overtakes_the_one_before_it_is_sent_again_after_it(site: Site) -> None:
    """Batches go two at a time, the second naming the first. Here the first is held back on
    its way, so the second reaches the cloud first and is refused as out of order; it is sent
    again once the first is answered, and its invoice, which refers to a counterparty of the
    first, is applied, not refused."""
    org = site.orgs[0]
    _, item = catalogs(site)
    a = site.add("depot", orgs=[org])
    a.synced()
    with a.store.write():  # batches of 2,000, 4,000, 8,000 journal rows
        for i in range(2100):
            a.store.put_row("counterparties", {"name": f"First batch {i}"})
        first = a.store.put_row("counterparties", {"name": "Made in the second batch"})
        for i in range(4000):
            a.store.put_row("counterparties", {"name": f"Second batch {i}"})
    made = a.store.put("sales_invoices", invoice(org, first, item, 3))["id"]
    calls: list[str | None] = []
    refused: list[str] = []

    class HoldsTheSecondBack:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def push(self, *args: Any, after: str | None = None) -> Any:
            calls.append(after)
            if len(calls) == 2:
                assert after is None  # sent before the cloud said it takes two in flight
                time.sleep(1.0)
            try:
                return self.inner.push(*args, after=after)
            except OutOfOrder:
                refused.append(args[0])
                raise

    client = HoldsTheSecondBack(a.ws.client())
    r = a.ws.sync(client=client)  # type: ignore[arg-type]
    client.inner.close()
    assert r.ok and r.rejected == 0 and r.pushed == 2100 + 1 + 4000 + 1, r
    assert len(refused) == 1 and any(after is not None for after in calls), calls
    assert site.store.require("sales_invoices", made)["fields"]["counterparty"] == first
    assert a.outbox() == 0 and a.journal() == 0
    assert_settled(site, a)
    assert_unique_numbers(site.store)


def test_the_sync_command_leaves_its_database_file_whole(site: Site, tmp_path: Path) -> None:
    """`outpost sync` closes its database before it exits, so its write-ahead log is folded
    back into the file: a copy of the infobase file alone holds what the sync did."""
    a = site.add("depot", orgs=[site.orgs[0]])
    local = a.store.put("counterparties", {"name": "Made here"})["id"]
    a.close()
    remote = site.store.put("counterparties", {"name": "Made in the cloud"})["id"]
    a.cli("sync")
    wal = Path(f"{a.home.database}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy.db"
    shutil.copyfile(a.home.database, copy)
    with Store.open(copy) as alone:
        assert alone.get("counterparties", remote) is not None
        assert alone.scalar("SELECT version FROM _versions WHERE id = ?", (local,))
        assert alone.pending() == 0


def test_a_sync_with_nothing_to_do_writes_nothing_on_either_side(site: Site) -> None:
    """Its pull confirms no new position, so the cloud's file is not written (the time of the
    last pull is noted at most once a minute), and the workstation's is not written either."""
    a = site.add("depot", orgs=[site.orgs[0]])
    a.store.put("counterparties", {"name": "Sent once"})
    a.synced()
    a.synced()  # notes the last pull, confirms the final cursor

    # PRAGMA data_version changes when any other connection commits to the file.
    watch_cloud = sqlite3.connect(site.reg.tenant_path(site.tenant))
    watch_ws = sqlite3.connect(a.home.database)
    try:
        cloud_before = watch_cloud.execute("PRAGMA data_version").fetchone()[0]
        ws_before = watch_ws.execute("PRAGMA data_version").fetchone()[0]
        for _ in range(3):
            r = a.synced()
            assert r.pushed == 0 and r.pulled == 0
        assert watch_cloud.execute("PRAGMA data_version").fetchone()[0] == cloud_before
        assert watch_ws.execute("PRAGMA data_version").fetchone()[0] == ws_before
        a.store.put("counterparties", {"name": "Sent twice"})  # and a change is still seen
        assert a.synced().pushed == 1
        assert watch_cloud.execute("PRAGMA data_version").fetchone()[0] != cloud_before
    finally:
        watch_cloud.close()
        watch_ws.close()


def test_a_reference_pushed_in_upper_case_is_kept_canonical(site: Site) -> None:
    org = site.orgs[0]
    cp, item = catalogs(site)
    a = site.add("depot", orgs=[org])
    token = a.ws.credentials.load()
    oid = str(uuid.uuid4())
    fields = {**invoice(org, cp.upper(), item.upper(), 2), "number": "01-000900",
              "posted": False}
    body = {"batch": str(uuid.uuid4()), "cursor": a.cursor(), "changes": [
        {"entity": "sales_invoices", "id": oid, "op": "put", "base": 0, "fields": fields}]}
    r = requests.post(f"{site.cloud.url}/api/v1/tenants/{site.tenant}/sync/push", json=body,
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text
    stored = site.store.require("sales_invoices", oid)["fields"]
    assert stored["counterparty"] == cp and stored["lines"][0]["item"] == item


def test_a_compact_answer_lists_the_applied_objects_and_their_versions(site: Site) -> None:
    a = site.add("depot", orgs=[site.orgs[0]], receive_only=["items"])
    token = a.ws.credentials.load()
    url = f"{site.cloud.url}/api/v1/tenants/{site.tenant}/sync/push"
    one, two, item = (str(uuid.uuid4()) for _ in range(3))

    def change(entity: str, oid: str, name: str) -> dict[str, Any]:
        fields = {"code": None, "name": name, "tax_id": None}
        if entity == "items":
            fields = {"code": None, "name": name, "unit": "pcs", "price": 1}
        return {"entity": entity, "id": oid, "op": "put", "base": 0, "fields": fields}

    body = {"batch": str(uuid.uuid4()), "cursor": a.cursor(), "compact": True, "changes": [
        change("counterparties", one, "One"), change("items", item, "Refused"),
        change("counterparties", two.upper(), "Two, its id in upper case")]}
    first = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"},
                          timeout=30)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["applied"] == [one, two]  # the id as stored: canonical
    assert answer["versions"] == [site.store.require("counterparties", oid)["version"]
                                  for oid in (one, two)]
    assert [(r["id"], r["status"]) for r in answer["results"]] == [(item, "rejected")]
    again = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"},
                          timeout=30)
    assert again.json() == answer


# -- sign-in states ------------------------------------------------------------------------------


def _unsent_work(site: Site, a: Node) -> tuple[dict[Any, Any], str]:
    a.synced()
    oid = a.store.put("counterparties", {"name": "Unsent"})["id"]
    return objects(a.store), oid


def _intact(a: Node, before: dict[Any, Any], oid: str) -> None:
    a.close()
    assert objects(a.store) == before
    assert a.store.get("counterparties", oid) is not None and a.journal() > 0


def test_a_revoked_workstation_says_so_and_keeps_its_data(site: Site) -> None:
    a = site.add("depot", orgs=[site.orgs[0]])
    before, oid = _unsent_work(site, a)
    site.reg.revoke_workstation(site.tenant, a.id)
    p = a.cli("sync", check=False)
    assert p.returncode != 0 and "revoked" in p.stderr
    assert status(a)["state"] == "revoked"
    r = a.sync()
    assert not r.ok and r.state == "revoked"
    _intact(a, before, oid)
    assert site.store.get("counterparties", oid) is None


def test_a_wrong_password_leaves_the_workstation_unauthorized(site: Site) -> None:
    a = site.add("depot", orgs=[site.orgs[0]], signed_in=False)
    oid = a.store.put("counterparties", {"name": "Unsent"})["id"]
    before = objects(a.store)
    p = a.cli("login", "--user", "alice", "--password-stdin", stdin="not-her-password\n",
              check=False)
    assert p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1
    assert status(a)["state"] == "unauthorized"
    r = a.sync()
    assert not r.ok and r.state == "unauthorized"
    _intact(a, before, oid)
    a.cli("login", "--user", "alice", "--password-stdin", stdin=site.password("alice") + "\n")
    a.close()
    assert a.synced().pushed == 1
    assert_settled(site, a)


def test_a_changed_password_stops_sync_until_signed_in_again(site: Site) -> None:
    a = site.add("depot", orgs=[site.orgs[0]])
    before, oid = _unsent_work(site, a)
    site.reg.set_password(site.tenant, "alice", "a-new-password-2")
    r = a.sync()
    assert not r.ok and r.state == "unauthorized"
    assert status(a)["state"] == "unauthorized"
    p = a.cli("sync", check=False)
    assert p.returncode != 0 and "unauthorized" in p.stderr
    _intact(a, before, oid)
    assert site.store.get("counterparties", oid) is None
    a.cli("login", "--user", "alice", "--password-stdin", stdin="a-new-password-2\n")
    a.close()
    assert a.synced().pushed == 1
    assert site.store.get("counterparties", oid) is not None
    assert_settled(site, a)


# -- compaction ----------------------------------------------------------------------------------


def test_compaction_keeps_pulls_correct(site: Site) -> None:
    """A compacted log serves a workstation above the horizon exactly what it needs: the
    newest state of each object, and deletes and moves as deletes."""
    org, other = site.orgs
    cp, item = catalogs(site)
    docs = [site.store.put("sales_invoices", invoice(org, cp, item, i))["id"] for i in range(6)]
    theirs = site.store.put("sales_invoices", invoice(other, cp, item, 7))["id"]
    a = site.add("depot", orgs=[org])
    b = site.add("office", orgs=[other])
    sync_all(a, b)
    time.sleep(0.05)
    since = time.time()
    time.sleep(0.05)
    for i in range(3):  # many versions of one object: only the newest is kept
        site.store.put("sales_invoices", {"total": 100.0 + i}, id=docs[0])
    site.store.put("sales_invoices", {"organization": other}, id=docs[1])  # moved away
    site.store.put("sales_invoices", {"total": 1.5}, id=docs[1])  # and edited there
    site.store.put("sales_invoices", {"organization": other}, id=docs[2])  # away and back
    site.store.put("sales_invoices", {"organization": org}, id=docs[2])
    site.store.put("sales_invoices", {"organization": org}, id=theirs)  # moved in
    site.store.delete("sales_invoices", docs[3])
    made = site.store.put("sales_invoices", invoice(org, cp, item, 8))["id"]
    site.store.delete("sales_invoices", made)  # made and deleted between two syncs
    site.store.put("items", {"price": 4.0}, id=item)
    before = site.store.scalar("SELECT count(*) FROM _journal")
    done = compact(site.store, keep_days=0, now=since)
    # the horizon is the newest position known to be older than the cutoff: never past it
    assert 0 < done.horizon <= a.cursor() == b.cursor()
    assert site.store.scalar("SELECT count(*) FROM _journal") < before
    sync_all(a, b)
    assert not any(h.get("refreshed") for h in a.ws.log.history(5))
    held_a, held_b = objects(a.store), objects(b.store)
    assert held_a[("sales_invoices", docs[0])]["total"] == 102.0
    assert ("sales_invoices", docs[1]) not in held_a and ("sales_invoices", docs[1]) in held_b
    assert ("sales_invoices", docs[2]) in held_a and ("sales_invoices", docs[2]) not in held_b
    assert ("sales_invoices", theirs) in held_a and ("sales_invoices", theirs) not in held_b
    assert ("sales_invoices", docs[3]) not in held_a
    assert_settled(site, a, b)


def test_compaction_right_after_a_delete_keeps_the_sequence_growing(site: Site) -> None:
    """The newest change is never compacted away: the next change must get a sequence number
    past every cursor already handed out, or workstations at the head would never see it."""
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a = site.add("depot", orgs=[org])
    site.store.delete("sales_invoices", doc)  # the newest change is a deletion
    a.synced()
    head = site.store.head()
    assert a.cursor() == head and a.store.get("sales_invoices", doc) is None
    compact(site.store, keep_days=0)
    made = site.store.put("sales_invoices", invoice(org, cp, item, 2))["id"]
    assert site.store.head() > head
    assert a.synced().pulled == 1
    assert a.store.get("sales_invoices", made) is not None
    assert_settled(site, a)


@pytest.mark.parametrize("cloud_states_its_limit", [True, False])
def test_batches_grow_only_to_the_limit_the_cloud_states(
    site: Site, cloud_states_its_limit: bool
) -> None:
    """A cloud from before batches of 10,000 states no limit and takes 5,000 at most; nor does
    it say that it takes batches in flight, and none is sent before the previous answer."""
    a = site.add("depot", orgs=[site.orgs[0]])
    with a.store.write():
        a.store.conn.executemany(
            "INSERT INTO counterparties(id, code, name) VALUES (?, ?, ?)",  # a journal row each
            [(str(uuid.uuid4()), f"L-{i}", f"Local {i}") for i in range(26_000)])
    sizes: list[int] = []
    ahead: list[str | None] = []

    class Client:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def push(self, batch: str, cursor: int, changes: str, *, after: str | None = None,
                 ) -> Any:
            sizes.append(len(json.loads(changes)))
            ahead.append(after)
            answer = self.inner.push(batch, cursor, changes, after=after)
            if not cloud_states_its_limit:
                answer.pop("max_changes", None)
                answer.pop("in_flight", None)
            return answer

    client = Client(a.ws.client())
    r = a.ws.sync(client=client)  # type: ignore[arg-type]
    assert r.ok and r.pushed == 26_000 and sum(sizes) == 26_000
    assert max(sizes) == (10_000 if cloud_states_its_limit else 5_000), sizes
    assert any(ahead) == cloud_states_its_limit, ahead


# -- work going on while a sync runs -------------------------------------------------------------


def _during_push(node: Node, edit: Callable[[Store], None]) -> Any:
    """A client whose first push runs `edit` on the workstation's database (through a
    connection of its own, as the user's application would) while the batch is in flight."""

    class Client:
        def __init__(self, inner: Any) -> None:
            self.inner, self.done = inner, False

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def push(self, *args: Any, **kwargs: Any) -> Any:
            if not self.done:
                self.done = True
                with Store.open(node.home.database) as other:
                    edit(other)
            return self.inner.push(*args, **kwargs)

    return Client(node.ws.client())


def test_an_edit_made_while_its_merge_is_in_flight_is_kept(site: Site) -> None:
    """The workstation sends total = 10; the cloud merges it with its own edit of `posted`;
    meanwhile the user changes total again to 20. The newer edit is the user's, not a
    conflict with their own earlier one: it reaches the cloud, with the cloud's `posted`."""
    org = site.orgs[0]
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    gone = site.store.put("sales_invoices", invoice(org, cp, item, 2))["id"]
    a = site.add("depot", orgs=[org])
    a.store.put("sales_invoices", {"total": 10.0}, id=doc)
    a.store.put("sales_invoices", {"total": 11.0}, id=gone)
    site.store.put("sales_invoices", {"posted": True}, id=doc)
    site.store.put("sales_invoices", {"date": "2025-07-07"}, id=gone)

    def edit(store: Store) -> None:
        store.put("sales_invoices", {"total": 20.0}, id=doc)
        store.delete("sales_invoices", gone)

    client = _during_push(a, edit)
    r = a.ws.sync(client=client)
    client.close()
    assert r.ok and r.conflicts == 0, r
    assert a.store.require("sales_invoices", doc)["fields"]["posted"] is True
    assert a.synced().conflicts == 0
    got = site.store.require("sales_invoices", doc)["fields"]
    assert (got["total"], got["posted"]) == (20.0, True)
    assert site.store.get("sales_invoices", gone) is None
    assert local_conflicts(a) == [] and cloud_conflicts(site, a) == []
    assert_settled(site, a)


def test_a_state_made_again_is_a_new_change_not_a_replay(site: Site) -> None:
    """Found by the property test. The workstation moves a document to B and syncs; the cloud
    moves it back and the workstation learns it; the cloud edits the total; the workstation
    moves it to B again, making exactly the state it sent the first time. That is a new change
    (its base is newer than its own old version), merged with the cloud's edit, not an old
    push replayed by a restored home."""
    org, other = site.orgs
    cp, item = catalogs(site)
    doc = site.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a = site.add("office")
    a.store.put("sales_invoices", {"organization": other}, id=doc)
    a.synced()
    site.store.put("sales_invoices", {"organization": org}, id=doc)
    a.synced()
    site.store.put("sales_invoices", {"total": 9.0}, id=doc)
    a.store.put("sales_invoices", {"organization": other}, id=doc)
    r = a.synced()
    assert r.conflicts == 0
    got = site.store.require("sales_invoices", doc)["fields"]
    assert (got["organization"], got["total"]) == (other, 9.0)
    assert_settled(site, a)


def test_an_object_said_to_be_new_that_the_cloud_holds_is_decided_the_careful_way(
    site: Site,
) -> None:
    """New objects are inserted without being looked up first; an id the cloud holds after all
    (under another entity, or deleted) makes the cloud undo the batch and decide it again with
    every object looked up: the others still apply, nothing is resurrected or doubled."""
    org = site.orgs[0]
    _, item = catalogs(site)
    a = site.add("depot", orgs=[org])
    token = a.ws.credentials.load()
    url = f"{site.cloud.url}/api/v1/tenants/{site.tenant}/sync/push"
    gone = site.store.put("counterparties", {"name": "Deleted in the cloud"})["id"]
    site.store.delete("counterparties", gone)
    item_before = site.store.require("items", item)
    counterparties = site.store.count("counterparties")
    fresh = [str(uuid.uuid4()) for _ in range(3)]

    def cp(oid: str, name: str) -> dict[str, Any]:
        return {"entity": "counterparties", "id": oid, "op": "put", "base": 0, "at": time.time(),
                "fields": {"code": None, "name": name, "tax_id": None}}

    body = {"batch": str(uuid.uuid4()), "cursor": a.cursor(), "compact": True, "changes": [
        cp(fresh[0], "New one"), cp(item, "Not an item"), cp(fresh[1], "New two"),
        cp(gone, "Made again?"), cp(fresh[2], "New three")]}
    r = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["applied"] == fresh
    assert answer["versions"] == [site.store.require("counterparties", oid)["version"]
                                  for oid in fresh]
    status = {x["id"]: x for x in answer["results"]}
    assert status[item]["status"] == "rejected" and "belongs to a items" in status[item]["reason"]
    assert site.store.require("items", item) == item_before
    assert site.store.get("counterparties", item) is None
    # the deleted one is an edit against a delete, settled by priority (the cloud's: deleted)
    assert site.store.get("counterparties", gone) is None
    assert [c["id"] for c in cloud_conflicts(site, a)] == [gone]
    assert site.store.count("counterparties") == counterparties + 3


def test_every_kind_of_new_batch_is_answered_with_the_versions_the_cloud_keeps(
    site: Site,
) -> None:
    """A batch of new objects of one entity is applied as one, and its versions read straight
    from the journal when each object wrote one journal row; numbering, lines and mixed
    entities write more rows, or need a step per object. Every way, an applied object's
    version in the answer is the one the cloud keeps: its newest journal row."""
    org = site.orgs[0]
    cp, item = catalogs(site)
    a = site.add("depot", orgs=[org])
    token = a.ws.credentials.load()
    url = f"{site.cloud.url}/api/v1/tenants/{site.tenant}/sync/push"

    def put(entity: str, fields: dict[str, Any]) -> dict[str, Any]:
        return {"entity": entity, "id": str(uuid.uuid4()), "op": "put", "base": 0, "at": None,
                "fields": fields}

    def counterparty(code: str | None) -> dict[str, Any]:
        return put("counterparties", {"code": code, "name": f"Made as {code}", "tax_id": None})

    def sale(number: str, org: str, qty: float) -> dict[str, Any]:
        return put("sales_invoices", {"number": number, "posted": False,
                                      **invoice(org, cp, item, qty)})

    other = site.orgs[1]
    kinds = {
        "coded": [counterparty(f"D-{i}") for i in range(5)],
        "numbered": [counterparty(None) for _ in range(5)],
        "with lines": [sale(f"D-{i}", org, i) for i in range(1, 4)],
        "mixed": [counterparty("D-9"),
                  put("items", {"code": "I-1", "name": "Nut", "unit": "pcs", "price": 1})],
        "one refused": [sale("D-7", org, 1), sale("D-8", other, 1)],
        "empty": [],
    }
    for kind, changes in kinds.items():
        body = {"batch": str(uuid.uuid4()), "cursor": a.cursor(), "compact": True,
                "changes": changes}
        r = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"},
                          timeout=30)
        assert r.status_code == 200, r.text
        answer = r.json()
        refused = {x["id"] for x in answer["results"] if x["status"] == "rejected"}
        assert len(refused) == (1 if kind == "one refused" else 0), (kind, answer["results"])
        assert answer["applied"] == [c["id"] for c in changes if c["id"] not in refused], kind
        kept = [site.store.require(c["entity"], c["id"])["version"]
                for c in changes if c["id"] not in refused]
        newest = [site.store.scalar("SELECT max(seq) FROM _journal WHERE id = ?", (oid,))
                  for oid in answer["applied"]]
        assert answer["versions"] == kept == newest, kind
    numbered = [site.store.require("counterparties", c["id"])["fields"]["code"]
                for c in kinds["numbered"]]
    assert all(numbered) and len(set(numbered)) == 5
