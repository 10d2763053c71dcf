"""Applying a pulled page: the page and the cursor after it commit in one transaction.

An object with a local change not yet sent is left alone: the push that follows brings the
cloud's verdict (applied, merged, or settled by priority) and its result back.
"""

from __future__ import annotations

from typing import Any

from core.apply import delete_objects, mute_since, set_versions, upsert_objects
from core.store import Store


def pending_ids(store: Store) -> set[str]:
    return {r[0] for r in store.conn.execute("SELECT DISTINCT id FROM _journal")}


def apply_page(store: Store, page: dict[str, Any]) -> int:
    """Write one page of pulled changes and move the cursor; the number of objects written."""
    changes: list[dict[str, Any]] = page.get("changes") or []
    if not changes and int(page["cursor"]) == int(store.meta("cursor", 0) or 0):
        return 0  # nothing new: no transaction
    with store.write():
        pending = pending_ids(store)
        before = store.head()
        puts: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        dels: dict[str, list[str]] = {}
        versions: list[tuple[str, int, bool, float | None]] = []
        entities = store.schema.entities
        for ch in changes:
            if not isinstance(ch, dict):
                continue
            entity, oid = ch.get("entity"), ch.get("id")
            if (not isinstance(entity, str) or entity not in entities
                    or not isinstance(oid, str) or oid in pending):
                continue
            deleted = ch.get("op") == "delete"
            if deleted:
                dels.setdefault(entity, []).append(oid)
            else:
                puts.setdefault(entity, []).append((oid, ch.get("fields") or {}))
            versions.append((oid, int(ch.get("version") or 0), deleted, None))
        for entity, objs in puts.items():
            upsert_objects(store, store.schema.entity(entity), objs)
        for entity, ids in dels.items():
            delete_objects(store, store.schema.entity(entity), ids)
        set_versions(store, versions)
        mute_since(store, before)
        store.set_meta("cursor", int(page["cursor"]))
    return len(versions)
