"""Property: whatever mix of object-API and raw-SQL writes happens, the journal covers every
object changed since it was last trimmed, its newest row tells whether the object still exists,
and the store holds exactly what a plain in-memory model says it should."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from core import Store, ValidationError, default_schema

Key = tuple[str, str]  # (entity, id)
CATALOGS = ("counterparties", "items")
ALL = (*CATALOGS, "sales_invoices")

text = st.text(alphabet="abcxyz ", max_size=8)
maybe_text = st.none() | text
number = st.none() | st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False)
# a code left out, null or empty is numbered on insert; a given one is kept
code = st.sampled_from([None, "", "K-1", "K-2"])
pick = st.integers(0, 10_000)


def catalog_fields(entity: str) -> st.SearchStrategy[dict[str, Any]]:
    """Some of the entity's fields (a partial update, or a new object when `name` is in)."""
    optional: dict[str, st.SearchStrategy[Any]] = {"code": code}
    if entity == "counterparties":
        optional["tax_id"] = maybe_text
    else:
        optional.update(unit=maybe_text, price=number)
    return st.fixed_dictionaries({"name": text}, optional=optional)


def as_stored(value: Any) -> Any:
    """What a REAL column gives back for a number put in."""
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class CaptureModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="outpost-prop-"))
        self.store = Store.create(self.dir / "ib.db", default_schema(), prefix="AB")
        self.raw = sqlite3.connect(self.dir / "ib.db", isolation_level=None, timeout=10)
        self.model: dict[Key, dict[str, Any]] = {}
        self.counters = {e: 0 for e in ALL}
        self.changed: set[Key] = set()  # since the journal was last trimmed
        self.touched: set[Key] = set()
        self.step: set[Key] = set()  # changed by the rule that just ran
        self.mark = 0  # the journal head before it
        # fixed objects the invoices refer to; no rule changes them
        self.orgs = [self.api_put("organizations", {"name": n, "tax_id": None}) for n in "AB"]
        self.cp = self.api_put("counterparties", {"name": "fixed", "code": "F-1",
                                                  "tax_id": None})
        self.item = self.api_put("items", {"name": "fixed", "code": "F-1", "unit": None,
                                           "price": None})
        self.fixed = set(self.model)

    def teardown(self) -> None:
        self.raw.close()
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the model -----------------------------------------------------------------------------

    def number(self, entity: str, given: Any) -> Any:
        if given is None or given == "":
            self.counters[entity] += 1
            return f"AB-{self.counters[entity]:06d}"
        return given

    def change(self, key: Key) -> None:
        self.changed.add(key)
        self.step.add(key)

    def ids(self, entity: str) -> list[str]:
        return sorted(i for e, i in self.model if e == entity and (e, i) not in self.fixed)

    def choose(self, entity: str, n: int) -> str | None:
        ids = self.ids(entity)
        return ids[n % len(ids)] if ids else None

    def api_put(self, entity: str, fields: dict[str, Any]) -> str:
        oid = self.store.put(entity, fields)["id"]
        numbered = self.store.entity(entity).numbered_field
        full = {f.name: as_stored(fields.get(f.name)) for f in self.store.entity(entity).fields}
        if numbered:
            full[numbered.name] = self.number(entity, fields.get(numbered.name))
        if "lines" in fields:
            full["lines"] = [{k: as_stored(v) for k, v in r.items()} for r in fields["lines"]]
        self.model[(entity, oid)] = full
        self.change((entity, oid))
        self.touched.add((entity, oid))
        return oid

    # -- rules: catalogs -----------------------------------------------------------------------

    @rule(data=st.data(), entity=st.sampled_from(CATALOGS), via_api=st.booleans())
    def create(self, data: st.DataObject, entity: str, via_api: bool) -> None:
        fields = data.draw(catalog_fields(entity))
        if via_api:
            self.api_put(entity, fields)
            return
        oid = str(uuid.uuid4())
        cols = ["id", *fields]
        self.raw.execute(
            f"INSERT INTO {entity}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            (oid, *fields.values()),
        )
        full = {f.name: as_stored(fields.get(f.name)) for f in self.store.entity(entity).fields}
        full["code"] = self.number(entity, fields.get("code"))
        self.model[(entity, oid)] = full
        self.change((entity, oid))
        self.touched.add((entity, oid))

    @rule(data=st.data(), entity=st.sampled_from(CATALOGS), n=pick, via_api=st.booleans())
    def update(self, data: st.DataObject, entity: str, n: int, via_api: bool) -> None:
        oid = self.choose(entity, n)
        if oid is None:
            return
        fields = data.draw(catalog_fields(entity))
        del fields["name"]
        if not fields and not via_api:
            return
        key = (entity, oid)
        before = dict(self.model[key])
        if via_api:
            self.store.put(entity, fields, id=oid)
        else:
            sets = ", ".join(f"{k} = ?" for k in fields)
            self.raw.execute(f"UPDATE {entity} SET {sets} WHERE id = ?", (*fields.values(), oid))
            self.change(key)  # a raw UPDATE is journaled even when nothing differs
        self.model[key].update({k: as_stored(v) for k, v in fields.items()})
        if self.model[key] != before:
            self.change(key)
        self.touched.add(key)

    @rule(entity=st.sampled_from(ALL), n=pick, via_api=st.booleans())
    def delete(self, entity: str, n: int, via_api: bool) -> None:
        oid = self.choose(entity, n)
        if oid is None:
            return
        if via_api:
            assert self.store.delete(entity, oid) is True
        else:
            self.raw.execute(f"DELETE FROM {entity} WHERE id = ?", (oid,))
        del self.model[(entity, oid)]
        self.change((entity, oid))
        self.touched.add((entity, oid))

    @rule(entity=st.sampled_from(CATALOGS), n=pick, bad=st.sampled_from([5, True, ["x"]]))
    def rejected_put(self, entity: str, n: int, bad: Any) -> None:
        """An invalid put, new or update, changes nothing at all."""
        head = self.store.head()
        try:
            self.store.put(entity, {"name": bad}, id=self.choose(entity, n))
        except ValidationError as exc:
            assert exc.field == "name"
        else:
            raise AssertionError("an invalid put was accepted")
        assert self.store.head() == head

    # -- rules: documents and their lines ------------------------------------------------------

    @rule(org=st.integers(0, 1), lines=st.integers(1, 3), number_=code)
    def create_invoice(self, org: int, lines: int, number_: Any) -> None:
        self.api_put("sales_invoices", {
            "number": number_, "date": "2024-05-01", "organization": self.orgs[org],
            "counterparty": self.cp, "total": None, "posted": False,
            "lines": [{"item": self.item, "quantity": i + 1, "price": None, "amount": None}
                      for i in range(lines)],
        })

    @precondition(lambda self: self.ids("sales_invoices"))
    @rule(n=pick, how=st.sampled_from(["api_lines", "raw_add_line", "raw_drop_lines",
                                       "raw_move_org", "api_move_org"]))
    def change_invoice(self, n: int, how: str) -> None:
        oid = self.choose("sales_invoices", n)
        assert oid is not None
        key = ("sales_invoices", oid)
        obj = self.model[key]
        lines = obj["lines"]
        other = self.orgs[1] if obj["organization"] == self.orgs[0] else self.orgs[0]
        if how == "api_lines":
            new = [{"item": self.item, "quantity": 9.0, "price": 1.0, "amount": 9.0}]
            self.store.put("sales_invoices", {"lines": new}, id=oid)
            if new != lines:
                self.change(key)
            obj["lines"] = new
        elif how == "raw_add_line":
            self.raw.execute(
                "INSERT INTO sales_invoices_lines(owner, line_no, item, quantity) "
                "VALUES (?, ?, ?, 1)", (oid, len(lines) + 1, self.item))
            lines.append({"item": self.item, "quantity": 1.0, "price": None, "amount": None})
            self.change(key)
        elif how == "raw_drop_lines":
            self.raw.execute("DELETE FROM sales_invoices_lines WHERE owner = ?", (oid,))
            if lines:
                self.change(key)
            obj["lines"] = []
        elif how == "raw_move_org":
            self.raw.execute("UPDATE sales_invoices SET organization = ? WHERE id = ?",
                             (other, oid))
            obj["organization"] = other
            self.change(key)
        else:
            self.store.put("sales_invoices", {"organization": other}, id=oid)
            obj["organization"] = other
            self.change(key)
        self.touched.add(key)

    @rule()
    def sync_trims_the_journal(self) -> None:
        """As a sync does once the cloud has the changes: later ones must show up anew."""
        self.raw.execute("DELETE FROM _journal")
        self.changed.clear()
        self.touched.clear()

    # -- what must hold ------------------------------------------------------------------------

    @invariant()
    def store_equals_model(self) -> None:
        for entity in ALL:
            stored = {o["id"]: o["fields"]
                      for o in self.store.list_objects(entity, limit=1000)}
            assert stored == {i: f for (e, i), f in self.model.items() if e == entity}

    @invariant()
    def journal_covers_every_change(self) -> None:
        newest: dict[Key, str] = {}
        for entity, oid, op in self.raw.execute(
            "SELECT entity, id, op FROM _journal ORDER BY seq"
        ):
            newest[(entity, oid)] = op
        assert self.changed <= set(newest)
        assert set(newest) <= self.touched | self.fixed
        for key, op in newest.items():
            assert (op == "D") == (key not in self.model), (key, op)
        # each change is journaled by the write that made it, not only by an earlier one
        fresh = {(e, i) for e, i in self.raw.execute(
            "SELECT entity, id FROM _journal WHERE seq > ?", (self.mark,))}
        assert self.step <= fresh
        self.step.clear()
        self.mark = self.store.head()


CaptureModel.TestCase.settings = settings(
    max_examples=50, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCapture = CaptureModel.TestCase
