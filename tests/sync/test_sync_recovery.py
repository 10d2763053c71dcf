"""Recovering from the past: a home restored from an old backup, a workstation away longer than
the cloud keeps its change log, and the same bundle signed in from a second home."""

from __future__ import annotations

import json

from cloud.sync import compact
from daemon.sync.push import prepare
from tests.support.workstation import install, outpost
from tests.sync.sync_helpers import (
    Node,
    Site,
    assert_settled,
    assert_unique_numbers,
    catalogs,
    cloud_conflicts,
    copy_home,
    invoice,
    local_conflicts,
    objects,
    restore_home,
    sync_all,
)


def numbers(node: Node, entity: str = "sales_invoices") -> set[int]:
    """The numbers `node`'s prefix has handed out for `entity`, as integers."""
    prefix = node.store.prefix + "-"
    field = "number" if entity in ("sales_invoices", "payments") else "code"
    return {int(str(v)[len(prefix):]) for (v,) in node.store.conn.execute(
        f'SELECT "{field}" FROM "{entity}" WHERE "{field}" LIKE ?', (prefix + "%",))}


def test_a_home_restored_from_an_old_backup_is_detected_and_recovers(site: Site) -> None:
    org = site.orgs[0]
    a = site.add("depot", orgs=[org])
    cp, item = catalogs(site)
    a.synced()
    sent = [a.store.put("sales_invoices", invoice(org, cp, item, i))["id"] for i in range(1, 4)]
    a.synced()
    # at the time of the backup: one new invoice and one edit not yet sent
    unsent = a.store.put("sales_invoices", invoice(org, cp, item, 10))["id"]
    a.store.put("sales_invoices", {"total": 99.0}, id=sent[0])
    a.close()
    backup = copy_home(a.home, site.tmp / "backup")

    # life goes on after the backup: new work, a delete, an edit, one sync
    later = [a.store.put("sales_invoices", invoice(org, cp, item, 20 + i))["id"]
             for i in range(3)]
    a.store.delete("sales_invoices", sent[1])
    a.store.put("sales_invoices", {"total": 7.0}, id=sent[2])
    site.store.put("counterparties", {"name": "Client (renamed in the cloud)"}, id=cp)
    a.synced()
    handed_out = numbers(a)
    assert max(handed_out) == 7  # numbers 1..7, number 2 deleted since
    a.close()

    restore_home(backup, a.home)
    assert a.cursor() < site.store.head() and a.journal() > 0
    first = a.synced()
    assert first.refreshed, "the restored home was not detected"
    assert_settled(site, a)
    held = objects(a.store)
    assert all(("sales_invoices", i) in held for i in [sent[0], sent[2], unsent, *later])
    assert ("sales_invoices", sent[1]) not in held
    assert held[("sales_invoices", sent[0])]["total"] == 99.0
    assert local_conflicts(a) == [] and cloud_conflicts(site, a) == []
    assert held[("sales_invoices", sent[2])]["total"] == 7.0
    assert site.store.count("sales_invoices") == 6  # nothing doubled, nothing lost

    # numbering continues past every number this workstation already handed out
    new = a.store.put("sales_invoices", invoice(org, cp, item, 30))
    assert int(new["fields"]["number"].split("-")[1]) > max(handed_out)
    a.synced()
    assert_settled(site, a)
    assert_unique_numbers(site.store)


def test_away_past_the_horizon_with_unsent_work(site: Site) -> None:
    """Cursor behind the compaction horizon, with local changes not yet sent: the workstation
    refreshes from a snapshot, keeps and sends its work, and drops what the cloud deleted."""
    org, other_org = site.orgs
    a = site.add("depot", orgs=[org])
    cp, item = catalogs(site)
    gone_cp = site.store.put("counterparties", {"name": "Closed down"})["id"]
    docs = [site.store.put("sales_invoices", invoice(org, cp, item, i))["id"] for i in range(6)]
    a.synced()

    # offline work
    met = a.store.put("counterparties", {"name": "Met offline"})["id"]
    made = a.store.put("sales_invoices", invoice(org, met, item, 9))["id"]
    a.store.put("sales_invoices", {"total": 55.0}, id=docs[0])
    a.store.delete("sales_invoices", docs[1])
    a.store.put("sales_invoices", {"posted": True}, id=docs[2])  # the cloud deletes it meanwhile
    # meanwhile in the cloud
    site.store.delete("sales_invoices", docs[2])
    site.store.delete("sales_invoices", docs[3])
    site.store.put("sales_invoices", {"organization": other_org}, id=docs[4])  # moved away
    site.store.put("sales_invoices", {"lines": []}, id=docs[5])
    site.store.delete("counterparties", gone_cp)
    site.store.put("items", {"price": 3.5}, id=item)
    done = compact(site.store, keep_days=0)
    assert done.horizon > a.cursor() and done.tombstones > 0

    r = a.synced()
    assert r.refreshed and r.pushed >= 5
    cloud = objects(site.store)
    assert cloud[("counterparties", met)]["name"] == "Met offline"
    assert cloud[("sales_invoices", made)]["counterparty"] == met
    assert cloud[("sales_invoices", docs[0])]["total"] == 55.0
    assert ("sales_invoices", docs[1]) not in cloud
    held = objects(a.store)
    for gone in [("sales_invoices", docs[3]), ("sales_invoices", docs[4]),
                 ("counterparties", gone_cp)]:
        assert gone not in held
    assert held[("sales_invoices", docs[5])]["lines"] == []
    assert held[("items", item)]["price"] == 3.5
    # an edit of an object deleted in the cloud meanwhile is a conflict even though the
    # cloud no longer remembers the deletion: priority (cloud) keeps it deleted, and the
    # offline edit is kept as the loser on both sides
    assert ("sales_invoices", docs[2]) not in cloud and ("sales_invoices", docs[2]) not in held
    lost = [c for c in local_conflicts(a) if c["id"] == docs[2]]
    assert len(lost) == 1 and lost[0]["loser"]["fields"]["posted"] is True
    assert [c for c in cloud_conflicts(site, a) if c["id"] == docs[2]] == lost
    sync_all(a)
    assert_settled(site, a)


def test_the_same_bundle_signed_in_from_a_second_home_is_refused(site: Site) -> None:
    org = site.orgs[0]
    a = site.add("depot", orgs=[org])
    second = install(site.tmp / "depot.zip", site.tmp / "second-home", site.cloud.url)
    p = outpost(second, "login", "--user", "alice", "--password-stdin",
                stdin=site.password("alice") + "\n", check=False)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("outpost: "), p.stderr
    assert "already in use on another computer" in lines[0]
    assert "Traceback" not in p.stderr
    st = json.loads(outpost(second, "status", "--json").stdout)
    assert st["state"] == "unauthorized" and st["credentials"] is None
    p = outpost(second, "sync", check=False)
    assert p.returncode != 0 and "unauthorized" in p.stderr

    # the first home keeps working, both ways
    cp, item = catalogs(site)
    assert a.synced().pulled == 2
    a.store.put("sales_invoices", invoice(org, cp, item, 4))
    assert a.synced().pushed == 1
    assert_settled(site, a)


def test_a_restored_home_with_a_batch_in_flight(site: Site) -> None:
    """The backup was taken while a batch was on its way: the restored home sends it again,
    gets the answer the cloud already gave, and still notices it was restored."""
    org = site.orgs[0]
    a = site.add("depot", orgs=[org])
    cp, item = catalogs(site)
    a.synced()
    made = [a.store.put("sales_invoices", invoice(org, cp, item, i))["id"] for i in range(3)]
    assert prepare(a.store, 2000) is not None  # the batch is built and saved, not yet sent
    a.close()
    backup = copy_home(a.home, site.tmp / "backup")
    a.synced()  # sends it; the cloud answers and remembers the answer
    a.store.put("sales_invoices", {"total": 1.25}, id=made[0])
    site.store.put("sales_invoices", {"posted": True}, id=made[1])
    a.synced()
    a.close()

    restore_home(backup, a.home)
    assert a.outbox() == 1
    r = a.synced()
    assert r.refreshed
    assert_settled(site, a)
    held = objects(a.store)
    assert held[("sales_invoices", made[0])]["total"] == 1.25
    assert held[("sales_invoices", made[1])]["posted"] is True
    assert site.store.count("sales_invoices") == 3
    assert local_conflicts(a) == [] and cloud_conflicts(site, a) == []


def test_a_restored_home_sending_again_what_it_sent_is_recognised(site: Site) -> None:
    """The backup holds an edit that was sent after the backup was taken, then replaced by a
    newer edit. The restored home sends the old edit again: the cloud recognises it as sent
    before, so neither does it win over the newer value (even with priority workstation) nor
    is it logged as a conflict."""
    org = site.orgs[0]
    a = site.add("depot", orgs=[org], priority="workstation")
    cp, item = catalogs(site)
    a.synced()
    doc = a.store.put("sales_invoices", invoice(org, cp, item, 1))["id"]
    a.synced()
    a.store.put("sales_invoices", {"total": 99.0}, id=doc)
    a.close()
    backup = copy_home(a.home, site.tmp / "backup")
    a.synced()
    a.store.put("sales_invoices", {"total": 98.0}, id=doc)
    a.synced()
    site.store.put("sales_invoices", {"posted": True}, id=doc)
    a.close()

    restore_home(backup, a.home)
    r = a.synced()
    assert r.refreshed and r.conflicts == 0
    got = site.store.require("sales_invoices", doc)["fields"]
    assert (got["total"], got["posted"]) == (98.0, True)
    assert local_conflicts(a) == [] and cloud_conflicts(site, a) == []
    assert_settled(site, a)
