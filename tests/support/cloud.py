"""A real `outpost-cloud serve` on 127.0.0.1, and tenants set up through the real CLI/registry."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cloud.registry import Registry

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class CloudServer:
    """`outpost-cloud serve` as a child process; can be killed and started again."""

    data: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> CloudServer:
        log = open(self.data / f"serve-{self.port}.log", "ab")  # noqa: SIM115 - child keeps it
        self.proc = subprocess.Popen(
            [str(BIN / "outpost-cloud"), "serve", "--data", str(self.data),
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"outpost-cloud serve exited with {self.proc.returncode}")
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("outpost-cloud serve did not come up")

    def kill(self) -> None:
        """SIGKILL: the server dies mid-request, as in a crash."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Tenant:
    reg: Registry
    name: str
    orgs: list[str]
    users: dict[str, str]  # login -> password

    def store(self):
        return self.reg.tenant_store(self.name)


def make_tenant(
    data: Path, *, name: str = "acme", tier: str = "extended", orgs: int = 3, seed: int = 0,
    url: str | None = None,
) -> Tenant:
    """A registry with one tenant, an admin, a user and a sync user, and `orgs` organizations."""
    reg = Registry.init(data, url=url) if url else Registry.init(data)
    reg.create_tenant(name, tier)
    users = {"boss": "boss-password-1", "alice": "alice-password-1", "robot": "robot-password-1"}
    reg.add_user(name, "boss", "admin", users["boss"])
    reg.add_user(name, "alice", "user", users["alice"])
    reg.add_user(name, "robot", "sync", users["robot"])
    store = reg.tenant_store(name)
    org_ids = [store.put("organizations", {"name": f"Org {chr(65 + i)}"})["id"]
               for i in range(orgs)]
    if seed:
        subprocess.run(
            [str(BIN / "outpost-cloud"), "seed", name, "--objects", str(seed), "--data", str(data)],
            check=True, capture_output=True,
        )
    return Tenant(reg, name, org_ids, users)
