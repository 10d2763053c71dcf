"""Seeding demo data: counts, consistency, spread across organizations, determinism."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cloud.registry import Registry
from cloud.seed import plan, seed
from core.errors import ValidationError
from core.objects import coerce_fields


@pytest.mark.parametrize("n", [*range(0, 12), 99, 2000, 100_000])
def test_plan_adds_up(n: int) -> None:
    parts = plan(n)
    assert sum(parts) == n and all(p >= 0 for p in parts)
    if n >= 3:
        assert parts[2] >= 1  # invoices once there is room for one


def test_plan_refuses_nonsense() -> None:
    for bad in (-1, 10**9):
        with pytest.raises(ValidationError, match="objects"):
            plan(bad)


def test_seeded_data_is_consistent_and_spread(registry: Registry) -> None:
    registry.create_tenant("demo", "optimal")
    with registry.tenant_store("demo") as store:
        head = store.head()
        report = seed(store, "demo", 3000, seed=5)
        assert report.objects == 3000 and report.organizations_created == 3
        orgs = {o["id"] for o in store.list_objects("organizations")}
        assert len(orgs) == 3
        counts = {e: store.count(e) for e in ("counterparties", "items", "sales_invoices",
                                               "payments")}
        assert counts == {"counterparties": report.counterparties, "items": report.items,
                          "sales_invoices": report.sales_invoices,
                          "payments": report.payments}
        assert sum(counts.values()) == 3000
        invoices = {o["id"]: o for o in _all(store, "sales_invoices")}
        per_org = Counter(o["org"] for o in invoices.values())
        assert set(per_org) == orgs and min(per_org.values()) > len(invoices) / 6
        items = {o["id"] for o in _all(store, "items")}
        lines = 0
        for inv in invoices.values():
            f = inv["fields"]
            assert 1 <= len(f["lines"]) <= 5 and f["number"].startswith("00-")
            for line in f["lines"]:
                assert line["item"] in items
                assert line["amount"] == pytest.approx(line["quantity"] * line["price"],
                                                       abs=0.01)
            assert f["total"] == pytest.approx(sum(x["amount"] for x in f["lines"]), abs=0.01)
            lines += len(f["lines"])
            coerce_fields(store.entity("sales_invoices"), f, existing=None)  # valid as a put
        assert lines == report.invoice_lines
        for pay in _all(store, "payments"):
            inv = invoices[pay["fields"]["invoice"]]
            assert pay["org"] == inv["org"]
            assert pay["fields"]["counterparty"] == inv["fields"]["counterparty"]
            assert 0 < pay["fields"]["amount"] <= inv["fields"]["total"] + 0.001
            assert pay["fields"]["date"] >= inv["fields"]["date"]
        # Every object was journaled and carries its version, as after a put.
        changed = store.scalar("SELECT count(DISTINCT id) FROM _journal WHERE seq > ?", (head,))
        assert changed == 3003
        assert store.scalar("SELECT count(*) FROM _versions v WHERE version = "
                            "(SELECT max(seq) FROM _journal j WHERE j.id = v.id)") == 3003
        # Seeding again reuses the organizations and adds more.
        again = seed(store, "demo", 10, seed=6)
        assert again.organizations_created == 0
        assert store.count("organizations") == 3


def test_seeding_is_deterministic(tmp_path: Path) -> None:
    def snapshot(name: str, seed_value: int) -> list[object]:
        reg = Registry.init(tmp_path / f"{name}-{seed_value}")
        reg.create_tenant("t1", "starter")
        with reg.tenant_store("t1") as store:
            seed(store, "t1", 300, seed=seed_value)
            out = [store.list_objects(e, limit=1000) for e in store.schema.entities]
        reg.close()
        return out

    assert snapshot("a", 42) == snapshot("b", 42)
    assert snapshot("c", 42) != snapshot("d", 43)


def _all(store, entity):  # type: ignore[no-untyped-def]
    after = None
    while True:
        page = store.list_objects(entity, after=after, limit=1000)
        yield from page
        if len(page) < 1000:
            return
        after = page[-1]["id"]
