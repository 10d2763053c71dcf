"""Workstations made the way a user gets one: a bundle from the cloud, installed into a home."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from daemon.config import Config, save
from daemon.home import Home
from daemon.workstation import Workstation
from tests.support.cloud import Tenant

BIN = Path(sys.executable).parent


def make_bundle(
    tenant: Tenant, out: Path, *, name: str, orgs: list[str] | None = None,
    priority: str = "cloud", receive_only: list[str] | None = None,
) -> Path:
    reg = tenant.reg
    ws = reg.create_workstation(tenant.name, name, orgs=orgs, priority=priority,
                                receive_only=receive_only or [])
    from bundle_builder import build_bundle_for

    build_bundle_for(reg, ws, out)
    return out


def install(bundle: Path, home: Path, cloud_url: str) -> Home:
    """Install `bundle` into `home` with the real installer, pointing it at `cloud_url`."""
    installer = BIN / "outpost-install"
    proc = subprocess.run(
        [str(installer), str(bundle), "--home", str(home), "--no-autostart"],
        capture_output=True, text=True,
    )
    h = Home.at(home)
    if proc.returncode != 0:  # the installer is not there yet: lay the home out by hand
        h.root.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(bundle) as z:
            manifest = json.loads(z.read("manifest.json"))
            h.database.write_bytes(z.read("InfoBase/infobase.db"))
        save(h.config, Config(
            workstation=manifest["workstation"], name=manifest["name"],
            tenant=manifest["tenant"], cloud_url=cloud_url, cloud_key=manifest["public_key"],
            orgs=[o["id"] for o in manifest["orgs"]], prefix=manifest["prefix"],
        ))
    ws = Workstation(h)
    if ws.config.cloud_url != cloud_url:  # bundles name the cloud's public URL; tests move it
        from daemon import config as config_mod

        cfg = ws.config
        cfg.cloud_url = cloud_url
        config_mod.save(h.config, cfg)
    ws.close()
    return h


def login(home: Home, user: str, password: str) -> None:
    ws = Workstation(home)
    try:
        ws.login(user, password)
    finally:
        ws.close()


def outpost(home: Home, *args: str, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `outpost` CLI on `home`."""
    proc = subprocess.run(
        [str(BIN / "outpost"), "--home", str(home.root), *args],
        input=stdin, capture_output=True, text=True, timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"outpost {' '.join(args)} failed: {proc.stderr or proc.stdout}")
    return proc
