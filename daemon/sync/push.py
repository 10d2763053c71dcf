"""Pushing local changes: an outbox sent until answered, and the answer recorded once.

The batch is built and saved before it is sent, so a sync killed after sending sends the very
same batch (same id, same content) next time and gets the same answer. The journal is trimmed
only in the transaction that records that answer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from typing import Any

import orjson

from core.apply import delete_objects, mute_since, set_versions, upsert_objects
from core.changes import Head, outgoing_window
from core.db import IDS, json_ids
from core.merge import Version, merge
from core.schema import Entity
from core.store import Store
from daemon.sync.errors import SyncError
from daemon.sync.tables import ensure_workstation_tables


@dataclass
class Outbox:
    batch_id: str
    upto: int  # the journal's head when the batch was read: rows after it are newer edits
    body: str  # the changes, a JSON array: sent and saved as they are
    heads: list[Head]  # (id, entity, op) of each change, in order
    window: int  # the last journal row the batch's window read: what an answer trims
    rows: int | None  # the journal rows in the window of the objects sent (None: not known)

    @cached_property
    def ids(self) -> frozenset[str]:
        """The batch's objects: left out of the batches read while it is in flight."""
        return frozenset([h[0] for h in self.heads])

    @cached_property
    def deleted(self) -> frozenset[str]:
        return frozenset([h[0] for h in self.heads if h[2] == "delete"])

    @cached_property
    def changes(self) -> dict[str, dict[str, Any]]:
        """Each change whole, by id: only an answer that merged it needs more than its head."""
        return {c["id"]: c for c in orjson.loads(self.body)}

    @classmethod
    def saved(cls, row: Any) -> Outbox:
        """A batch read back from the outbox (after a kill, or saved behind another)."""
        body = row[2] if isinstance(row[2], str) else bytes(row[2]).decode()
        heads = [(c["id"], c["entity"], c["op"]) for c in orjson.loads(body)]
        upto = int(row[1])
        return cls(str(row[0]), upto, body, heads, upto if row[3] is None else int(row[3]),
                   None if row[4] is None else int(row[4]))


@dataclass
class Recorded:
    pushed: int = 0
    rejected: int = 0
    conflicts: int = 0
    missing: list[str] = field(default_factory=list)  # refused for a reference to nothing


def prepare(store: Store, limit: int, *, after: Sequence[Outbox] = ()) -> Outbox | None:
    """The batch to send next: the oldest one saved and not yet answered, or a new one of up
    to `limit` changed objects.

    With `after` (batches read and not yet recorded, oldest first), the batch that goes after
    them: the one saved after the newest of them, or a new one read from the journal past its
    window and leaving out all their objects. They share no object, so no answer changes what
    another batch carries, and the workstation can read, send and record while the cloud
    applies. Saved batches are sent in the order of their windows.
    """
    ensure_workstation_tables(store)
    if not after and not store.scalar(
        "SELECT EXISTS(SELECT 1 FROM _journal) OR EXISTS(SELECT 1 FROM _outbox)"
    ):
        return None  # nothing to send (the common case of a sync): no write transaction
    with store.write():
        saved: list[Any] = store.conn.execute(
            "SELECT batch_id, coalesce(window, upto) AS w FROM _outbox ORDER BY w").fetchall()
        if after:
            taken, last = {b.batch_id for b in after}, after[-1].window
            saved = [r for r in saved if r[0] not in taken and int(r[1]) > last]
        if saved:
            return Outbox.saved(store.conn.execute(
                "SELECT batch_id, upto, body, window, rows FROM _outbox WHERE batch_id = ?",
                (saved[0][0],)).fetchone())
        upto = store.head()  # the content read below includes every change up to here
        if not after:
            out = outgoing_window(store, limit)
        else:
            out = outgoing_window(store, limit, after=after[-1].window,
                                  leave_out=[b.ids for b in after])
        if not out.heads:
            return None
        batch = Outbox(str(uuid.uuid4()), upto, out.body, out.heads, out.upto, out.rows)
        store.conn.execute(
            "INSERT INTO _outbox(batch_id, upto, body, window, rows) VALUES (?, ?, ?, ?, ?)",
            (batch.batch_id, upto, out.body, out.upto, out.rows),
        )
        return batch


# Ids refused for a reference to an object a later batch of the push may bring, waiting for
# their one more try (`send_again`): kept in `_meta` with the refusals, so that a sync cut off
# before that try leaves them to the next one (`left_to_send_again`).
SEND_AGAIN_KEY = "push_send_again"


def record(store: Store, box: Outbox, answer: dict[str, Any], *,
           remember_missing: bool = False) -> Recorded:
    """Record the cloud's answer to `box`: versions, merged results, refusals, conflicts.
    `remember_missing`: the push will send its missing-reference refusals once more."""
    results = answer.get("results") or []
    sent = {h[0]: h for h in box.heads} if results else {}  # a compact answer's all by id
    out = Recorded()
    with store.write():
        before = store.head()
        newer = _changed_since(store, box.upto, box.ids)
        versions: list[tuple[str, int, bool, float | None]] = []
        trim: list[str] = []
        last: dict[str, int] | None = None  # newest journal row of each object in the batch
        for r in results:
            oid = r.get("id")
            ch = sent.get(oid) if isinstance(oid, str) else None
            if ch is None:
                continue
            status = r.get("status")
            if status == "rejected":
                # The refusal covers the object's journal rows up to the batch; it is recorded
                # as the newest of them, not as `upto`: rows above may be trimmed or muted, and
                # SQLite then hands their seq numbers to new rows, which must not look refused.
                if last is None:
                    last = dict(store.conn.execute(
                        "SELECT id, max(seq) FROM _journal WHERE seq <= ? GROUP BY id",
                        (box.upto,)))
                store.conn.execute(
                    "INSERT INTO _rejected(id, entity, reason, seq, at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET reason = excluded.reason, seq = excluded.seq, "
                    "at = excluded.at",
                    (oid, ch[1], str(r.get("reason") or "refused"), last.get(oid, 0),
                     time.time()),
                )
                out.rejected += 1
                if r.get("code") == "missing_reference":
                    out.missing.append(oid)
                continue
            trim.append(oid)
            out.pushed += 1
            version = int(r.get("version") or 0)
            if status in ("merged", "superseded"):
                entity = store.schema.entity(ch[1])
                if oid in newer:  # edited again meanwhile: keep that edit, push it next
                    if _rebase(store, entity, oid, box.changes[oid], r):
                        versions.append((oid, version, False, None))
                    continue
                if r.get("op") == "delete":
                    delete_objects(store, entity, [oid])
                else:
                    upsert_objects(store, entity, [(oid, r.get("fields") or {})])
                versions.append((oid, version, r.get("op") == "delete", None))
            else:
                versions.append((oid, version, ch[2] == "delete", None))
        applied = answer.get("applied") or []  # a compact answer's applied objects
        numbers = answer.get("versions") or []
        if len(applied) != len(numbers) or not set(map(type, numbers)) <= {int}:
            raise SyncError("the cloud's answer names applied objects without their versions")
        gone = box.deleted
        if box.ids.issuperset(applied) and gone.isdisjoint(applied):  # the common case, in bulk
            trim.extend(applied)
            versions.extend(zip(applied, numbers, repeat(False), repeat(None)))
            out.pushed += len(applied)
        else:
            for oid, version in zip(applied, numbers, strict=True):
                if oid in box.ids:
                    trim.append(oid)
                    versions.append((oid, version, oid in gone, None))
                    out.pushed += 1
        set_versions(store, versions)
        mute_since(store, before)
        _trim(store, box, trim)
        for c in answer.get("conflicts") or []:
            store.conn.execute(
                "INSERT INTO _conflicts(at, entity, id, workstation, user, winner, fields, loser,"
                " kept) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (c.get("at") or time.time(), c.get("entity"), c.get("id"), c.get("workstation"),
                 c.get("user"), c.get("winner"), orjson.dumps(c.get("fields")),
                 orjson.dumps(c.get("loser")), orjson.dumps(c.get("kept"))),
            )
            out.conflicts += 1
        if remember_missing and out.missing:
            left = left_to_send_again(store)
            store.set_meta(SEND_AGAIN_KEY, json_ids([*left, *out.missing]))
        store.conn.execute("DELETE FROM _outbox WHERE batch_id = ?", (box.batch_id,))
    return out


def send_again(store: Store, ids: Sequence[str]) -> None:
    """Lift the refusals of `ids`, so that their changes go out in the next batch read from the
    journal's front, and forget the refusals remembered for it (`record`), `ids` or not: each
    gets one more try. For changes refused for a reference to an object that a later batch of
    the same push brought: a batch holds the objects that began first, so an invoice edited to
    point at a counterparty made after it may go a batch ahead of that counterparty."""
    if not ids and not store.meta(SEND_AGAIN_KEY):
        return  # nothing to lift or forget: no write transaction
    with store.write():
        store.conn.execute(f"DELETE FROM _rejected WHERE id IN (SELECT value FROM {IDS})",
                           (json_ids(ids),))
        store.conn.execute("DELETE FROM _meta WHERE key = ?", (SEND_AGAIN_KEY,))


def left_to_send_again(store: Store) -> list[str]:
    """The refusals a sync cut off before their one more try left remembered."""
    try:
        ids = orjson.loads(store.meta(SEND_AGAIN_KEY) or "[]")
    except (orjson.JSONDecodeError, TypeError):
        return []  # not ours to read: nothing is lost, the changes stay flagged
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def _rebase(store: Store, entity: Entity, oid: str, sent: dict[str, Any],
            answer: dict[str, Any]) -> bool:
    """Put an edit made while `sent` was in flight on top of the cloud's merged `answer`, and
    let it take the answer's version as its base. Without this the next push would name the
    old base, and the cloud's three-way merge would count this workstation's own earlier edit
    (now in the cloud's version) as the other side's change: a conflict of the user with
    themselves, which the newer edit loses under priority cloud.

    False, leaving the edit on its old base for the cloud to settle, when settling would take
    a decision here: a delete on either side, or the newer edit and the cloud's answer
    changing the same field.
    """
    if answer.get("op") == "delete" or sent["op"] == "delete":
        return False
    current = store.get(entity.name, oid)
    if current is None:
        return True  # deleted meanwhile: the delete goes next, against the answer's version
    out = merge(sent.get("fields"), Version(current["fields"]),
                Version(answer.get("fields") or {}), "workstation")
    if out.conflicts:
        return False
    if out.result.fields != current["fields"]:
        upsert_objects(store, entity, [(oid, out.result.fields or {})])
    return True


def _changed_since(store: Store, upto: int, ids: AbstractSet[str]) -> set[str]:
    return {r[0] for r in store.conn.execute("SELECT id FROM _journal WHERE seq > ?", (upto,))
            if r[0] in ids}


def _trim(store: Store, box: Outbox, ids: list[str]) -> None:
    """Drop the answered objects' journal rows up to the batch's window.

    Only the window's rows are read (the journal's front), so a push of N changes costs O(N),
    not O(N) per batch. An answered object's rows after the window, if it changed again
    further on, stay: they are sent once more with the answer's version as their base, and
    the cloud finds them unchanged. When every object of the batch was answered and the
    journal holds, up to the window, exactly as many rows as the batch was read from, those
    rows are the batch's (a new row is numbered past every row there, and a batch's own rows
    go only with its answer): they go as a range, without testing each against the ids.
    """
    if not ids:
        return
    acked: str | None = None  # the ids as json_each reads them, made when a query needs them
    if (box.rows is not None and len(set(ids)) == len(box.heads)
            and store.scalar("SELECT count(*) FROM _journal WHERE seq <= ?",
                             (box.window,)) == box.rows):
        store.conn.execute("DELETE FROM _journal WHERE seq <= ?", (box.window,))
    else:
        acked = json_ids(ids)
        store.conn.execute(
            f"DELETE FROM _journal WHERE seq <= ? AND id IN (SELECT value FROM {IDS})",
            (box.window, acked))
    if store.scalar("SELECT EXISTS(SELECT 1 FROM _rejected)"):  # else the IN list costs alone
        store.conn.execute(f"DELETE FROM _rejected WHERE id IN (SELECT value FROM {IDS})",
                           (acked or json_ids(ids),))
