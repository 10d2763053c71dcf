"""Checking a workstation request against the tenant, and its row in registry.db.

Everything here is checked before the registry takes a seat, so a refused request writes
nothing and reports the first bad field by name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cloud.models import CATALOGS, PRIORITIES, Workstation
from cloud.names import prefix_candidates
from core.errors import Conflict, ValidationError
from core.objects import check_id
from core.store import Store

COLUMNS = ("id, tenant, name, orgs, users, prefix, priority, receive_only, catalogs, "
           "created_at, revoked_at")


def check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValidationError(f"{what}: must be one of {', '.join(allowed)}, got {value!r}",
                              field=what)
    return value


def check_options(priority: str, catalogs: str) -> None:
    check_choice(priority, PRIORITIES, "priority")
    check_choice(catalogs, CATALOGS, "catalogs")


def check_orgs(store: Store, orgs: Sequence[str] | None) -> list[str] | None:
    """Existing organization ids, without repeats; None means every organization."""
    if orgs is None:
        return None
    org_list = unique([check_id(o, what="orgs") for o in _strings(orgs, "orgs", "ids")])
    if not org_list:
        raise ValidationError("orgs: name at least one organization, or null for all",
                              field="orgs")
    org_entity = store.schema.org_entity.name
    for oid in org_list:
        if store.get(org_entity, oid) is None:
            raise ValidationError(f"orgs: no organization with id {oid}", field="orgs")
    return org_list


def check_receive_only(store: Store, receive_only: Sequence[str]) -> list[str]:
    entities = unique(_strings(receive_only, "receive_only", "entity names"))
    for e in entities:
        if e not in store.schema.entities:
            raise ValidationError(f"receive_only: unknown entity {e!r} "
                                  f"(known: {', '.join(store.schema.entities)})",
                                  field="receive_only")
    return entities


def check_users(role_of: Callable[[str], str | None], tenant: str,
                users: Sequence[str] | None) -> list[str]:
    """Logins of the tenant's user and sync accounts; [] (or None) means all of them."""
    if users is None:
        return []
    out = unique(_strings(users, "users", "logins"))
    for login in out:
        role = role_of(login)
        if role is None:
            raise ValidationError(f"users: no user {login!r} in tenant '{tenant}'",
                                  field="users")
        if role not in ("user", "sync"):
            raise ValidationError(f"users: '{login}' is an {role}; only user and sync accounts "
                                  "sync a workstation", field="users")
    return out


def choose_prefix(wanted: str | None, taken: Mapping[str, str], tenant: str) -> str:
    """`wanted` if no active workstation has it, else Conflict; the first free one if None."""
    if wanted is None:
        free = next((p for p in prefix_candidates() if p not in taken), None)
        if free is None:
            raise Conflict(f"tenant '{tenant}' has no free workstation prefix left")
        return free
    if wanted in taken:
        raise Conflict(f"prefix '{wanted}' is already used by workstation '{taken[wanted]}'")
    return wanted


def to_row(ws: Workstation) -> tuple[Any, ...]:
    """Values for COLUMNS."""
    return (ws.id, ws.tenant, ws.name, None if ws.orgs is None else json.dumps(ws.orgs),
            json.dumps(ws.users), ws.prefix, ws.priority, json.dumps(ws.receive_only),
            ws.catalogs, ws.created_at, ws.revoked_at)


def from_row(row: Sequence[Any]) -> Workstation:
    return Workstation(
        id=str(row[0]), tenant=str(row[1]), name=str(row[2]),
        orgs=None if row[3] is None else list(json.loads(row[3])),
        users=list(json.loads(row[4])), prefix=str(row[5]), priority=str(row[6]),
        receive_only=list(json.loads(row[7])), catalogs=str(row[8]),
        created_at=str(row[9]), revoked_at=None if row[10] is None else str(row[10]),
    )


def unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _strings(value: Any, what: str, kind: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(
        isinstance(v, str) for v in value
    ):
        raise ValidationError(f"{what}: must be a list of {kind}", field=what)
    return list(value)
