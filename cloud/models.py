"""What the registry hands out: tenants, users and workstations, as plain frozen values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cloud.tiers import seat_limit

ROLES: tuple[str, ...] = ("admin", "user", "sync")
PRIORITIES: tuple[str, ...] = ("cloud", "workstation", "newest")
CATALOGS: tuple[str, ...] = ("all", "used")
Role = Literal["admin", "user", "sync"]


@dataclass(frozen=True)
class Tenant:
    name: str
    tier: str
    extra_seats: int = 0
    created_at: str = ""

    @property
    def seats(self) -> int:
        """How many workstations the tenant may have at once."""
        return seat_limit(self.tier, self.extra_seats)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "tier": self.tier, "extra_seats": self.extra_seats,
                "seats": self.seats, "created_at": self.created_at}


@dataclass(frozen=True)
class User:
    tenant: str
    login: str
    role: str

    @property
    def may_use_data(self) -> bool:
        return self.role in ("admin", "user")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def to_json(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "login": self.login, "role": self.role}


@dataclass(frozen=True)
class Workstation:
    id: str
    tenant: str
    name: str
    orgs: list[str] | None
    users: list[str]
    prefix: str
    priority: str = "cloud"
    receive_only: list[str] = field(default_factory=list)
    catalogs: str = "all"
    created_at: str = ""
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "name": self.name,
            "orgs": None if self.orgs is None else list(self.orgs),
            "users": list(self.users),
            "prefix": self.prefix,
            "priority": self.priority,
            "receive_only": list(self.receive_only),
            "catalogs": self.catalogs,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }
