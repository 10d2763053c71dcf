"""Fixtures for the cloud's tests: initialised data folders, real servers, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from cloud.registry import Registry
from cloud.server import bind, make_server

PASSWORD = "correct horse battery staple"
BIN = Path(sys.executable).parent


@contextmanager
def running_server(data_dir: Path) -> Iterator[str]:
    """A real uvicorn server for `data_dir` in a thread, on a free port; yields its base URL."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = make_server(data_dir, log_level="warning", access_log=False)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Api:
    """requests against one server; every answer is checked to be JSON-shaped and never 500."""

    base: str
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, *, auth: tuple[str, str] | None = None,
             **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 30)
        r = self.session.request(method, self.base + "/api/v1" + path, auth=auth, **kw)
        assert r.status_code != 500, f"{method} {path} -> {r.status_code} {r.text}"
        if r.status_code >= 400:
            body = r.json()
            assert set(body) >= {"error", "message"}, body
            assert isinstance(body["message"], str) and "\n" not in body["message"]
            assert "Traceback" not in r.text
        return r


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    Registry.init(path).close()
    return path


@pytest.fixture
def registry(data_dir: Path) -> Iterator[Registry]:
    with Registry.open(data_dir) as reg:
        yield reg


def cli_env(data_dir: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OUTPOST_CLOUD_DATA"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    if data_dir is not None:
        env["OUTPOST_CLOUD_DATA"] = str(data_dir)
    return env


def cli_argv() -> list[str]:
    exe = BIN / "outpost-cloud"
    return [str(exe)] if exe.exists() else [sys.executable, "-c",
                                            "from cloud.cli import main; main()"]


def outpost_cloud(*args: str, data_dir: Path | None = None, input: str | None = None,
                  check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the real `outpost-cloud` console script."""
    result = subprocess.run([*cli_argv(), *args], input=input, capture_output=True, text=True,
                            env=cli_env(data_dir), timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def assert_one_line_error(result: subprocess.CompletedProcess[str], *, code: int = 1) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("outpost-cloud: "), lines[0]
    return lines[0]


@pytest.fixture(scope="session")
def cli() -> Any:
    """`cli(*args, data_dir=, input=, check=)` runs outpost-cloud in a subprocess."""
    return outpost_cloud


@pytest.fixture(scope="session")
def cli_popen() -> Any:
    """`cli_popen(*args, data_dir=)`: start outpost-cloud without waiting (pipes, text)."""

    def popen(*args: str, data_dir: Path | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen([*cli_argv(), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=cli_env(data_dir))

    return popen


@pytest.fixture(scope="session")
def one_line_error() -> Any:
    return assert_one_line_error


@contextmanager
def serving_api(data_dir: Path) -> Iterator[Api]:
    with running_server(data_dir) as base:
        yield Api(base)


@pytest.fixture(scope="session")
def serve() -> Any:
    """`with serve(data_dir) as api:` a real in-thread server and an Api client for it."""
    return serving_api
