"""Helpers of the bundle tests: a small but complete tenant, and the environment of CLIs."""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core import Store

BIN = Path(sys.executable).parent


@dataclass
class Tenant:
    path: Path
    orgs: list[str]
    counterparties: list[str]
    items: list[str]
    invoices: dict[str, list[str]] = field(default_factory=dict)  # org -> ids
    payments: dict[str, list[str]] = field(default_factory=dict)


def fill_tenant(store: Store, *, seed: int = 7, per_org: int = 6) -> Tenant:
    """Documents of each org use a few of the catalogs; some catalogs are used by no one."""
    rnd = random.Random(seed)
    orgs = [store.put("organizations", {"name": f"Org {n}", "tax_id": f"T{n}"})["id"]
            for n in "ABC"]
    cps = [store.put("counterparties", {"name": f"Counterparty {i}"})["id"] for i in range(9)]
    items = [store.put("items", {"name": f"Item {i}", "unit": "pc", "price": i + 0.5})["id"]
             for i in range(9)]
    t = Tenant(store.path, orgs, cps, items)
    for k, org in enumerate(orgs):
        # org k uses counterparties 3k..3k+1 and items 3k..3k+1 (3k+2 are unused by anyone)
        mine_cp, mine_items = cps[3 * k:3 * k + 2], items[3 * k:3 * k + 2]
        for i in range(per_org):
            lines = [{"item": rnd.choice(mine_items), "quantity": j + 1, "price": 2.0,
                      "amount": 2.0 * (j + 1)} for j in range(rnd.randint(1, 3))]
            inv = store.put("sales_invoices", {
                "date": "2024-03-01", "organization": org, "counterparty": mine_cp[i % 2],
                "total": sum(line["amount"] for line in lines), "posted": i % 2 == 0,
                "lines": lines,
            })["id"]
            t.invoices.setdefault(org, []).append(inv)
            pay = store.put("payments", {
                "date": "2024-03-02", "organization": org, "counterparty": mine_cp[0],
                "amount": 10, "invoice": inv,
            })["id"]
            t.payments.setdefault(org, []).append(pay)
    return t


def run_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OUTPOST_CLOUD_DATA", None)
    env.update(extra)
    return env
