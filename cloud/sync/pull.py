"""Serving a pull: the changes after a workstation's cursor that belong on it, a page at a time."""

from __future__ import annotations

from typing import Any

import orjson

from cloud.sync.nodes import check_position, confirm, recently_pulled
from cloud.sync.tables import ensure_cloud_tables
from cloud.sync.tokens import SyncIdentity
from core.changes import pull_window
from core.errors import ValidationError
from core.filters import Scope
from core.store import Store

MAX_LIMIT = 10000
SKIP_WINDOWS = 25  # windows of `limit` journal rows one request reads on while it finds nothing


def scope_of(ident: SyncIdentity) -> Scope:
    ws = ident.workstation
    return Scope.of(ws.orgs, ws.receive_only, ws.catalogs)


def pull_page(
    store: Store, ident: SyncIdentity, cursor: Any, limit: Any = 1000, confirmed: Any = None
) -> dict[str, Any]:
    """One page of changes after `cursor`, read in one snapshot.

    The page's `cursor` is the last change sequence read, whether or not it was sent: changes
    outside the workstation's scope, or its own, still move it forward. `confirmed` is the
    cursor the workstation has committed (it may ask for the next page before committing the
    last one); it defaults to `cursor`.
    """
    cursor = _int(cursor, "cursor")
    confirmed = cursor if confirmed is None else _int(confirmed, "confirmed")
    if confirmed > cursor:
        raise ValidationError("'confirmed' cannot be past 'cursor'")
    limit = max(1, min(_int(limit, "limit"), MAX_LIMIT))
    ensure_cloud_tables(store)
    ws_id = ident.workstation.id
    with store.read():  # one snapshot: a write landing meanwhile is wholly in or wholly after
        seen = check_position(store, ws_id, confirmed, reading=cursor)
        head = store.head()
        scope = scope_of(ident)
        changes, last = pull_window(store, cursor, limit, scope, skip_origin=ws_id)
        windows = 1
        while not changes and last < head and windows < SKIP_WINDOWS:
            # Nothing here for this workstation (its own pushes, other organizations): read
            # on rather than answer an empty page, so walking past them takes few requests.
            changes, last = pull_window(store, last, limit, scope, skip_origin=ws_id)
            windows += 1
    if confirmed > seen or not recently_pulled(store, ws_id):
        with store.write():  # a pull that finds nothing new and moves nothing writes nothing
            confirm(store, ws_id, confirmed, pulled=True)
    # The changes are JSON already (core.changes): the page carries them as they are.
    return {"changes": orjson.Fragment("[" + ",".join(changes) + "]"), "cursor": last,
            "head": head, "more": last < head}


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"'{name}' must be a non-negative integer")
    return value
