"""The data API: a tenant's objects, read and written as JSON, for admin and user roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from cloud.api.auth import DataUser, Stores
from cloud.api.errors import UnknownEntity
from cloud.api.models import ERRORS, ObjectIn, ObjectOut, Page
from cloud.api.responses import JSONOut
from core.ddl import q
from core.errors import NotFound
from core.objects import check_id
from core.store import MAX_PAGE, Store

router = APIRouter(prefix="/api/v1/tenants/{tenant}/objects", tags=["data"], responses=ERRORS)


def _entity(store: Store, name: str) -> str:
    if name not in store.schema.entities:
        raise UnknownEntity(f"entity: unknown entity '{name}' "
                            f"(known: {', '.join(store.schema.entities)})", field="entity")
    return name


@router.get("/{entity}", responses={200: {"model": Page}})
def list_objects(
    entity: str, user: DataUser, stores: Stores,
    org: Annotated[str | None, Query(description="only this organization's objects")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    after: Annotated[str | None, Query(description="the `next` of the previous page")] = None,
) -> Response:
    """A page of objects in id order, optionally of one organization."""
    store = stores.get(user.tenant)
    _entity(store, entity)
    with store.read():
        rows = store.list_objects(entity, org=org, after=after, limit=limit + 1)
    more = len(rows) > limit or len(rows) == MAX_PAGE == limit
    items = rows[:limit]
    return JSONOut({"items": items, "next": items[-1]["id"] if more and items else None})


@router.get("/{entity}/{id}", responses={200: {"model": ObjectOut}})
def get_object(entity: str, id: str, user: DataUser, stores: Stores) -> Response:
    store = stores.get(user.tenant)
    _entity(store, entity)
    with store.read():
        return JSONOut(store.require(entity, id))


@router.put("/{entity}/{id}", responses={200: {"model": ObjectOut}, 201: {"model": ObjectOut}})
def put_object(entity: str, id: str, body: ObjectIn, user: DataUser, stores: Stores) -> Response:
    """Create the object with this id (201) or update it (200); fields left out are kept."""
    store = stores.get(user.tenant)
    e = store.entity(_entity(store, entity))
    oid = check_id(id)
    with store.write():
        existed = store.scalar(f"SELECT 1 FROM {q(e.table)} WHERE id = ?", (oid,)) is not None
        obj = store.put(entity, body.fields, id=oid)
    return JSONOut(obj, status_code=200 if existed else 201)


@router.delete("/{entity}/{id}", status_code=204)
def delete_object(entity: str, id: str, user: DataUser, stores: Stores) -> Response:
    store = stores.get(user.tenant)
    _entity(store, entity)
    if not store.delete(entity, id):
        raise NotFound(f"no {entity} with id {id}")
    return Response(status_code=204)
