"""Realistic demo data for a tenant: counterparties, items, invoices with lines, payments.

Deterministic for a given seed and starting state, and fast enough for 100,000 objects: all
of it is written in one transaction in batches (cloud.bulk), so the capture triggers,
numbering and versions behave as for any other write. The generator builds every object of a
kind the same way, so the first of each kind is validated and the rest share its shape.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from cloud.bulk import insert_new, stamp_versions
from core.ddl import q
from core.errors import ValidationError
from core.store import Store

MAX_OBJECTS = 10_000_000

_ADJ = ["Northern", "Blue", "Golden", "Prime", "Silver", "Green", "Swift", "Bright", "Coastal",
        "Summit", "Red", "Eastern", "Union", "Pioneer", "Royal", "Harbor", "Alpine", "Sunrise"]
_NOUN = ["River", "Oak", "Stone", "Falcon", "Bridge", "Field", "Anchor", "Maple", "Cedar",
         "Lake", "Mill", "Forge", "Ridge", "Valley", "Crown", "Harvest", "Beacon", "Pine"]
_TRADE = ["Trading", "Supply", "Logistics", "Foods", "Systems", "Textiles", "Motors", "Retail",
          "Farms", "Pharma", "Builders", "Electric", "Print", "Hardware", "Market", "Imports"]
_FORM = ["LLC", "Ltd", "Inc.", "& Co", "Group", "JSC", "GmbH", "plc"]
_MATERIAL = ["Steel", "Oak", "Cotton", "Plastic", "Copper", "Glass", "Rubber", "Paper",
             "Ceramic", "Aluminium", "Leather", "Wool"]
_PRODUCT = ["bolt", "hinge", "towel", "bucket", "wire", "jar", "glove", "notebook", "mug",
            "bracket", "belt", "blanket", "pipe", "panel", "box", "rope"]
_SIZE = ["S", "M", "L", "XL", "6 mm", "8 mm", "10 mm", "1 m", "2 m", "500 ml", "1 l", "A4"]
_UNITS = ["pcs", "pcs", "pcs", "kg", "m", "box", "l", "pack"]
_ORGS = [("Outpost Trading LLC", "7701000001"), ("Outpost Retail Ltd", "7701000002"),
         ("Outpost Services Inc.", "7701000003")]
_START = dt.date(2025, 1, 1)
_DAYS = 365


@dataclass
class SeedReport:
    tenant: str
    organizations_created: int
    counterparties: int
    items: int
    sales_invoices: int
    invoice_lines: int
    payments: int
    seconds: float

    @property
    def objects(self) -> int:
        return self.counterparties + self.items + self.sales_invoices + self.payments

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "objects": self.objects, "seconds": round(self.seconds, 3)}


def plan(objects: int) -> tuple[int, int, int, int]:
    """How `objects` split into counterparties, items, invoices and payments."""
    if isinstance(objects, bool) or not isinstance(objects, int) or not (
        0 <= objects <= MAX_OBJECTS
    ):
        raise ValidationError(f"objects: must be a whole number from 0 to {MAX_OBJECTS}",
                              field="objects")
    if objects == 0:
        return 0, 0, 0, 0
    cps = min(objects, max(1, round(objects * 0.05)))
    items = min(objects - cps, max(1, round(objects * 0.03)))
    rest = objects - cps - items
    invoices = math.ceil(rest * 0.6)
    return cps, items, invoices, rest - invoices


def seed(store: Store, tenant: str, objects: int, *, seed: int = 1) -> SeedReport:
    """Add `objects` new objects to the tenant's store in one transaction."""
    n_cps, n_items, n_inv, n_pay = plan(objects)
    rng = random.Random(seed)
    started = time.perf_counter()
    with store.write():
        since = store.head()
        orgs = [str(r[0]) for r in store.conn.execute(
            f"SELECT id FROM {q(store.schema.org_entity.table)} ORDER BY id")]
        made_orgs = 0
        if not orgs and objects:
            new_orgs = [(_uuid(rng), {"name": name, "tax_id": tax}) for name, tax in _ORGS]
            made_orgs = insert_new(store, "organizations", new_orgs)
            orgs = [oid for oid, _ in new_orgs]
        cps = [(_uuid(rng), _counterparty(rng)) for _ in range(n_cps)]
        insert_new(store, "counterparties", cps, check_all=False)
        items = [(_uuid(rng), _item(rng)) for _ in range(n_items)]
        insert_new(store, "items", items, check_all=False)
        invoices = [_invoice(rng, orgs, cps, items) for _ in range(n_inv)]
        insert_new(store, "sales_invoices", invoices, check_all=False)
        lines = sum(len(fields["lines"]) for _, fields in invoices)
        payments = [_payment(rng, invoices) for _ in range(n_pay if invoices else 0)]
        insert_new(store, "payments", payments, check_all=False)
        stamp_versions(store, since)
    return SeedReport(tenant, made_orgs, n_cps, n_items, n_inv, lines, len(payments),
                      time.perf_counter() - started)


Obj = tuple[str, dict[str, Any]]


def _invoice(rng: random.Random, orgs: list[str], cps: list[Obj], items: list[Obj]) -> Obj:
    lines = []
    for item, fields in rng.sample(items, min(len(items), rng.randint(1, 5))):
        quantity, price = rng.randint(1, 20), fields["price"]
        lines.append({"item": item, "quantity": quantity, "price": price,
                      "amount": round(quantity * price, 2)})
    return _uuid(rng), {
        "date": _day(rng).isoformat(), "organization": rng.choice(orgs),
        "counterparty": rng.choice(cps)[0],
        "total": round(sum(line["amount"] for line in lines), 2),
        "posted": rng.random() < 0.9, "lines": lines,
    }


def _payment(rng: random.Random, invoices: list[Obj]) -> Obj:
    oid, inv = rng.choice(invoices)
    total = inv["total"]
    paid = total if rng.random() < 0.7 else round(total * rng.choice([0.3, 0.5]), 2)
    day = dt.date.fromisoformat(inv["date"]) + dt.timedelta(days=rng.randint(0, 30))
    return _uuid(rng), {"date": day.isoformat(), "organization": inv["organization"],
                        "counterparty": inv["counterparty"], "amount": paid, "invoice": oid}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _day(rng: random.Random) -> dt.date:
    return _START + dt.timedelta(days=rng.randrange(_DAYS))


def _counterparty(rng: random.Random) -> dict[str, Any]:
    name = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)} {rng.choice(_TRADE)} {rng.choice(_FORM)}"
    return {"name": name, "tax_id": str(rng.randrange(10**9, 10**10))}


def _item(rng: random.Random) -> dict[str, Any]:
    name = f"{rng.choice(_MATERIAL)} {rng.choice(_PRODUCT)}, {rng.choice(_SIZE)}"
    return {"name": name, "unit": rng.choice(_UNITS),
            "price": round(rng.uniform(0.5, 500.0), 2)}
