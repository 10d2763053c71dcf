"""daemon.service's public names load when first used, and asking whether a daemon runs does
not load the engine (every `outpost` command asks)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import daemon.service as service


def test_every_public_name_resolves() -> None:
    assert sorted(service.__all__) == sorted(service._WHERE)
    for name in service.__all__:
        assert getattr(service, name).__name__ == name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        service.Nope  # noqa: B018


def test_asking_for_a_running_daemon_loads_no_engine() -> None:
    code = ("import sys; from daemon.service.lock import daemon_running; import daemon.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('daemon.service')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['daemon.service', 'daemon.service.lock']"
