"""The sync API that workstations call (docs/protocol.md).

Bodies are JSON, or JSON compressed with zstd when large (core.wire). The login takes a
user's password once (HTTP Basic) and answers a per-workstation token; every other call
carries that token as a Bearer credential.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from cloud.api.auth import Reg, Stores, current_user
from cloud.api.heads import Heads
from cloud.api.models import ERRORS
from cloud.models import User
from cloud.registry import Registry
from cloud.sync import apply_push, check_token, issue_token, parse_changes, pull_page
from cloud.sync.tokens import SyncIdentity
from core import wire
from core.errors import NotFound, Unauthorized, ValidationError

router = APIRouter(prefix="/api/v1/tenants/{tenant}/sync", tags=["sync"], responses=ERRORS)
WAIT_MAX = 60.0


def _reply(request: Request, value: Any) -> Response:
    compress = wire.ZSTD_JSON in request.headers.get("Accept", "")
    body, ctype = wire.encode(value, compress=compress)
    return Response(body, media_type=ctype)


async def _body(request: Request) -> dict[str, Any]:
    return _decoded(await request.body(), request.headers.get("Content-Type"))


def _decoded(raw: bytes, content_type: str | None) -> dict[str, Any]:
    data = wire.decode(raw, content_type)
    if not isinstance(data, dict):
        raise ValidationError("the request body must be a JSON object")
    return data


def _token(request: Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("sync calls need this workstation's token: run `outpost login`")
    return token.strip()


def _identity(reg: Registry, stores: Any, tenant: str, token: str) -> tuple[Any, SyncIdentity]:
    _known(reg, tenant)
    store = stores.get(tenant)
    return store, check_token(reg, store, tenant, token)


def _known(reg: Registry, tenant: str) -> None:
    try:
        reg.tenant(tenant)
    except NotFound:
        raise Unauthorized("this workstation's sign-in is no longer valid") from None


@router.post("/login")
async def login(
    tenant: str, request: Request, reg: Reg, stores: Stores,
    user: Annotated[User, Depends(current_user)],
) -> Response:
    """Exchange a user's password for this workstation's token (binding it on first use)."""
    body = await _body(request)
    ws_id, binding = body.get("workstation"), body.get("binding")
    if not isinstance(ws_id, str):
        raise ValidationError("'workstation' must be the workstation's id")

    def work() -> dict[str, Any]:
        ws = reg.workstation(tenant, ws_id)
        token = issue_token(reg, stores.get(tenant), user, ws, str(binding or ""))
        return {"token": token, "login": user.login, "workstation": ws.to_json()}

    return _reply(request, await run_in_threadpool(work))


@router.get("/whoami")
async def whoami(tenant: str, request: Request, reg: Reg, stores: Stores) -> Response:
    token = _token(request)

    def work() -> dict[str, Any]:
        _, ident = _identity(reg, stores, tenant, token)
        return {"login": ident.login, "workstation": ident.workstation.to_json()}

    return _reply(request, await run_in_threadpool(work))


@router.post("/pull")
async def pull(tenant: str, request: Request, reg: Reg, stores: Stores) -> Response:
    """The changes after the workstation's cursor that belong on it: one page."""
    token = _token(request)
    body = await _body(request)

    def work() -> dict[str, Any]:
        store, ident = _identity(reg, stores, tenant, token)
        return pull_page(store, ident, body.get("cursor"), body.get("limit", 1000),
                         body.get("confirmed"))

    return _reply(request, await run_in_threadpool(work))


@router.post("/push")
async def push(tenant: str, request: Request, reg: Reg, stores: Stores) -> Response:
    """Apply a batch of the workstation's changes, exactly once per batch id."""
    token = _token(request)
    batch, after = request.headers.get(wire.BATCH_HEADER), request.headers.get(wire.AFTER_HEADER)
    body: dict[str, Any] | None = None
    raw = await request.body()
    if batch is None:  # a client that names the batch in the body only
        body = _decoded(raw, request.headers.get("Content-Type"))
        batch, after = body.get("batch"), body.get("after")
    # else decoded in the worker thread: the event loop goes on with other requests

    def work() -> dict[str, Any]:
        nonlocal body
        if body is None:
            body = _decoded(raw, request.headers.get("Content-Type"))
            if body.get("batch") != batch or body.get("after") != after:
                raise ValidationError("the batch named in the headers is not the body's")
        reader, ident = _identity(reg, stores, tenant, token)
        # Read and checked before the writer is free: while it still writes the batch before.
        changes = parse_changes(reader.schema, body.get("changes"))
        if isinstance(after, str) and after != batch:  # sent behind a batch still here
            stores.arrivals.wait_for(tenant, after)
        with stores.writer(tenant) as store:  # one warm connection for a tenant's batches
            return apply_push(store, ident, batch, body.get("cursor"), changes,
                              compact=body.get("compact") is True, after=after)

    with stores.arrivals.arrived(tenant, str(batch)):
        answer = await run_in_threadpool(work)
    return _reply(request, answer)


@router.get("/wait")
async def wait(
    tenant: str, request: Request, reg: Reg, stores: Stores,
    cursor: Annotated[int, Query(ge=0)], timeout: Annotated[float, Query(ge=0, le=WAIT_MAX)] = 25,
) -> Response:
    """Long-poll: answer as soon as the cloud has changes after `cursor`, or at `timeout`."""
    token = _token(request)
    await run_in_threadpool(_identity, reg, stores, tenant, token)
    heads: Heads = request.app.state.heads  # one watch per tenant, for all its long-polls
    head = await heads.wait(tenant, cursor, timeout, gone=request.is_disconnected)
    if head is None:
        return Response(status_code=204)
    return _reply(request, {"changed": head > cursor, "head": head})


@router.get("/snapshot")
async def snapshot(tenant: str, request: Request, reg: Reg, stores: Stores) -> Response:
    """A fresh copy of the workstation's infobase, for a workstation that must refresh."""
    token = _token(request)

    def work() -> Response:
        from cloud.api.snapshot import snapshot_response

        _, ident = _identity(reg, stores, tenant, token)
        return snapshot_response(reg, ident.workstation)

    result: Response = await run_in_threadpool(work)
    return result
