"""Password hashing with scrypt, and a cache that keeps repeated logins fast.

A stored hash carries its own parameters (`scrypt$n$r$p$salt$hash`, base64 parts), so the cost
can be raised later without breaking existing users. Checking a password is slow on purpose;
the API checks the same credentials on every request, so a successful check is remembered,
keyed by a keyed hash of the credentials *and* the stored hash: a changed password, a removed
user or a restart forgets it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import threading
from collections import OrderedDict

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from core.errors import ValidationError

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # about 16 MiB and a few tens of milliseconds per check
SALT_BYTES = 16
HASH_BYTES = 32
MAX_PASSWORD = 1024


def check_password(password: str) -> str:
    if not isinstance(password, str) or not password:
        raise ValidationError("password: must not be empty", field="password")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"password: longer than {MAX_PASSWORD} characters",
                              field="password")
    if "\n" in password or "\r" in password:
        raise ValidationError("password: must be one line", field="password")
    return password


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """A new salted scrypt hash of `password`, with its parameters, as one ASCII string."""
    salt = os.urandom(SALT_BYTES)
    digest = Scrypt(salt=salt, length=HASH_BYTES, n=n, r=r, p=p).derive(password.encode("utf-8"))
    return "$".join([SCHEME, str(n), str(r), str(p), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches `stored`; constant-time; False for a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = _unb64(digest)
        if len(expected) != HASH_BYTES:
            return False
        kdf = Scrypt(salt=_unb64(salt), length=len(expected), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    try:
        kdf.verify(password.encode("utf-8"), expected)  # compares in constant time
    except InvalidKey:
        return False
    return True


@functools.cache
def _dummy_hash() -> str:
    return hash_password(base64.b64encode(os.urandom(18)).decode())


def burn_time(password: str) -> None:
    """Check `password` against a hash nobody knows: a wrong login costs what a wrong password
    costs, so timing does not tell which logins exist."""
    verify_password(password, _dummy_hash())


class VerifiedCache:
    """Credentials recently checked successfully, keyed by HMAC under a per-process key."""

    def __init__(self, size: int = 4096) -> None:
        self._key = os.urandom(32)
        self._size = size
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    def _token(self, tenant: str, login: str, password: str, stored: str) -> bytes:
        msg = "\0".join([tenant, login, password, stored]).encode("utf-8")
        return hmac.new(self._key, msg, hashlib.sha256).digest()

    def hit(self, tenant: str, login: str, password: str, stored: str) -> bool:
        token = self._token(tenant, login, password, stored)
        with self._lock:
            if token in self._seen:
                self._seen.move_to_end(token)
                return True
        return False

    def add(self, tenant: str, login: str, password: str, stored: str) -> None:
        token = self._token(tenant, login, password, stored)
        with self._lock:
            self._seen[token] = None
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
