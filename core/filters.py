"""Which objects a workstation carries: its organizations, and what it may only receive.

The cloud uses the same rules to cut a bundle, to filter pulls and to refuse pushes, so a
workstation can never receive or send what it should not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.schema import Entity


@dataclass(frozen=True)
class Scope:
    orgs: frozenset[str] | None = None  # None: every organization of the tenant
    receive_only: frozenset[str] = frozenset()
    catalogs: str = "all"  # "all" or "used" (the bundle carries only referenced catalogs)

    @classmethod
    def of(
        cls, orgs: Iterable[str] | None, receive_only: Iterable[str] = (), catalogs: str = "all"
    ) -> Scope:
        org_set = frozenset(orgs) if orgs else None
        return cls(org_set, frozenset(receive_only), catalogs)

    def has_org(self, org: str | None) -> bool:
        return self.orgs is None or (org is not None and org in self.orgs)

    def receives(self, entity: Entity, org: str | None) -> bool:
        """Whether an object of `entity` belonging to `org` belongs on the workstation."""
        if entity.shared:
            return True
        return self.has_org(org)

    def refusal(self, entity: Entity, org: str | None) -> str | None:
        """Why the cloud refuses a pushed object, or None if it may be pushed."""
        if entity.name in self.receive_only:
            return (
                f"{entity.name} are maintained in the cloud only; "
                "this workstation may not change them"
            )
        if not entity.shared and not self.has_org(org):
            if org is None:
                return f"{entity.name} needs an organization this workstation carries"
            return f"organization {org} is not carried by this workstation"
        return None
