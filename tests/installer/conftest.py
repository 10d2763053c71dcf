"""Fixtures of the installer tests: a genuine signing key and bundles made with it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core import signing
from tests.bundle.bundle_helpers import Tenant
from tests.installer.install_helpers import make_bundle, make_tenant

WS1 = "11111111-1111-4111-8111-111111111111"
WS2 = "22222222-2222-4222-8222-222222222222"


@dataclass
class Cloud:
    key: Ed25519PrivateKey  # the cloud's genuine key
    other: Ed25519PrivateKey  # someone else's
    tenant: Tenant
    bundle: Path  # workstation WS1, all organizations
    second: Path  # workstation WS2, one organization, same key
    foreign: Path  # workstation WS2 signed by `other`

    @property
    def public(self) -> str:
        return signing.public_key_b64(self.key)


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Cloud:
    d = tmp_path_factory.mktemp("cloud")
    key, other = signing.generate_key(), signing.generate_key()
    t = make_tenant(d)
    return Cloud(
        key, other, t,
        make_bundle(t, d / "Offline.zip", key, workstation=WS1),
        make_bundle(t, d / "Second.zip", key, workstation=WS2, name="Depot", prefix="DP",
                    orgs=[t.orgs[0]]),
        make_bundle(t, d / "Foreign.zip", other, workstation=WS2, name="Depot", prefix="DP"),
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose folders are all inside tmp_path."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("OUTPOST_", "XDG_"))}
    e.update(HOME=str(tmp_path / "user"), XDG_CONFIG_HOME=str(tmp_path / "user" / ".config"),
             XDG_DATA_HOME=str(tmp_path / "user" / ".local" / "share"))
    (tmp_path / "user").mkdir()
    return e
