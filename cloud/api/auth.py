"""HTTP Basic authentication against the tenant named in the URL, and the role checks.

A login belongs to one tenant: credentials are checked against the tenant in the path, so a
user of another tenant, an unknown tenant, an unknown login and a wrong password all get the
same 401, and nothing tells which tenants exist.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.requests import HTTPConnection

from cloud.api.stores import TenantStores
from cloud.models import User
from cloud.registry import Registry
from core.errors import Forbidden, Unauthorized


class _Basic(HTTPBasic):
    """HTTP Basic that accepts UTF-8 credentials and leaves refusing to us."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, param = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(param.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            return None
        login, sep, password = decoded.partition(":")
        return HTTPBasicCredentials(username=login, password=password) if sep else None


basic = _Basic(auto_error=False, realm="outpost",
               description="A login and password of the tenant named in the path.")


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in its
# thread pool, a hand-off to a worker thread and back for each one, which cost a no-change sync
# more than the work it asks for (docs/performance.md). Checking a password stays a plain
# `def`: scrypt is meant to be slow and must not hold up the event loop.


async def registry(request: Request) -> Registry:
    reg: Registry = request.app.state.registry
    return reg


async def stores(request: Request) -> TenantStores:
    s: TenantStores = request.app.state.stores
    return s


def current_user(
    tenant: str, reg: Annotated[Registry, Depends(registry)],
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
) -> User:
    if credentials is None:
        raise Unauthorized("authentication required: HTTP Basic with a login of this tenant")
    return reg.authenticate(tenant, credentials.username, credentials.password)


async def data_user(user: Annotated[User, Depends(current_user)]) -> User:
    """A user who may read and write the tenant's objects: admin or user, not sync."""
    if not user.may_use_data:
        raise Forbidden(f"the {user.role} role may only sync; it cannot use the data API")
    return user


async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("only a tenant admin may manage workstations")
    return user


DataUser = Annotated[User, Depends(data_user)]
AdminUser = Annotated[User, Depends(admin_user)]
Stores = Annotated[TenantStores, Depends(stores)]
Reg = Annotated[Registry, Depends(registry)]
