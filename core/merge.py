"""Settling a conflict: both sides changed an object since they last agreed.

Edits to different fields merge; the same field changed differently on both sides goes to the
side the workstation's priority names, and the other side's whole version is kept as the loser
so a person can see it and restore it. The same edit made twice is no conflict. Tabular
sections count as one field each: lines are merged as a whole, never row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PRIORITIES = ("cloud", "workstation", "newest")
Side = Literal["cloud", "workstation"]


@dataclass(frozen=True)
class Version:
    """One side's state of an object: its fields, or None if that side deleted it."""

    fields: dict[str, Any] | None
    at: float | None = None  # unix time of the change, for "newest wins"

    @property
    def deleted(self) -> bool:
        return self.fields is None

    def to_json(self) -> dict[str, Any]:
        return {"op": "delete" if self.deleted else "put", "fields": self.fields}


@dataclass(frozen=True)
class Outcome:
    result: Version
    conflicts: list[str] = field(default_factory=list)  # fields both sides changed; "*": all
    winner: Side | None = None
    loser: Version | None = None


def winner_of(priority: str, local: Version, remote: Version) -> Side:
    if priority == "workstation":
        return "workstation"
    newer = local.at is not None and (remote.at is None or local.at > remote.at)
    if priority == "newest" and newer:
        return "workstation"
    return "cloud"


def merge(
    base: dict[str, Any] | None, local: Version, remote: Version, priority: str
) -> Outcome:
    """Merge the workstation's `local` change into the cloud's `remote` state.

    `base` is the fields both last agreed on, or None when unknown (then every field that
    differs counts as changed on both sides). An edit against a delete is settled here as a
    whole, by priority; when the edit wins, the cloud brings back what the delete removed and
    merges the edit into it (cloud/sync/push.py, `_revive`).
    """
    if local.fields == remote.fields:
        return Outcome(remote)
    if local.deleted or remote.deleted:
        kept = remote if local.deleted else local  # the side that did not delete
        if base is not None and kept.fields == base:
            return Outcome(Version(None, local.at if local.deleted else remote.at))
        side = winner_of(priority, local, remote)
        win, lose = (local, remote) if side == "workstation" else (remote, local)
        return Outcome(win, ["*"], side, lose)
    assert local.fields is not None and remote.fields is not None
    merged: dict[str, Any] = {}
    clashes: list[str] = []
    for name in list(remote.fields) + [k for k in local.fields if k not in remote.fields]:
        lv, rv = local.fields.get(name), remote.fields.get(name)
        if lv == rv or (base is not None and lv == base.get(name)):
            merged[name] = rv
        elif base is not None and rv == base.get(name):
            merged[name] = lv
        else:
            merged[name] = None  # settled below, in place, so field order is kept
            clashes.append(name)
    if not clashes:
        return Outcome(Version(merged, max(local.at or 0, remote.at or 0) or None))
    side = winner_of(priority, local, remote)
    win, lose = (local, remote) if side == "workstation" else (remote, local)
    assert win.fields is not None
    for name in clashes:
        merged[name] = win.fields.get(name)
    return Outcome(Version(merged, win.at), clashes, side, lose)
