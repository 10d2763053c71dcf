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


def test_credentials_load_keyring_and_cryptography_only_when_used() -> None:
    assert _loaded("import daemon.sync.credentials", ("keyring", "cryptography")) == []


def test_a_config_with_an_interval_schedule_loads_without_croniter() -> None:
    code = "from daemon.schedule import parse_schedule; parse_schedule('1h')"
    assert _loaded(code, ("croniter",)) == []
