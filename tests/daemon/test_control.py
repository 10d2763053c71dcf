"""The control channel: the secret, the file's mode, and status answered while a sync waits."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from typing import Any

import pytest

from daemon.config import ConfigError
from daemon.home import Home
from daemon.service.control import (
    ControlClient,
    ControlError,
    ControlServer,
    DaemonNotRunning,
    control_file,
)
from daemon.service.watcher import Debouncer


class FakeEngine:
    """Stands in for the engine: records calls; its sync blocks until released."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.release = threading.Event()
        self.syncing = threading.Event()

    def status(self, since: int | None = None, wait: float = 0.0) -> dict[str, Any]:
        return {"state": "syncing" if self.syncing.is_set() else "idle", "version": 1}

    def sync_now(self, wait: bool = True, trigger: str = "now") -> dict[str, Any] | None:
        self.calls.append(("sync", wait, trigger))
        self.syncing.set()
        if wait:
            self.release.wait(10)
        self.syncing.clear()
        return {"ok": True, "trigger": trigger}

    def stop(self) -> None:
        self.calls.append(("stop",))

    def set_config(self, key: str, value: str) -> dict[str, Any]:
        if key != "mode":
            raise ConfigError(f"unknown setting '{key}'")
        return {"key": key, "value": value}

    def pause(self) -> None:
        self.calls.append(("pause",))

    def resume(self) -> None:
        self.calls.append(("resume",))

    def credentials_changed(self) -> None:
        self.calls.append(("credentials",))

    def conflicts(self) -> dict[str, Any]:
        return {"conflicts": [], "rejected": []}


@pytest.fixture
def served(tmp_path):
    home = Home.at(tmp_path / "home")
    engine = FakeEngine()
    server = ControlServer(engine, home)
    server.start()
    try:
        yield home, engine, server
    finally:
        engine.release.set()
        server.close()


def test_round_trip_and_private_control_file(served):
    home, engine, server = served
    info = json.loads(control_file(home).read_text())
    assert info["port"] == server.port and info["pid"] == os.getpid()
    if os.name == "posix":
        assert stat.S_IMODE(control_file(home).stat().st_mode) == 0o600
    client = ControlClient(home)
    assert client.status()["state"] == "idle"
    client.pause()
    client.resume()
    client.credentials_changed()
    assert client.set_config("mode", "manual") == {"key": "mode", "value": "manual"}
    with pytest.raises(ControlError, match="unknown setting") as err:
        client.set_config("colour", "blue")
    assert err.value.code == "bad_config"
    client.stop()
    assert engine.calls == [("pause",), ("resume",), ("credentials",), ("stop",)]


def test_a_request_without_the_secret_is_refused(served):
    _home, engine, server = served
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b'{"secret": "guess", "op": "stop"}\n')
        answer = json.loads(s.makefile("rb").readline())
    assert answer == {"ok": False, "error": "forbidden", "message": "wrong control secret"}
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"not json\n")
        assert json.loads(s.makefile("rb").readline())["error"] == "bad_request"
    assert engine.calls == []


def test_status_answers_while_a_sync_is_waited_for(served):
    home, engine, _ = served
    out: dict[str, Any] = {}
    waiter = threading.Thread(
        target=lambda: out.update(ControlClient(home).sync_now(True, "cli") or {}))
    waiter.start()
    assert engine.syncing.wait(5)
    t0 = time.monotonic()
    assert ControlClient(home).status()["state"] == "syncing"
    assert time.monotonic() - t0 < 1.0
    engine.release.set()
    waiter.join(5)
    assert out == {"ok": True, "trigger": "cli"}


def test_no_daemon_and_a_stale_control_file(tmp_path, served):
    home = Home.at(tmp_path / "other")
    with pytest.raises(DaemonNotRunning):
        ControlClient(home).status()
    _, _, _server = served
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens on this port any more
    control_file(home).parent.mkdir(parents=True)
    control_file(home).write_text(json.dumps({"port": port, "secret": "x", "pid": 1}))
    with pytest.raises(DaemonNotRunning):
        ControlClient(home).status()


def test_close_removes_the_control_file(tmp_path):
    home = Home.at(tmp_path / "h")
    server = ControlServer(FakeEngine(), home)
    server.start()
    assert control_file(home).exists()
    server.close()
    assert not control_file(home).exists()
    with pytest.raises(DaemonNotRunning):
        ControlClient(home).status()


def test_debouncer_turns_a_burst_into_one_call():
    calls: list[float] = []
    d = Debouncer(lambda: calls.append(time.monotonic()), quiet=0.2, most=5)
    t0 = time.monotonic()
    for _ in range(10):
        d.poke()
        time.sleep(0.02)
    time.sleep(0.5)
    assert len(calls) == 1 and calls[0] - t0 >= 0.2
    d.poke()
    time.sleep(0.4)
    assert len(calls) == 2
    d.close()


def test_debouncer_fires_during_endless_writes():
    calls: list[float] = []
    d = Debouncer(lambda: calls.append(time.monotonic()), quiet=0.2, most=0.5)
    end = time.monotonic() + 1.3
    while time.monotonic() < end:
        d.poke()
        time.sleep(0.05)
    d.close()
    assert len(calls) >= 2  # at most 0.5 s apart although it never went quiet
