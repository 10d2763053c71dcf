"""Applying a pulled page: the page and the cursor after it commit in one transaction.

An object with a local change not yet sent is left alone: the push that follows brings the
cloud's verdict (applied, merged, or settled by priority) and its result back.
"""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

from core.apply import delete_objects, mute_since, set_versions, upsert_objects
from core.schema import Entity
from core.store import Store


def pending_ids(store: Store) -> set[str]:
    return {r[0] for r in store.conn.execute("SELECT DISTINCT id FROM _journal")}


class Page(NamedTuple):
    """What a page writes: each entity's puts and deletes, and every object's version."""

    puts: dict[str, list[tuple[str, dict[str, Any]]]]
    dels: dict[str, list[str]]
    versions: list[tuple[str, int, bool, float | None]]


def apply_page(store: Store, page: dict[str, Any]) -> int:
    """Write one page of pulled changes and move the cursor; the number of objects written."""
    changes: list[dict[str, Any]] = page.get("changes") or []
    if not changes and int(page["cursor"]) == int(store.meta("cursor", 0) or 0):
        return 0  # nothing new: no transaction
    with store.write():
        pending = pending_ids(store)
        before = store.head()
        entities = store.schema.entities
        read = read_alike(entities, changes, pending) or read_each(entities, changes, pending)
        for entity, objs in read.puts.items():
            upsert_objects(store, store.schema.entity(entity), objs)
        for entity, ids in read.dels.items():
            delete_objects(store, store.schema.entity(entity), ids)
        set_versions(store, read.versions)
        mute_since(store, before)
        store.set_meta("cursor", int(page["cursor"]))
    return len(read.versions)


def read_each(entities: dict[str, Entity], changes: list[Any], pending: set[str]) -> Page:
    """The page change by change: what is not a change of a known entity is skipped, and so
    is an object with a local change not yet sent."""
    out = Page({}, {}, [])
    for ch in changes:
        if not isinstance(ch, dict):
            continue
        entity, oid = ch.get("entity"), ch.get("id")
        if (not isinstance(entity, str) or entity not in entities
                or not isinstance(oid, str) or oid in pending):
            continue
        deleted = ch.get("op") == "delete"
        if deleted:
            out.dels.setdefault(entity, []).append(oid)
        else:
            out.puts.setdefault(entity, []).append((oid, ch.get("fields") or {}))
        out.versions.append((oid, int(ch.get("version") or 0), deleted, None))
    return out


_PUT = itemgetter("entity", "id", "op", "version", "fields")


def read_alike(entities: dict[str, Entity], changes: list[Any], pending: set[str]) -> Page | None:
    """The page as `read_each` reads it, when every change is a put of one entity with its
    fields and an integer version, and no object has a local change not yet sent: each key
    checked across the page at once (the usual page of a long pull, whose step per change
    cost the workstation about a tenth of the pull). None: read it change by change."""
    if not changes:
        return None
    try:
        names, ids, ops, versions, fields = zip(*map(_PUT, changes), strict=True)
        kinds = set(names)
    except (TypeError, KeyError):  # a change that is not an object, lacks a key, or so
        return None
    if (len(kinds) != 1 or not entities.keys() >= kinds or set(map(type, ids)) != {str}
            or ops.count("put") != len(ops) or set(map(type, versions)) != {int}
            or set(map(type, fields)) != {dict} or not pending.isdisjoint(ids)):
        return None
    (entity,) = kinds
    return Page({entity: list(zip(ids, fields, strict=True))}, {},
                list(zip(ids, versions, repeat(False), repeat(None))))
