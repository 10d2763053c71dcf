"""The frozen programs, as a user gets them: build, unpack the archive, install, ask status."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from core.version import __version__
from tests.installer.conftest import WS1

ROOT = Path(__file__).resolve().parents[2]


def run(*args: object, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="CI freezes on Linux")
@pytest.mark.timeout(900)
def test_frozen_installer_installs_a_bundle_and_outpost_answers_status(cloud, tmp_path):
    build_env = dict(os.environ, BUILD_DIR=str(tmp_path / "build"),
                     DIST_DIR=str(tmp_path / "dist"))
    r = subprocess.run(["bash", str(ROOT / "scripts" / "build_installer")], env=build_env,
                       capture_output=True, text=True, timeout=840, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    machine = {"amd64": "x86_64", "aarch64": "arm64"}.get(platform.machine().lower(),
                                                         platform.machine().lower())
    archive = tmp_path / "dist" / f"outpost-{__version__}-linux-{machine}.tar.gz"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert {"outpost/outpost", "outpost/outpost-install"} <= set(names)
        for server_side in ("cloud", "bundle_builder", "fastapi", "uvicorn", "starlette",
                            "pydantic"):
            assert not [n for n in names if f"/{server_side}" in n.lower()], server_side
        tar.extractall(tmp_path / "unpacked", filter="tar")
    folder = tmp_path / "unpacked" / "outpost"
    # a user's machine: no virtual environment, no Python on PATH that knows Outpost
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "user"), "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(tmp_path / "user" / ".config")}
    home = tmp_path / "user" / "outpost"

    r = run(folder / "outpost-install", cloud.bundle, "--home", home, "--no-autostart", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (home / "infobase.db").is_file() and (home / "config.toml").is_file()
    assert f"{folder / 'outpost'} --home {home} login" in r.stdout

    bad = tmp_path / "truncated.zip"
    bad.write_bytes(cloud.bundle.read_bytes()[:4000])
    r = run(folder / "outpost-install", bad, "--home", tmp_path / "other", env=env)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "damaged or truncated" in r.stderr and not (tmp_path / "other").exists()

    r = run(folder / "outpost", "--version", env=env)
    assert r.returncode == 0 and __version__ in r.stdout
    r = run(folder / "outpost", "--home", home, "status", "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    status = json.loads(r.stdout)
    assert status["workstation"] == WS1
    assert status["database"] == str(home / "infobase.db")
    assert status["pending_changes"] == 0
