"""The shapes of names a person chooses: tenants, logins, workstation prefixes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from core.errors import ValidationError

_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
_PREFIX = re.compile(r"^[A-Z0-9]{2}$")
CLOUD_PREFIX = "00"  # the cloud's own numbers; no workstation may take it
MAX_NAME = 100


def check_tenant_name(name: str) -> str:
    if not isinstance(name, str) or not _TENANT.match(name):
        raise ValidationError(
            f"tenant: {name!r} is not a valid tenant name (2-40 characters: a-z, 0-9 and '-', "
            "starting with a letter or digit)", field="tenant",
        )
    return name


def check_login(login: str) -> str:
    if not isinstance(login, str) or not _LOGIN.match(login):
        raise ValidationError(
            f"login: {login!r} is not a valid login (1-64 characters: letters, digits and "
            "._@+-, starting with a letter or digit)", field="login",
        )
    return login


def check_prefix(prefix: str) -> str:
    """Two characters A-Z/0-9 (lowercase is accepted and raised), never the cloud's "00"."""
    p = prefix.upper() if isinstance(prefix, str) else prefix
    if not isinstance(p, str) or not _PREFIX.match(p) or p == CLOUD_PREFIX:
        raise ValidationError(
            f"prefix: must be two characters A-Z or 0-9 other than '00', got {prefix!r}",
            field="prefix",
        )
    return p


def check_display_name(name: str, *, what: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"{what}: must not be empty", field=what)
    if len(name) > MAX_NAME:
        raise ValidationError(f"{what}: longer than {MAX_NAME} characters", field=what)
    if any(ord(c) < 0x20 for c in name):
        raise ValidationError(f"{what}: must be one line of text", field=what)
    return name.strip()


def prefix_candidates() -> Iterator[str]:
    """Prefixes in the order they are handed out: 01..99, then the ones with letters."""
    digits = "0123456789"
    alphabet = digits + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for a in digits:
        for b in digits:
            if a + b != CLOUD_PREFIX:
                yield a + b
    for a in alphabet:
        for b in alphabet:
            if not (a in digits and b in digits):
                yield a + b
