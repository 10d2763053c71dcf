"""The cloud service: tenants, users, licences, workstations, and their HTTP API.

The registry (cloud.registry.Registry) is the way in for everything else, the bundle builder
included; the web layer lives in cloud.api and loads only when serving.
"""

from cloud.models import ROLES, Tenant, User, Workstation
from cloud.registry import Registry
from cloud.tiers import TIERS, seat_limit

__all__ = ["ROLES", "TIERS", "Registry", "Tenant", "User", "Workstation", "seat_limit"]
