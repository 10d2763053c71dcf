"""Fixtures of the sync tests: one real `outpost-cloud serve` per module, a fresh tenant per test
(with workstations installed from real bundles, see sync_helpers.Site)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.registry import Registry
from tests.support.cloud import CloudServer
from tests.sync.sync_helpers import KEYRING_ENV, Cloud, Site, new_tenant


@pytest.fixture(autouse=True)
def _keyring_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens go to the encrypted file, here and in every `outpost` subprocess."""
    for k, v in KEYRING_ENV.items():
        monkeypatch.setenv(k, v)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    data = tmp_path_factory.mktemp("cloud")
    reg = Registry.init(data)
    server = CloudServer(data).start()
    try:
        yield Cloud(data, reg, server)
    finally:
        server.stop()
        reg.close()


@pytest.fixture
def site(cloud: Cloud, tmp_path: Path) -> Iterator[Site]:
    name, orgs = new_tenant(cloud.reg, 2)
    s = Site(cloud, tmp_path, name, orgs)
    try:
        yield s
    finally:
        s.close()
        if cloud.server.proc is None or cloud.server.proc.poll() is not None:
            cloud.server.start()  # a test that stopped the server leaves it running again


