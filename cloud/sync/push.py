"""Applying a workstation's pushed batch: exactly once, filtered, conflicts settled and logged.

The batch and the record of its answer commit in one transaction, so a batch sent again (the
workstation never heard the answer) gets the same answer and changes nothing.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Any

import apsw
import orjson

from cloud.sync.incoming import MAX_CHANGES, AllNew, Incoming, Parsed, parse_changes
from cloud.sync.nodes import check_position
from cloud.sync.pull import scope_of
from cloud.sync.tables import ensure_cloud_tables
from cloud.sync.tokens import SyncIdentity
from core.apply import (
    delete_objects,
    found_ids,
    insert_stamped,
    stamp_origin_since,
    upsert_objects,
)
from core.db import IDS, json_ids
from core.ddl import q
from core.errors import Conflict, MissingReference, ValidationError
from core.filters import Scope
from core.merge import Outcome, Version, merge
from core.objects import check_id, coerce_fields, references
from core.schema import Entity
from core.store import Store

IN_FLIGHT = 2  # batches a workstation may send before the first is answered, each naming the
# one before it (`after`): the cloud reads the next while it writes the first


class OutOfOrder(Conflict):
    """The batch named as this one's predecessor has not been applied: send that one first."""

    code = "out_of_order"


def apply_push(
    store: Store, ident: SyncIdentity, batch_id: Any, cursor: Any, changes: Any,
    *, compact: bool = False, after: Any = None,
) -> dict[str, Any]:
    """The answer to a batch, whose `changes` come as sent or as `parse_changes` read them.

    `compact` (the workstation asked for it) lists the applied objects as two arrays,
    `applied` ids and their `versions`, instead of a result object each: most of a long push
    is applied, and a dict per object cost both sides. `after` names the batch sent before
    this one: until that one is applied this one is refused (OutOfOrder), since it may refer
    to objects the other creates."""
    parsed = changes if isinstance(changes, Parsed) else parse_changes(store.schema, changes)
    ensure_cloud_tables(store)
    batch = _batch_id(batch_id)
    try:
        return _apply_once(store, ident, batch, cursor, parsed, compact, after, trusting=True)
    except apsw.ConstraintError:  # an object taken as new was here already: undone, and again
        return _apply_once(store, ident, batch, cursor, parsed, compact, after, trusting=False)


def _apply_once(
    store: Store, ident: SyncIdentity, batch: str, cursor: Any, parsed: Parsed, compact: bool,
    after: Any, *, trusting: bool,
) -> dict[str, Any]:
    ws = ident.workstation
    with store.write():
        prior: Any = store.conn.execute(
            "SELECT workstation, response FROM _batches WHERE batch_id = ?", (batch,)
        ).fetchone()
        if prior is not None:
            if prior[0] != ws.id:
                raise Conflict("this batch id was already used by another workstation")
            answer: dict[str, Any] = orjson.loads(prior[1])
            return answer
        if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0:
            raise ValidationError("'cursor' must be a non-negative integer")
        if after is not None and store.conn.execute(
            "SELECT 1 FROM _batches WHERE batch_id = ? AND workstation = ?",
            (_batch_id(after, what="after"), ws.id),
        ).fetchone() is None:
            raise OutOfOrder(f"batch {after} has not been applied yet: send it before this one")
        check_position(store, ws.id, cursor)
        if parsed.error is not None:
            raise parsed.error
        answer = _Apply(store, ident, scope_of(ident), compact).run(parsed, trusting)
        answer["batch"] = batch
        answer["max_changes"] = MAX_CHANGES  # a workstation sizes its next batches by it
        answer["in_flight"] = IN_FLIGHT  # and sends the next one before this answer by it
        store.conn.execute(
            "INSERT INTO _batches(batch_id, workstation, response, at) VALUES (?, ?, ?, ?)",
            (batch, ws.id, orjson.dumps(answer), time.time()),
        )
        store.conn.execute(
            "UPDATE _sync_nodes SET last_push_at = ? WHERE workstation = ?", (time.time(), ws.id)
        )
    return answer


def _batch_id(value: Any, *, what: str = "batch") -> str:
    try:
        return check_id(value, what=what)
    except ValidationError:
        raise ValidationError(f"'{what}' must be a UUID naming a batch") from None


class _Apply:
    """One batch inside its transaction: decide each object, then write in bulk.

    Most pushed objects are new: made on the workstation, whole and valid, never seen here.
    Such an object is first taken at its word (`base` 0) and inserted without looking it up
    in every table: the insert into its table and the insert of its first version are plain
    INSERTs, which fail if the id is there after all (a restored home sending again what it
    sent, a tombstone). Then the batch's transaction is rolled back and the batch decided
    again the careful way, with every object looked up first (`apply_push`). The cloud keeps
    a version for every object it holds (its writes all stamp one), so a failed version
    insert catches an id of any entity.
    """

    def __init__(self, store: Store, ident: SyncIdentity, scope: Scope, compact: bool) -> None:
        self.store = store
        self.ident = ident
        self.scope = scope
        self.compact = compact
        self.results: list[dict[str, Any]] = []
        self.applied: list[str] = []  # compact: applied objects, answered by id and version
        self.conflicts: list[dict[str, Any]] = []
        self.writes: dict[str, dict[str, dict[str, Any] | None]] = {}  # entity -> id -> fields
        self.created: set[tuple[str, str]] = set()  # earlier in this batch: may be referred to
        self.new: set[str] = set()  # written as new: a plain INSERT, which fails if it was not
        self.incoming: list[Incoming] = []
        self.rows: dict[str, str] = {}  # entity -> its writes as rows made ahead (core.apply)
        self.unstamped = False  # journal rows written without their origin: stamped after

    def run(self, parsed: Parsed, trusting: bool) -> dict[str, Any]:
        """Decide every object and write the batch. `trusting`: objects that say they are new
        are not looked up (see the class); otherwise every object is. A batch read ahead as
        new objects (`Parsed.all_new`) is taken whole if it may be."""
        receive_only = self.scope.receive_only
        if trusting and parsed.all_new is not None and self._take_ahead(parsed.all_new):
            return self._write_and_answer()
        incoming = self.incoming = parsed.changes
        waiting: list[tuple[Incoming, dict[str, Any] | None, Any]] = []
        maybe = [ch for ch in incoming  # what may be new as pushed: whole, base 0, may be sent
                 if ch.whole and ch.base == 0 and ch.entity.name not in receive_only]
        if trusting:
            fresh = self._fresh(maybe)
            if incoming and len(fresh) == len(incoming) and self._all_new(incoming, fresh):
                return self._write_and_answer()
            current, versions = self._current([ch for ch in incoming if ch.id not in fresh])
        else:
            current, versions = self._current(incoming)
            fresh = self._fresh([ch for ch in maybe
                                 if ch.id not in current and ch.id not in versions])
        for ch in incoming:
            oid = ch.id
            refs = fresh.get(oid)
            if refs is not None:
                if not refs or all(r in self.created for r in refs):
                    e = ch.entity
                    if not e.shared:  # a shared catalog is carried everywhere
                        reason = self.scope.refusal(e, e.org_of(oid, ch.fields or {}))
                        if reason is not None:
                            self._reject(ch, reason)
                            continue
                    self.writes.setdefault(e.name, {})[oid] = ch.fields
                    self.created.add((e.name, oid))
                    self.new.add(oid)
                    self._applied([oid])
                    continue
                if trusting:  # refers to what is not here: the careful way, looked up alone
                    one, v = self._current([ch])
                    current.update(one)
                    versions.update(v)
            cur = current.get(ch.id)
            if cur is not None and cur["entity"] != ch.entity.name:
                self._reject(ch, f"id {ch.id} belongs to a {cur['entity']} object")
                continue
            self._decide(ch, cur, versions.get(ch.id), later=waiting)
        self._decide_waiting(waiting)
        return self._write_and_answer()

    @cached_property
    def _puts(self) -> set[tuple[str, str]]:
        """(entity, id) of every put in the batch: found only when a reference is missing."""
        return {(ch.entity.name, ch.id) for ch in self.incoming if ch.fields is not None}

    def _decide_waiting(
        self, waiting: list[tuple[Incoming, dict[str, Any] | None, Any]]
    ) -> None:
        """Decide the changes that referred to objects the batch puts further on, now that
        those are decided: a batch lists objects in the order they began, so an object edited
        to refer to one made after it comes first. Rounds go on while one decides something;
        what still refers to nothing is refused."""
        while waiting:
            again, waiting = waiting, []
            for ch, cur, v in again:
                self._decide(ch, cur, v, later=waiting)
            if len(waiting) == len(again):  # no progress: refused, with the reason
                for ch, cur, v in waiting:
                    self._decide(ch, cur, v)
                return

    def _all_new(self, incoming: list[Incoming], fresh: dict[str, list[tuple[str, str]]]) -> bool:
        """Take a batch of new objects of one entity that refer only to objects the cloud holds,
        and that the workstation may all send, as one: the common long push, decided without a
        step per object. False (nothing taken): decide object by object."""
        e = incoming[0].entity
        if any(fresh.values()) or any(ch.entity is not e for ch in incoming):
            return False
        return self._take_whole(e, {ch.id: ch.fields or {} for ch in incoming})

    def _take_ahead(self, ahead: AllNew) -> bool:
        """`_all_new` for a batch read ahead, with no step per object before the check of its
        organizations: for an entity that refers to no other (nothing to look up) and that the
        workstation may send. False (nothing taken): decide the usual way."""
        e = ahead.entity
        if e.refers or e.name in self.scope.receive_only:
            return False
        return self._take_whole(e, ahead.objects, ahead.rows, ahead.orgs)

    def _take_whole(self, e: Entity, objects: dict[str, dict[str, Any]],
                    rows: str | None = None, orgs: frozenset[str | None] | None = None) -> bool:
        """Take `objects` (id -> fields) of `e` as new, unless one is of an organization the
        workstation may not write. `rows` and `orgs`: theirs, found ahead (`AllNew`)."""
        if not e.shared:  # a shared catalog is carried everywhere
            if orgs is None:
                orgs = frozenset([e.org_of(oid, fields) for oid, fields in objects.items()])
            if any(self.scope.refusal(e, org) is not None for org in orgs):
                return False
        self.writes[e.name] = dict(objects)  # a copy: a batch read ahead stays as read
        self.new.update(objects)
        self._applied(list(objects))
        if rows is not None:
            self.rows[e.name] = rows
        return True

    def _write_and_answer(self) -> dict[str, Any]:
        before = self.store.head()
        self._write()
        stamped = self._stamp(before)
        for r in self.results:
            if r.get("write"):
                del r["write"]
                r["version"] = stamped.get(r["id"], r.get("version", 0))
        answer: dict[str, Any] = {"results": self.results, "conflicts": self.conflicts}
        if self.compact:
            answer["applied"] = self.applied
            answer["versions"] = [stamped.get(oid, 0) for oid in self.applied]
        return answer

    def _applied(self, ids: list[str]) -> None:
        if self.compact:
            self.applied.extend(ids)
        else:
            self.results.extend({"id": oid, "status": "applied", "write": True} for oid in ids)

    def _current(
        self, incoming: list[Incoming]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[int, bool, float | None]]]:
        """The batch's objects as the cloud has them (under any entity), and their versions.

        Each entity's table and `_versions` are probed by id for the batch's ids (core.db.IDS):
        probing every table by an IN list for each of them cost more than writing them.
        """
        if not incoming:
            return {}, {}
        conn = self.store.conn
        batch = json_ids(c.id for c in incoming)
        out: dict[str, dict[str, Any]] = {}
        for e in self.store.schema.entities.values():
            found = found_ids(self.store, e.table, batch)
            if found:
                out.update(self.store.get_many(e.name, list(found)))
        versions = {
            r[0]: (int(r[1]), bool(r[2]), r[3]) for r in conn.execute(
                f"SELECT v.id, v.version, v.deleted, v.at FROM {IDS} i CROSS "
                "JOIN _versions v ON v.id = i.value", (batch,))
        }
        return out, versions

    def _fresh(self, candidates: list[Incoming]) -> dict[str, list[tuple[str, str]]]:
        """For each object to be created as pushed (whole and valid, base 0, of an entity the
        workstation may send), the references it makes to objects not in the cloud: if the
        batch creates them before it, it is applied without the per-object checks of
        `_decide`, whose verdict it would be; otherwise `_decide` settles it and says what is
        wrong.
        """
        fresh: dict[str, list[tuple[str, str]]] = {}
        wanted: dict[str, set[str]] = {}  # target entity -> ids referred to
        for ch in candidates:
            e = ch.entity
            refs = list(references(e, ch.fields)) if e.refers and ch.fields else []
            for target, ref in refs:
                wanted.setdefault(target, set()).add(ref)
            fresh[ch.id] = refs
        present = {(target, ref) for target, ids in wanted.items()
                   for ref in found_ids(self.store, self.store.entity(target).table, json_ids(ids))}
        if not present:
            return fresh
        return {oid: [r for r in refs if r not in present] for oid, refs in fresh.items()}

    def _decide(
        self, ch: Incoming, cur: dict[str, Any] | None, v: tuple[int, bool, float | None] | None,
        *, later: list[tuple[Incoming, dict[str, Any] | None, Any]] | None = None,
    ) -> None:
        """Decide one change. `later`: where a change waits that refers to an object this
        batch puts and has not decided yet (see `_decide_waiting`)."""
        e = ch.entity
        try:
            fields = self._validate(ch, cur)
        except ValidationError as exc:
            missing = isinstance(exc, MissingReference)
            if missing and later is not None and any(
                    r in self._puts and r not in self.created
                    for r in references(e, ch.fields or {})):
                later.append((ch, cur, v))
                return
            self._reject(ch, exc.message, missing=missing)
            return
        cur_org = cur["org"] if cur is not None else None
        reason = None
        if e.name in self.scope.receive_only:
            reason = self.scope.refusal(e, None)
        elif fields is not None:
            reason = self.scope.refusal(e, e.org_of(ch.id, fields))
        if reason is None and cur is not None:  # nor may it touch what it does not carry
            reason = self.scope.refusal(e, cur_org)
        if reason is not None:
            self._reject(ch, reason)
            return
        cur_version = v[0] if v else 0
        cur_fields = cur["fields"] if cur is not None else None
        local = Version(fields, ch.at)
        remote = Version(cur_fields, v[2] if v else None)
        if fields == cur_fields:
            self.results.append({"id": ch.id, "status": "unchanged", "version": cur_version})
            return
        # A new object, or one nobody changed since the workstation's base. An object the
        # workstation had (base > 0) that is gone without a tombstone was deleted before the
        # horizon: that is a delete against this change, settled below, never a creation.
        if cur_version == ch.base or (cur is None and cur_version == 0 and ch.base == 0):
            self._write_object(ch, fields, cur, cur_version)
            self._applied([ch.id])
            return
        if self._replayed(ch.id, fields, ch.base):
            self._send_back(ch, cur, cur_version, "superseded")
            return
        base = self._base(ch.id, ch.base)
        priority = self.ident.workstation.priority
        out = merge(base, local, remote, priority)
        kept, revived = out.result, None
        if out.winner == "workstation" and remote.deleted and not local.deleted:
            revived = self._revive(ch, base, local, remote, priority)
            if revived is not None:
                kept = revived.result
        if out.conflicts:
            self._log_conflict(ch, out.conflicts, out.winner or "cloud", out.loser, kept)
        if revived is not None and revived.conflicts:
            self._log_conflict(ch, revived.conflicts, revived.winner or "workstation",
                               revived.loser, kept)
        if kept.fields == cur_fields:
            self._send_back(ch, cur, cur_version, "merged")
            return
        self._write_object(ch, kept.fields, cur, cur_version)
        r: dict[str, Any] = {"id": ch.id, "status": "merged", "write": True,
                             "op": "delete" if kept.deleted else "put"}
        if kept.fields is not None:
            r["fields"] = kept.fields
            r["org"] = e.org_of(ch.id, kept.fields)
        self.results.append(r)

    def _revive(
        self, ch: Incoming, base: dict[str, Any] | None, local: Version, remote: Version,
        priority: str,
    ) -> Outcome | None:
        """The workstation's edit won against the cloud's delete: the object comes back as the
        delete found it, with the edit merged in, so that changes the cloud had accepted
        before the delete (another workstation's, say) are not dropped unseen. Fields both
        changed go to the workstation, which won, and the cloud's value is logged as the loser.
        None: the workstation's version as it is, when the version the delete removed is past
        the compaction horizon, or would put the object where the workstation may not write."""
        row: Any = self.store.conn.execute(
            "SELECT version, body FROM _history WHERE id = ? ORDER BY version DESC LIMIT 1",
            (ch.id,)).fetchone()
        if row is None or row[1] is None or int(row[0]) < ch.base:
            return None
        out = merge(base, local, Version(orjson.loads(row[1]), remote.at), priority)
        e = ch.entity
        if out.result.fields is None or (not e.shared and self.scope.refusal(
                e, e.org_of(ch.id, out.result.fields)) is not None):
            return None
        return out

    def _validate(self, ch: Incoming, cur: dict[str, Any] | None) -> dict[str, Any] | None:
        """The pushed fields, complete and checked as the object API checks them."""
        if ch.fields is None:
            return None
        e = ch.entity
        changes = coerce_fields(e, ch.fields, existing=None)
        missing = [f.name for f in e.fields if f.name not in ch.fields]
        missing += [s.name for s in e.sections if s.name not in ch.fields]
        if missing:
            raise ValidationError(f"{e.name}: the pushed object lacks {', '.join(missing)}")
        self.store.check_refs(e, changes.columns, changes.sections, also=self.created)
        fields = {**ch.fields}
        # References as checked: a UUID sent in another form (upper case) is kept canonical,
        # so that it still matches the id it refers to.
        for f in e.fields:
            if f.to is not None and fields.get(f.name) is not None:
                fields[f.name] = changes.columns[f.name]
        for sec in e.sections:
            refs = [f.name for f in sec.fields if f.to is not None]
            if refs:
                fields[sec.name] = [
                    {**row, **{n: checked[n] for n in refs if row.get(n) is not None}}
                    for row, checked in zip(fields[sec.name], changes.sections[sec.name],
                                            strict=True)
                ]
        return fields

    def _replayed(self, oid: str, fields: dict[str, Any] | None, base: int) -> bool:
        """Whether this workstation already sent exactly this version once (a restored home).

        Only a version made after the change's base counts: a home sending again what it
        sent before still names the base it had then. A workstation that has seen its own
        version since (and others after it) and now makes that state again, say a document
        moved away and back, is making a new change, to be merged, not dropped.
        """
        body = None if fields is None else orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
        for (old,) in self.store.conn.execute(
            "SELECT body FROM _history WHERE id = ? AND origin = ? AND version > ?",
            (oid, self.ident.workstation.id, base),
        ):
            if old == body:
                return True
        return False

    def _base(self, oid: str, version: int) -> dict[str, Any] | None:
        if version <= 0:
            return None
        row: Any = self.store.conn.execute(
            "SELECT body FROM _history WHERE id = ? AND version = ?", (oid, version)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        base: dict[str, Any] = orjson.loads(row[0])
        return base

    def _write_object(
        self, ch: Incoming, fields: dict[str, Any] | None, cur: dict[str, Any] | None,
        cur_version: int,
    ) -> None:
        if cur is not None:  # the version being replaced is someone's merge base
            self.store.keep_history(ch.id, cur_version, cur["fields"])
        self.writes.setdefault(ch.entity.name, {})[ch.id] = fields
        if fields is not None:
            self.created.add((ch.entity.name, ch.id))
        else:
            self.created.discard((ch.entity.name, ch.id))

    def _send_back(
        self, ch: Incoming, cur: dict[str, Any] | None, version: int, status: str
    ) -> None:
        r: dict[str, Any] = {"id": ch.id, "status": status, "version": version,
                             "op": "put" if cur is not None else "delete"}
        if cur is not None:
            r["fields"] = cur["fields"]
            r["org"] = cur["org"]
        self.results.append(r)

    def _reject(self, ch: Incoming, reason: str, *, missing: bool = False) -> None:
        """`missing`: refused for a reference to an object the cloud does not hold (yet): the
        workstation may send it once more when a later batch may have brought that object."""
        r = {"id": ch.id, "status": "rejected", "reason": reason}
        if missing:
            r["code"] = "missing_reference"
        self.results.append(r)

    def _log_conflict(
        self, ch: Incoming, fields: list[str], winner: str, loser: Version | None, kept: Version
    ) -> None:
        ws = self.ident.workstation
        record = {
            "at": time.time(), "entity": ch.entity.name, "id": ch.id, "workstation": ws.id,
            "user": self.ident.login, "winner": winner, "fields": fields,
            "loser": loser.to_json() if loser else None, "kept": kept.to_json(),
        }
        self.store.conn.execute(
            "INSERT INTO _conflicts(at, entity, id, workstation, user, winner, fields, loser, kept)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record["at"], record["entity"], ch.id, ws.id, self.ident.login, winner,
             orjson.dumps(fields), orjson.dumps(record["loser"]), orjson.dumps(record["kept"])),
        )
        self.conflicts.append(record)

    def _write(self) -> None:
        for name, objs in self.writes.items():
            e = self.store.schema.entity(name)
            rows = self.rows.get(name)
            if rows is not None:  # a batch taken whole as new: puts only, made into rows ahead
                if not insert_stamped(self.store, e, rows, self.ident.workstation.id):
                    upsert_objects(self.store, e, [(i, f or {}) for i, f in objs.items()],
                                   rows=rows)
                    self.unstamped = True
                continue
            self.unstamped = True
            puts = [(oid, f) for oid, f in objs.items() if f is not None]
            dels = [oid for oid, f in objs.items() if f is None]
            upsert_objects(self.store, e, puts, known_new=self.new, in_one_statement=True)
            delete_objects(self.store, e, dels)

    def _stamp(self, before: int) -> dict[str, int]:
        """Give every written object its new version (its newest journal row), and the journal
        rows their origin. Every journal row after `before` is this batch's: the write
        transaction is ours. A new object's version is a plain INSERT, which fails where the
        id has one already (see the class); the others' versions move on."""
        if not self.writes:
            return {}
        if self.unstamped:  # else written stamped (core.apply.insert_stamped)
            stamp_origin_since(self.store, before, self.ident.workstation.id)
        now = time.time()
        stamped: dict[str, int] = {}
        conn = self.store.conn
        if sum(map(len, self.writes.values())) == len(self.new):  # all new: perhaps one row each
            rows = self._one_row_each(before)
            if rows is not None:  # one journal row each: its seq is the version
                conn.execute(  # in key order, which a B-tree takes fastest
                    "INSERT INTO _versions(id, version, deleted, at) "
                    "SELECT id, seq, 0, ? FROM _journal WHERE seq > ? ORDER BY id", (now, before))
                return rows
        for name, objs in self.writes.items():
            table = q(self.store.schema.entity(name).table)
            others = [oid for oid in objs if oid not in self.new]
            listed = json_ids(others) if others else None
            if others:
                stamped.update(conn.execute(
                    "INSERT INTO _versions(id, version, deleted, at) "
                    f"SELECT j.id, max(j.seq), t.id IS NULL, ?1 FROM _journal j "
                    f"LEFT JOIN {table} t ON t.id = j.id WHERE j.seq > ?2 AND j.entity = ?3 "
                    "AND j.id IN (SELECT value FROM json_each(?4)) GROUP BY j.id "
                    "ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
                    "deleted = excluded.deleted, at = excluded.at RETURNING id, version",
                    (now, before, name, listed)))
            if len(others) < len(objs):
                leave = ("AND j.id NOT IN (SELECT value FROM json_each(?4)) "
                         if others else "AND ?4 IS NULL ")
                stamped.update(conn.execute(  # GROUP BY hands them over in key order
                    "INSERT INTO _versions(id, version, deleted, at) "
                    "SELECT j.id, max(j.seq), 0, ?1 FROM _journal j "
                    f"WHERE j.seq > ?2 AND j.entity = ?3 {leave}GROUP BY j.id "
                    "RETURNING id, version",
                    (now, before, name, listed)))
        return stamped

    def _one_row_each(self, before: int) -> dict[str, int] | None:
        """The journal row of each new object written, when each has one and only one (no
        trigger wrote more, as numbering does): None otherwise.

        Of a single entity, the rows are the objects' in the order written (core.apply
        inserts new objects in the order given, each insert's trigger appending its row), so
        they are numbered here rather than read back, which cost a tenth of the batch's
        write; the first and the last are read to hold that to account."""
        conn = self.store.conn
        head = self.store.head()
        if len(self.writes) == 1:
            (ids,) = self.writes.values()
            if head - before != len(ids) or not ids:
                return None
            first, last = before + 1, head
            ends = dict(conn.execute("SELECT seq, id FROM _journal WHERE seq IN (?, ?)",
                                     (first, last)))
            order = list(ids)
            if ends.get(first) == order[0] and ends.get(last) == order[-1]:
                return dict(zip(order, range(first, last + 1), strict=True))
        rows: list[Any] = conn.execute(
            "SELECT id, seq FROM _journal WHERE seq > ?", (before,)).fetchall()
        return dict(rows) if len(rows) == len(self.new) else None
