"""Fixtures of the daemon tests: a site (cloud + installed workstation) and daemons to clean up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.daemon.daemon_helpers import Daemon, Site, make_site


@pytest.fixture(autouse=True)
def _keyring_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    s = make_site(tmp_path)
    try:
        yield s
    finally:
        s.cloud.stop()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Every daemon a test starts; killed at the end if it is still running."""
    started: list[Daemon] = []
    try:
        yield started
    finally:
        for d in started:
            d.kill()

