"""Installing into a home: what it holds, reinstalling, unsent changes, pinned keys, uninstall."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
import tomllib
from pathlib import Path

import pytest

from core import Conflict, Store, signing
from daemon import config as config_mod
from daemon.home import Home
from installer import LinuxAutostart, install, uninstall
from installer.launch import StartError
from tests.installer.conftest import WS1, WS2
from tests.installer.install_helpers import installer, snapshot


def test_install_lays_out_the_home(cloud, tmp_path, env):
    home = tmp_path / "user" / "work" / "outpost"
    r = installer(str(cloud.bundle), "--home", str(home), env=env)
    assert r.returncode == 0, r.stderr
    h = Home.at(home)
    assert h.installed() and h.logs.is_dir() and h.state.is_dir()
    cfg = tomllib.loads(h.config.read_text())
    assert cfg["workstation"] == WS1 and cfg["tenant"] == "acme" and cfg["prefix"] == "LP"
    assert cfg["cloud_url"] == "http://127.0.0.1:8750" and cfg["cloud_key"] == cloud.public
    assert cfg["orgs"] == []  # all organizations
    assert cfg["mode"] == "scheduled" and cfg["schedule"] == "1h"
    config_mod.load(h.config)  # the daemon's own loader accepts it
    with Store.open(h.database) as db:
        assert db.meta("workstation_id") == WS1 and db.pending() == 0 and db.head() == 0
        assert db.count("sales_invoices") == sum(len(v) for v in cloud.tenant.invoices.values())
    m = json.loads((h.state / "manifest.json").read_bytes())
    assert m["workstation"] == WS1
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    # autostart at login, in the XDG folder of this user
    [entry] = (tmp_path / "user" / ".config" / "autostart").iterdir()
    assert f"--home {home} daemon" in entry.read_text()
    # and what to do next
    fp = signing.fingerprint(cloud.public)
    assert fp in r.stdout and str(h.database) in r.stdout
    for step in ("login", "sync", "status"):
        assert f" --home {home} {step}" in r.stdout


def test_orgs_of_a_one_organization_bundle(cloud, tmp_path):
    h = Home.at(tmp_path / "h")
    res = install(cloud.second, h, program=["outpost"])
    assert config_mod.load(h.config).orgs == [cloud.tenant.orgs[0]]
    assert res.action == "installed" and res.autostart is None


def test_reinstalling_the_same_bundle_is_a_no_op(cloud, tmp_path, env):
    home = tmp_path / "user" / "h"
    assert installer(str(cloud.bundle), "--home", str(home), env=env).returncode == 0
    before = snapshot(tmp_path / "user")
    time.sleep(0.01)
    r = installer(str(cloud.bundle), "--home", str(home), env=env)
    assert r.returncode == 0, r.stderr
    assert "already installed" in r.stdout and "nothing to do" in r.stdout
    assert snapshot(tmp_path / "user") == before


def test_unsent_changes_are_never_overwritten_without_force(cloud, tmp_path, env):
    home = tmp_path / "user" / "h"
    assert installer(str(cloud.bundle), "--home", str(home), env=env).returncode == 0
    with Store.open(Home.at(home).database) as db:
        db.put("counterparties", {"name": "Made offline"})
        pending = db.pending()
        assert pending >= 1
    before = snapshot(tmp_path / "user")
    for bundle in (cloud.bundle, cloud.second):  # the same one, and another workstation
        r = installer(str(bundle), "--home", str(home), env=env)
        assert r.returncode == 1
        assert r.stderr.strip() == (
            f"outpost-install: {Home.at(home).database} holds {pending} change(s) not yet sent "
            "to the cloud; sync first ('outpost sync'), or use --force to discard them")
        assert snapshot(tmp_path / "user") == before
    r = installer(str(cloud.second), "--home", str(home), "--force", env=env)
    assert r.returncode == 0, r.stderr
    assert "Replaced the workstation" in r.stdout
    with Store.open(Home.at(home).database) as db:
        assert db.meta("workstation_id") == WS2 and db.pending() == 0


def test_another_workstation_replaces_an_untouched_one_keeping_user_settings(cloud, tmp_path):
    h = Home.at(tmp_path / "h")
    install(cloud.bundle, h, program=["outpost"])
    cfg = config_mod.load(h.config)
    cfg = config_mod.set_value(cfg, "mode", "manual")
    cfg = config_mod.set_value(cfg, "user", "ann")
    config_mod.save(h.config, cfg)
    with Store.open(h.database) as db:  # a WAL left behind must not meet the new file
        db.conn.execute("PRAGMA wal_autocheckpoint=0")
        db.conn.execute("UPDATE _meta SET value = value WHERE key = 'prefix'")
    res = install(cloud.second, h, program=["outpost"])
    assert res.action == "replaced"
    new = config_mod.load(h.config)
    assert (new.workstation, new.prefix, new.mode, new.user) == (WS2, "DP", "manual", "ann")
    with Store.open(h.database) as db:
        assert db.meta("workstation_id") == WS2
        assert db.scalar("PRAGMA integrity_check") == "ok"


def test_a_home_trusts_the_key_it_was_installed_with(cloud, tmp_path):
    h = Home.at(tmp_path / "h")
    install(cloud.bundle, h, program=["outpost"])
    before = snapshot(tmp_path)
    with pytest.raises(Exception, match="this workstation trusts"):
        install(cloud.foreign, h, program=["outpost"])
    assert snapshot(tmp_path) == before
    res = install(cloud.foreign, h, force=True, program=["outpost"])  # the cloud got a new key
    assert res.action == "replaced"
    assert config_mod.load(h.config).cloud_key == signing.public_key_b64(cloud.other)


def test_uninstall_removes_autostart_and_data(cloud, tmp_path, env):
    home = tmp_path / "user" / "h"
    assert installer(str(cloud.bundle), "--home", str(home), env=env).returncode == 0
    autostart = tmp_path / "user" / ".config" / "autostart"
    assert len(list(autostart.iterdir())) == 1
    r = installer("--uninstall", "--home", str(home), "--keep-data", env=env)
    assert r.returncode == 0, r.stderr
    assert not list(autostart.iterdir()) and Home.at(home).installed()
    assert "Kept the workstation's data" in r.stdout
    r = installer("--uninstall", "--home", str(home), env=env)
    assert r.returncode == 0, r.stderr
    assert not home.exists() and "Removed the workstation's data" in r.stdout
    r = installer("--uninstall", "--home", str(home), env=env)
    assert r.returncode == 0 and "No workstation was installed" in r.stdout


def test_uninstall_keeps_unsent_changes_unless_forced(cloud, tmp_path):
    h = Home.at(tmp_path / "h")
    auto = LinuxAutostart(tmp_path / "autostart")
    install(cloud.bundle, h, autostart=auto, program=["outpost"])
    with Store.open(h.database) as db:
        db.put("items", {"name": "Offline item"})
    with pytest.raises(Conflict, match="not yet sent"):
        uninstall(h, autostart=auto, program=["outpost"])
    assert h.installed() and auto.registered(h.root)
    res = uninstall(h, autostart=auto, force=True, program=["outpost"])
    assert res.data_removed and not h.root.exists() and not auto.registered(h.root)


def test_uninstall_leaves_a_folder_that_is_no_workstation_alone(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "letter.txt").write_text("keep me")
    res = uninstall(Home.at(tmp_path / "docs"), program=["outpost"])
    assert not res.data_removed and (tmp_path / "docs" / "letter.txt").exists()


def test_usage_errors(tmp_path, env):
    r = installer(env=env)
    assert r.returncode == 2 and "give the bundle ZIP" in r.stderr
    r = installer(str(tmp_path / "b.zip"), "--uninstall", env=env)
    assert r.returncode == 2 and "--uninstall takes no bundle" in r.stderr
    r = installer(str(tmp_path / "missing.zip"), "--home", str(tmp_path / "h"), env=env)
    assert r.returncode == 1 and "no such file" in r.stderr
    assert not (tmp_path / "h").exists()


def fake_program(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "fake_outpost.py"
    script.write_text("import sys\n" + body)
    return [sys.executable, str(script)]


def test_start_runs_the_daemon_detached(cloud, tmp_path):
    marker = tmp_path / "started.txt"
    prog = fake_program(tmp_path, (
        "if sys.argv[-1] == 'daemon':\n"
        f"    open({str(marker)!r}, 'w').write(' '.join(sys.argv[1:]))\n"
        "    import time; time.sleep(30)\n"))
    h = Home.at(tmp_path / "h")
    res = install(cloud.bundle, h, start=True, program=prog)
    try:
        assert res.started
        for _ in range(100):
            if marker.exists() and marker.read_text():
                break
            time.sleep(0.05)
        assert marker.read_text() == f"--home {h.root} daemon"
    finally:
        os.kill(res.started, 9)


def test_start_reports_a_daemon_that_fails(cloud, tmp_path):
    prog = fake_program(tmp_path, "print('Error: No such command daemon'); sys.exit(2)\n")
    h = Home.at(tmp_path / "h")
    with pytest.raises(StartError) as err:
        install(cloud.bundle, h, start=True, program=prog)
    assert "exit code 2" in err.value.message and "No such command daemon" in err.value.message
    assert h.installed()  # the installation itself stands; only the start failed
