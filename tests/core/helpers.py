"""What several core tests need: reference objects, and reading the journal back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import Store


@dataclass
class Refs:
    """Two organizations, a counterparty and an item, made through the object API."""

    org_a: str
    org_b: str
    counterparty: str
    item: str


def make_refs(store: Store) -> Refs:
    a = store.put("organizations", {"name": "Alpha LLC", "tax_id": "7701"})["id"]
    b = store.put("organizations", {"name": "Beta LLC"})["id"]
    cp = store.put("counterparties", {"name": "Buyer Ltd"})["id"]
    item = store.put("items", {"name": "Widget", "unit": "pcs", "price": 5.0})["id"]
    return Refs(a, b, cp, item)


def invoice_fields(refs: Refs, *, org: str | None = None, lines: int = 2) -> dict[str, Any]:
    return {
        "date": "2024-03-01",
        "organization": org or refs.org_a,
        "counterparty": refs.counterparty,
        "total": 10.0 * lines,
        "posted": False,
        "lines": [
            {"item": refs.item, "quantity": 2, "price": 5.0, "amount": 10.0}
            for _ in range(lines)
        ],
    }


def journal(store: Store, after: int = 0) -> list[tuple[str, str, str, str | None]]:
    """(entity, id, op, org) of every journal row after `after`, in order."""
    return [
        (str(e), str(i), str(op), org)
        for e, i, op, org in store.conn.execute(
            "SELECT entity, id, op, org FROM _journal WHERE seq > ? ORDER BY seq", (after,)
        )
    ]


def last_op(store: Store, entity: str, oid: str) -> tuple[str, str | None] | None:
    """(op, org) of the newest journal row of one object: what sync acts on."""
    row: Any = store.conn.execute(
        "SELECT op, org FROM _journal WHERE entity = ? AND id = ? ORDER BY seq DESC LIMIT 1",
        (entity, oid),
    ).fetchone()
    return None if row is None else (str(row[0]), row[1])
