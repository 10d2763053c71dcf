"""The cloud's Ed25519 signing key, kept in DATA/keys (0700) as signing.pem (0600).

The private key signs bundle manifests; signing.pub (base64 raw public key) is what the
workstations pin and what a person compares by its fingerprint.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloud.files import write_atomic
from core.errors import StoreError
from core.signing import generate_key, load_private_key, private_key_pem, public_key_b64

PRIVATE = "signing.pem"
PUBLIC = "signing.pub"


def create_keys(keys_dir: Path) -> Ed25519PrivateKey:
    """Make a new key pair in `keys_dir`, readable only by its owner."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    if (keys_dir / PRIVATE).exists():
        raise StoreError(f"{keys_dir / PRIVATE}: a signing key already exists")
    key = generate_key()
    write_atomic(keys_dir / PRIVATE, private_key_pem(key), mode=0o600)
    write_atomic(keys_dir / PUBLIC, (public_key_b64(key) + "\n").encode("ascii"), mode=0o644)
    return key


def load_signing_key(keys_dir: Path) -> Ed25519PrivateKey:
    path = keys_dir / PRIVATE
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the signing key: {exc.strerror or exc}") from None
    try:
        return load_private_key(pem)
    except (ValueError, TypeError):
        raise StoreError(f"{path}: not a valid signing key") from None


def load_public_key_b64(keys_dir: Path) -> str:
    path = keys_dir / PUBLIC
    try:
        return path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return public_key_b64(load_signing_key(keys_dir))
