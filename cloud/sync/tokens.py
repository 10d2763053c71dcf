"""Per-workstation tokens: what a workstation keeps instead of its user's password.

The first login binds the workstation to one installation; the same bundle installed
elsewhere is refused at its login. A token dies with its workstation's revocation, with its
user, and with a change of that user's password.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cloud.models import User, Workstation
from cloud.registry import Registry
from cloud.sync.tables import ensure_cloud_tables
from core.errors import Conflict, Forbidden, Unauthorized
from core.store import Store


class Revoked(Forbidden):
    code = "revoked"


@dataclass(frozen=True)
class SyncIdentity:
    workstation: Workstation
    login: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_sync(user: User, ws: Workstation) -> bool:
    """Users and sync accounts may sync (admins manage; they cannot be a workstation's users)."""
    if user.role not in ("user", "sync"):
        return False
    return not ws.users or user.login in ws.users


def issue_token(
    reg: Registry, store: Store, user: User, ws: Workstation, binding: str
) -> str:
    """Exchange a checked password for a token bound to this workstation's installation."""
    if not ws.active:
        raise Revoked(f"workstation '{ws.name}' was revoked; ask your administrator for a new one")
    if not may_sync(user, ws):
        raise Forbidden(f"user '{user.login}' may not sync workstation '{ws.name}'")
    if not isinstance(binding, str) or not 8 <= len(binding) <= 128:
        raise Unauthorized("the login request is missing this installation's identity")
    ensure_cloud_tables(store)
    token = secrets.token_urlsafe(32)
    with store.write():
        row: Any = store.conn.execute(
            "SELECT binding FROM _sync_nodes WHERE workstation = ?", (ws.id,)
        ).fetchone()
        if row is not None and row[0] not in (None, binding):
            raise Conflict(
                f"workstation '{ws.name}' is already in use on another computer; "
                "ask your administrator to create another workstation for this one"
            )
        store.conn.execute(
            "INSERT INTO _sync_nodes(workstation, binding) VALUES (?, ?) "
            "ON CONFLICT(workstation) DO UPDATE SET binding = excluded.binding",
            (ws.id, binding),
        )
        store.conn.execute(
            "INSERT INTO _sync_tokens VALUES (?, ?, ?, ?, ?)",
            (_hash(token), ws.id, user.login, reg.password_tag(ws.tenant, user.login),
             time.time()),
        )
    return token


def check_token(reg: Registry, store: Store, tenant: str, token: str) -> SyncIdentity:
    """Who is syncing with this token, or why they may not."""
    ensure_cloud_tables(store)
    row: Any = store.conn.execute(
        "SELECT workstation, login, password_tag FROM _sync_tokens WHERE token_hash = ?",
        (_hash(token),),
    ).fetchone()
    if row is None:
        raise Unauthorized("this workstation's sign-in is no longer valid; run `outpost login`")
    ws_id, login, tag = str(row[0]), str(row[1]), str(row[2])
    ws = reg.workstation(tenant, ws_id)
    if not ws.active:
        raise Revoked(f"workstation '{ws.name}' was revoked; ask your administrator for a new one")
    current = reg.password_tag(tenant, login)
    if current is None or current != tag:
        raise Unauthorized(
            f"the password of '{login}' changed or the user was removed; run `outpost login`"
        )
    user = reg.user(tenant, login)
    if not may_sync(user, ws):
        raise Unauthorized(
            f"user '{login}' may no longer sync this workstation; run `outpost login`"
        )
    return SyncIdentity(ws, login)
