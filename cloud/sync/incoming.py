"""A pushed batch read and checked against the schema alone, before it is applied.

Done outside the tenant's writer, so that it overlaps the writing of the batch before. Most
batches are alike: every change a put of a whole, valid object with every key given. Those are
checked a column at a time (the types present in each key and field); any other batch, or any
doubt, is read change by change, which also says what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from core.apply import new_rows, new_rows_of
from core.errors import OutpostError, ValidationError
from core.objects import (
    CANONICAL_ID,
    all_canonical,
    all_whole_and_valid,
    check_id,
    whole_and_valid,
    whole_columns,
)
from core.schema import Entity, Schema

MAX_CHANGES = 10000  # a batch's changes; pushes of 10,000 commit half as often as of 5,000


@dataclass(slots=True)
class Incoming:
    entity: Entity
    id: str
    fields: dict[str, Any] | None  # None: a delete
    base: int
    at: float | None
    whole: bool  # a put of every field, each valid as it is (core.objects.whole_and_valid)


@dataclass(frozen=True)
class AllNew:
    """A batch the cloud may take whole as new objects (the common long push: whole puts of one
    entity, each with base 0), read ahead for the tenant's writer, which every batch waits for:
    made here, while the writer still writes the batch before, so that taking it costs the
    writer no step per object (cloud.sync.push)."""

    entity: Entity
    objects: dict[str, dict[str, Any]]  # id -> fields, in the batch's order
    rows: str | None  # core.apply.new_rows of them; None: a value JSON cannot carry
    orgs: frozenset[str | None]  # the organizations they belong to (`Entity.orgs_of`)


class Parsed:
    """A batch's changes as read. An error is kept, not raised, so that a batch already
    answered still gets its stored answer.

    `changes` may be given as a function that makes them: a batch read ahead as new objects
    (`all_new`) is mostly taken whole, and then no `Incoming` is ever made for it (10,000 of
    them cost the cloud 6 to 12 ms a batch)."""

    def __init__(self, changes: list[Incoming] | Callable[[], list[Incoming]],
                 error: ValidationError | None = None, all_new: AllNew | None = None) -> None:
        self._changes = changes
        self.error = error
        self.all_new = all_new

    @property
    def changes(self) -> list[Incoming]:
        if callable(self._changes):
            self._changes = self._changes()
        return self._changes


def parse_changes(schema: Schema, changes: Any) -> Parsed:
    try:
        return _parse(schema, changes)
    except ValidationError as exc:
        return Parsed([], exc)


def _all_new(e: Entity, ids: Sequence[str], fields: Sequence[dict[str, Any]],
             columns: list[list[Any]] | None = None) -> AllNew:
    """Whole puts of `e` with base 0 (each id once: `_parse` checked it) as `AllNew`;
    `columns`: their fields a column at a time, if found already (`whole_columns`)."""
    objects = dict(zip(ids, fields, strict=True))
    rows = new_rows(e, list(objects.items())) if columns is None else new_rows_of(ids, columns)
    return AllNew(e, objects, rows, e.orgs_of(ids, fields))


def _read_ahead(changes: list[Incoming]) -> AllNew | None:
    """The batch as `AllNew`, when it may be one; None for any other."""
    if not changes:
        return None
    e = changes[0].entity
    if not all(c.whole and c.base == 0 and c.entity is e for c in changes):
        return None
    return _all_new(e, [c.id for c in changes], [c.fields or {} for c in changes])


def _parse(schema: Schema, changes: Any) -> Parsed:
    if not isinstance(changes, list):
        raise ValidationError("'changes' must be a list")
    if len(changes) > MAX_CHANGES:
        raise ValidationError(f"a batch holds at most {MAX_CHANGES} changes")
    alike = _parse_alike(schema, changes)
    if alike is not None:
        return alike
    read = _parse_each(schema, changes)
    return Parsed(read, all_new=_read_ahead(read))


_KEYS = itemgetter("entity", "id", "op", "base", "at", "fields")
_NONE = type(None)


def _parse_alike(schema: Schema, changes: list[Any]) -> Parsed | None:
    """The batch read as `_parse_each` would read it, when every change is a put that gives
    all six keys, with a known entity, a canonical id of its own, a base and a time: each key
    checked across the batch at once. None: some change is not like that."""
    if not changes:
        return Parsed([])
    try:
        rows = list(map(_KEYS, changes))
    except (TypeError, KeyError):  # a change that is not an object, or lacks a key
        return None
    names, ids, ops, bases, ats, fields = (list(c) for c in zip(*rows, strict=True))
    entities = schema.entities
    if set(map(type, names)) != {str}:
        return None
    kinds = set(names)
    if (not entities.keys() >= kinds
            or ops.count("put") != len(ops) or set(map(type, fields)) != {dict}
            or set(map(type, bases)) != {int} or min(bases) < 0
            or not all_canonical(ids) or len(set(ids)) != len(ids)):
        return None
    at_types = set(map(type, ats))
    if not at_types <= {_NONE, float, int}:
        return None
    if int in at_types:
        ats = [None if a is None else float(a) for a in ats]
    if len(kinds) == 1:
        e = entities[names[0]]
        columns = whole_columns(e, fields)
        whole = [True] * len(fields) if columns else [whole_and_valid(e, f) for f in fields]
        if columns and max(bases) == 0:  # new objects, most likely: read ahead as such
            return Parsed(lambda: _incoming(entities, names, ids, fields, bases, ats, whole),
                          all_new=_all_new(e, ids, fields, columns))
    else:
        by_entity: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            by_entity.setdefault(name, []).append(i)
        whole = [False] * len(changes)
        for name, idx in by_entity.items():
            for i, w in zip(idx, _whole(entities[name], [fields[i] for i in idx]), strict=True):
                whole[i] = w
    return Parsed(_incoming(entities, names, ids, fields, bases, ats, whole))


def _incoming(entities: dict[str, Entity], names: list[str], ids: list[str],
              fields: list[dict[str, Any]], bases: list[int], ats: list[float | None],
              whole: list[bool]) -> list[Incoming]:
    """The changes of `_parse_alike`, from its columns."""
    return [Incoming(entities[n], i, f, b, a, w)
            for n, i, f, b, a, w in zip(names, ids, fields, bases, ats, whole, strict=True)]


def _whole(entity: Entity, many: list[dict[str, Any]]) -> list[bool]:
    if all_whole_and_valid(entity, many):
        return [True] * len(many)
    return [whole_and_valid(entity, f) for f in many]


def _parse_each(schema: Schema, changes: list[Any]) -> list[Incoming]:
    entities = schema.entities
    out: list[Incoming] = []
    seen: set[str] = set()
    canonical = _all_canonical(changes)
    for i, ch in enumerate(changes):
        if not isinstance(ch, dict):
            raise ValidationError(f"changes[{i}] must be an object")
        name, op = ch.get("entity"), ch.get("op")
        oid: Any = ch.get("id")
        base, at, fields = ch.get("base", 0), ch.get("at"), ch.get("fields")
        entity = entities.get(name) if isinstance(name, str) else None
        if entity is None:
            try:
                entity = schema.entity(str(name))
            except OutpostError as exc:
                raise ValidationError(f"changes[{i}]: {exc.message}") from None
        if not canonical and not (isinstance(oid, str) and CANONICAL_ID.fullmatch(oid)):
            oid = check_id(oid, what=f"changes[{i}].id")
        if oid in seen:
            raise ValidationError(f"changes[{i}]: object {oid} appears twice in the batch")
        seen.add(oid)
        if op == "put":
            if not isinstance(fields, dict):
                raise ValidationError(f"changes[{i}].fields must be an object")
        elif op == "delete":
            fields = None
        else:
            raise ValidationError(f"changes[{i}].op must be 'put' or 'delete'")
        if type(base) is not int or base < 0:
            raise ValidationError(f"changes[{i}].base must be a non-negative integer")
        if at is not None:
            if isinstance(at, bool) or not isinstance(at, (int, float)):
                raise ValidationError(f"changes[{i}].at must be a number")
            at = float(at)
        out.append(Incoming(entity, oid, fields, base, at,
                            fields is not None and whole_and_valid(entity, fields)))
    return out


def _all_canonical(changes: list[Any]) -> bool:
    """Whether every change is an object whose id is a canonical UUID."""
    try:
        return all_canonical([ch["id"] for ch in changes])
    except (TypeError, KeyError):
        return False
