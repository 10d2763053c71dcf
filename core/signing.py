"""Ed25519 signatures: the cloud signs bundle manifests, workstations check them.

Keys travel as raw 32-byte public keys in base64; a fingerprint is what a person compares
(the ReadMe shows it, the installer can pin it).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import OutpostError


class SignatureError(OutpostError):
    code = "bad_signature"


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the signing key is not an Ed25519 key")
    return key


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def fingerprint(public_b64: str) -> str:
    """SHA-256 of the raw public key, as colon-separated hex pairs of its first 16 bytes."""
    digest = hashlib.sha256(_raw_public(public_b64)).hexdigest()[:32]
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2)).upper()


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def verify(public_b64: str, data: bytes, signature: bytes) -> None:
    """Raise SignatureError unless `signature` is `data` signed by the key."""
    try:
        Ed25519PublicKey.from_public_bytes(_raw_public(public_b64)).verify(signature, data)
    except InvalidSignature:
        raise SignatureError("the signature does not match: the file was altered or "
                             "signed by another key") from None


def _raw_public(public_b64: str) -> bytes:
    try:
        raw = base64.b64decode(public_b64, validate=True)
    except (ValueError, TypeError):
        raise SignatureError("the public key is not valid base64") from None
    if len(raw) != 32:
        raise SignatureError("the public key is not a 32-byte Ed25519 key")
    return raw
