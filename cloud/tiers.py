"""Licence tiers: how many workstations a tenant may have at once.

A seat is taken by an active workstation and freed when it is revoked; a tenant's limit is
its tier's seats plus any extra seats bought on top.
"""

from __future__ import annotations

from core.errors import ValidationError

TIERS: dict[str, int] = {"starter": 1, "optimal": 2, "extended": 5}
MAX_EXTRA_SEATS = 10_000


def check_tier(tier: str) -> str:
    if tier not in TIERS:
        raise ValidationError(
            f"tier: unknown tier {tier!r} (one of {', '.join(TIERS)})", field="tier"
        )
    return tier


def check_extra_seats(extra: int) -> int:
    if isinstance(extra, bool) or not isinstance(extra, int) or not 0 <= extra <= MAX_EXTRA_SEATS:
        raise ValidationError(
            f"extra_seats: must be a whole number from 0 to {MAX_EXTRA_SEATS}, got {extra!r}",
            field="extra_seats",
        )
    return extra


def seat_limit(tier: str, extra_seats: int = 0) -> int:
    """The number of workstations a tenant on `tier` with `extra_seats` may have at once."""
    return TIERS[check_tier(tier)] + check_extra_seats(extra_seats)
