"""Running the real daemon (`outpost daemon --headless`) against a real cloud in tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.store import Store
from daemon.home import Home
from daemon.service import ControlClient, daemon_running
from tests.support.cloud import CloudServer, Tenant, make_tenant
from tests.support.workstation import install, login, make_bundle

BIN = Path(sys.executable).parent

# Fast timings for tests (see daemon/service/tuning.py); realtime debounce stays at its default.
FAST = {
    "OUTPOST_JITTER": "0.3",
    "OUTPOST_BACKOFF_BASE": "0.3",
    "OUTPOST_BACKOFF_CAP": "1.0",
    "OUTPOST_WAIT_TIMEOUT": "5",
    "OUTPOST_PROBE_INTERVAL": "5",
    "OUTPOST_STOP_GRACE": "5",
    "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
}


def wait_for(pred: Callable[[], Any], timeout: float, what: str, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


@dataclass
class Daemon:
    """`outpost --home H daemon` as a child process."""

    home: Home
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ("--headless",)
    proc: subprocess.Popen[bytes] | None = None

    def start(self, *, ready: bool = True) -> Daemon:
        env = {**os.environ, **FAST, **self.env}
        self.out = self.home.root / f"daemon-{time.monotonic_ns()}.out"
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "outpost"), "--home", str(self.home.root), "daemon", *self.args],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        if ready:
            wait_for(self._ready, 20, "the daemon's control channel")
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {self.proc.returncode}: "
                                 f"{self.output()}")
        try:
            ControlClient(self.home).ping()
            return True
        except Exception:
            return False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.terminate()

    def output(self) -> str:
        try:
            return self.out.read_text(errors="replace")
        except OSError:
            return ""

    @property
    def client(self) -> ControlClient:
        return ControlClient(self.home)

    def status(self) -> dict[str, Any]:
        return self.client.status()

    def wait_status(self, pred: Callable[[dict[str, Any]], Any], timeout: float,
                    what: str) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def check() -> bool:
            st = self.status()
            if pred(st):
                found.update(st)
                return True
            return False

        wait_for(check, timeout, what)
        return found

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)


@dataclass
class Site:
    """A cloud with one tenant, and a workstation installed from its bundle, signed in."""

    tenant: Tenant
    cloud: CloudServer
    home: Home

    def cloud_store(self) -> Store:
        return self.tenant.store()

    def local_store(self) -> Store:
        return Store.open(self.home.database)

    def local_get(self, entity: str, oid: str) -> dict[str, Any] | None:
        s = Store.open(self.home.database, readonly=True)
        try:
            return s.get(entity, oid)
        finally:
            s.close()

    def history(self) -> list[Any]:
        import json

        try:
            lines = (self.home.state / "history.jsonl").read_text().splitlines()
        except OSError:
            return []
        return [json.loads(ln) for ln in lines if ln.strip()]


def make_site(tmp: Path, *, name: str = "ws1", signed_in: bool = True) -> Site:
    data = tmp / "cloud"
    data.mkdir()
    tenant = make_tenant(data, orgs=2)
    cloud = CloudServer(data).start()
    bundle = make_bundle(tenant, tmp / f"{name}.zip", name=name)
    home = install(bundle, tmp / name, cloud.url)
    if signed_in:
        login(home, "alice", tenant.users["alice"])
    return Site(tenant, cloud, home)


def stopped(home: Home) -> bool:
    return not daemon_running(home)
