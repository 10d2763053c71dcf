"""`outpost` starts without the imports its command may not need: the keyring and cryptography
load only when a token is read or kept, the workstation (store, HTTP) only when a command uses it
rather than asking the running daemon. Each `outpost sync` pays its start-up in full."""

from __future__ import annotations

import subprocess
import sys


def _loaded(code: str, prefixes: tuple[str, ...]) -> list[str]:
    code += (f"; import sys; print(' '.join(sorted(m for m in sys.modules "
             f"if m.split('.')[0] in {prefixes!r} or m in {prefixes!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_cli_starts_without_keyring_cryptography_or_the_workstation() -> None:
    heavy = ("keyring", "cryptography", "requests", "platformdirs", "daemon.workstation")
    assert _loaded("import daemon.cli", heavy) == []


def test_the_workstation_loads_the_http_stack_only_to_talk_to_the_cloud() -> None:
    """`outpost status`, `data` and `config` open the workstation and never call the cloud:
    requests and what it brings were half of their start (220 against 110 ms here)."""
    http = ("requests", "urllib3", "ssl", "truststore", "daemon.sync.client")
    assert _loaded("import daemon.workstation", http) == []
    assert "requests" in _loaded("from daemon.sync import CloudClient", http)


def test_credentials_load_keyring_and_cryptography_only_when_used() -> None:
    assert _loaded("import daemon.sync.credentials", ("keyring", "cryptography")) == []


def test_a_config_with_an_interval_schedule_loads_without_croniter() -> None:
    code = "from daemon.schedule import parse_schedule; parse_schedule('1h')"
    assert _loaded(code, ("croniter",)) == []
