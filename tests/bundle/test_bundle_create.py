"""Bundles of the cloud's workstations: licence seats, the registry, and `outpost-bundle`."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import bundle_builder.create as create_mod
from bundle_builder import build_bundle_file, build_bundle_for, create_bundle, download_name
from cloud.registry import Registry
from core import Conflict, Store, migrations
from tests.bundle.bundle_helpers import BIN, fill_tenant, run_env


@pytest.fixture
def cloud(tmp_path):
    reg = Registry.init(tmp_path / "data")
    reg.create_tenant("acme", "starter")
    with reg.tenant_store("acme") as store:
        t = fill_tenant(store)
    yield reg, t
    reg.close()


def bundle_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "outpost-bundle"), *args], capture_output=True, text=True,
                          env=env or run_env(), timeout=60)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_no_free_seat_refuses_before_writing_anything(cloud, tmp_path):
    reg, _ = cloud
    out = tmp_path / "out"
    out.mkdir()
    first = create_bundle(reg, "acme", out / "one.zip", "Laptop")
    assert first.prefix == "01"
    before = [w.to_json() for w in reg.list_workstations("acme")]
    with pytest.raises(Conflict) as err:
        create_bundle(reg, "acme", out / "two.zip", "Second laptop")
    assert "tier 'starter'" in err.value.message and "allows 1 workstation(s)" in \
        err.value.message and "1 in use" in err.value.message
    assert [w.to_json() for w in reg.list_workstations("acme")] == before
    assert reg.seats_in_use("acme") == 1
    assert leftovers(out) == ["one.zip"]
    # the same through the command line: one line, exit 1, nothing written
    r = bundle_cli("create", "--data", str(reg.data_dir), "--tenant", "acme",
                   "--name", "Third", "--out", str(out / "three.zip"))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == ("outpost-bundle: no free licence seat: tier 'starter' allows "
                                "1 workstation(s), 1 in use")
    assert leftovers(out) == ["one.zip"]
    assert reg.seats_in_use("acme") == 1 and len(reg.list_workstations("acme")) == 1


def test_cli_writes_one_organization_bundle(cloud, tmp_path):
    reg, t = cloud
    org = t.orgs[2]
    reg.add_user("acme", "ann", "user", "correct horse battery")
    out = tmp_path / "Offline.zip"
    r = bundle_cli("create", "--tenant", "acme", "--name", "Shop", "--orgs", org,
                   "--users", "ann", "--prefix", "sh", "--catalogs", "used", "--out", str(out),
                   "--json", env=run_env(OUTPOST_CLOUD_DATA=str(reg.data_dir)))
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["prefix"] == "SH" and res["path"] == str(out)
    assert res["counts"]["sales_invoices"] == len(t.invoices[org])
    ws = reg.workstation("acme", res["workstation"])
    assert ws.orgs == [org] and ws.users == ["ann"] and ws.catalogs == "used"
    with zipfile.ZipFile(out) as zf:
        m = json.loads(zf.read("manifest.json"))
        (tmp_path / "ws.db").write_bytes(zf.read("InfoBase/infobase.db"))
    assert m["cloud_url"] == reg.url and m["public_key"] == reg.public_key_b64()
    assert m["users"] == ["ann"] and m["workstation"] == ws.id
    with Store.open(tmp_path / "ws.db", readonly=True) as db:
        got = {r[0] for r in db.conn.execute("SELECT id FROM sales_invoices")}
        assert got == set(t.invoices[org])
        assert {r[0] for r in db.conn.execute("SELECT id FROM organizations")} == {org}
        assert db.prefix == "SH"


def test_cli_prints_what_it_made(cloud, tmp_path):
    reg, _ = cloud
    out = tmp_path / "b.zip"
    r = bundle_cli("create", "--data", str(reg.data_dir), "--tenant", "acme", "--name", "Van",
                   "--out", str(out))
    assert r.returncode == 0, r.stderr
    ws = reg.list_workstations("acme")[0]
    for text in (str(out), ws.id, "prefix        01", "Org A, Org B, Org C", "objects"):
        assert text in r.stdout
    assert "\x1b[" not in r.stdout  # no progress bar when stdout is not a terminal


def test_a_failed_export_gives_the_seat_back(cloud, tmp_path, monkeypatch):
    reg, _ = cloud

    def broken(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(create_mod, "write_bundle", broken)
    with pytest.raises(OSError):
        create_bundle(reg, "acme", tmp_path / "b.zip", "Laptop")
    assert reg.seats_in_use("acme") == 0
    [ws] = reg.list_workstations("acme")
    assert ws.revoked_at is not None
    assert not (tmp_path / "b.zip").exists()


def test_bundle_of_an_existing_workstation_and_of_a_revoked_one(cloud, tmp_path):
    reg, t = cloud
    ws = reg.create_workstation("acme", "Depot", orgs=[t.orgs[0]], prefix="DP")
    with reg.tenant_store("acme") as store:
        store.put("counterparties", {"name": "Added later"})
    res = build_bundle_for(reg, ws, tmp_path / "depot.zip")
    assert res.workstation == ws.id and res.prefix == "DP"
    assert res.counts["counterparties"] == len(t.counterparties) + 1  # a fresh snapshot
    served = build_bundle_file(reg, ws, tmp_path)  # what the cloud's endpoint sends
    assert served.path.name == "Outpost-DP-Depot.zip" and served.path.parent.parent == tmp_path
    assert zipfile.is_zipfile(served.path)
    shutil.rmtree(served.path.parent)
    reg.revoke_workstation("acme", ws.id)
    with pytest.raises(Conflict, match="revoked"):
        build_bundle_for(reg, reg.workstation("acme", ws.id), tmp_path / "again.zip")
    assert not (tmp_path / "again.zip").exists()


def test_bad_requests_are_one_line_errors(cloud, tmp_path):
    reg, _ = cloud
    base = ["create", "--data", str(reg.data_dir), "--name", "X", "--out"]
    cases = [
        (["--tenant", "nobody", "--out", str(tmp_path / "a.zip")], "no tenant 'nobody'"),
        (["--tenant", "acme", "--orgs", "not-a-uuid", "--out", str(tmp_path / "a.zip")],
         "orgs"),
        (["--tenant", "acme", "--out", str(tmp_path / "missing" / "a.zip")], "no such folder"),
    ]
    for args, text in cases:
        r = bundle_cli(*base[:-1], *args)
        assert r.returncode != 0 and text in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert reg.seats_in_use("acme") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_download_names_are_safe_everywhere():
    from cloud.models import Workstation

    def ws(name: str) -> Workstation:
        return Workstation(id="x", tenant="acme", name=name, orgs=None, users=[], prefix="A7")

    assert download_name(ws("Ann's van / №2")) == "Outpost-A7-Ann-s-van-2.zip"
    assert download_name(ws("../../etc/passwd")) == "Outpost-A7-etc-passwd.zip"
    assert download_name(ws("Склад")) == "Outpost-A7-workstation.zip"


def test_cli_shows_a_progress_bar_on_a_terminal(cloud, tmp_path):
    reg, _ = cloud
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "outpost-bundle"), "create", "--data", str(reg.data_dir), "--tenant", "acme",
         "--name", "Van", "--out", str(tmp_path / "b.zip")],
        stdout=secondary, stderr=subprocess.PIPE, env=run_env(COLUMNS="100", TERM="xterm"))
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the terminal closed with the program
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    os.close(primary)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "Exporting the snapshot" in shown and "Bundle written" in shown


def test_a_tenant_of_an_older_store_format_is_upgraded_for_its_bundle(tmp_path):
    import apsw

    reg = Registry.init(tmp_path / "data")
    reg.create_tenant("acme", "starter")
    path = Path(reg.data_dir) / "tenants" / "acme.db"

    def as_format_1() -> str:  # the infobase as store format 1 left it; its organization's id
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        old = apsw.Connection(str(path))
        old.execute((Path(__file__).parents[1] / "core/data/store_format_1.sql").read_text())
        (org,) = [r[0] for r in old.execute("SELECT id FROM organizations")]
        old.close()
        return str(org)

    ws = reg.create_workstation("acme", "Depot", orgs=[as_format_1()], prefix="DP")
    as_format_1()  # a workstation made before the cloud was upgraded
    res = build_bundle_for(reg, ws, tmp_path / "depot.zip")
    assert res.counts["sales_invoices"] == 1 and res.counts["counterparties"] == 1
    with Store.open(path) as store:
        assert store.meta("store_format") == migrations.CURRENT
    reg.close()
