"""The bundle ZIP: its members, a manifest that tells the truth, its signature, the ReadMe."""

from __future__ import annotations

import hashlib
import html
import json
import re
import zipfile

import pytest

import bundle_builder.bundle as bundle_mod
from bundle_builder import BundleSpec, write_bundle
from core import Store, signing
from core.version import __version__

WS = "5b0c2a8e-3f1d-4e7a-9c6b-1d2e3f4a5b6c"


def make(tenant, tmp_path, key, **kw):
    spec = BundleSpec(workstation=WS, name=kw.pop("name", "Van <b>&</b>"), tenant="acme",
                      cloud_url="https://cloud.example", prefix="VN", **kw)
    return write_bundle(tenant.path, spec, key, tmp_path / "Offline.zip")


def test_members_manifest_and_signature(tenant, tmp_path):
    key = signing.generate_key()
    org = tenant.orgs[0]
    res = make(tenant, tmp_path, key, orgs=[org], users=["ann"], catalogs="used")
    with zipfile.ZipFile(res.path) as zf:
        assert [i.filename for i in zf.infolist()] == [
            "InfoBase/infobase.db", "InfoBase/ReadMe.html", "manifest.json", "manifest.sig"]
        raw = zf.read("manifest.json")
        sig = zf.read("manifest.sig")
        m = json.loads(raw)
        for name in ("InfoBase/infobase.db", "InfoBase/ReadMe.html"):
            data = zf.read(name)
            assert m["files"][name] == {"sha256": hashlib.sha256(data).hexdigest(),
                                        "size": len(data)}
        db = zf.read("InfoBase/infobase.db")
    signing.verify(signing.public_key_b64(key), raw, sig)  # raises if it does not match
    with pytest.raises(signing.SignatureError):
        signing.verify(signing.public_key_b64(key), raw.replace(b"VN", b"XX"), sig)
    assert m["format"] == 1 and m["workstation"] == WS and m["tenant"] == "acme"
    assert m["cloud_url"] == "https://cloud.example" and m["prefix"] == "VN"
    assert m["orgs"] == [{"id": org, "name": "Org A"}] and m["all_orgs"] is False
    assert m["users"] == ["ann"] and m["catalogs"] == "used"
    assert m["min_version"] == __version__
    assert m["schema_name"] == "accounting" and m["schema_version"] == 1
    assert m["public_key"] == signing.public_key_b64(key)
    assert m["key_fingerprint"] == signing.fingerprint(m["public_key"]) == res.key_fingerprint
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["created_at"])
    with Store.open(tenant.path, readonly=True) as cloud:
        assert m["cursor"] == cloud.head() == res.cursor
    (tmp_path / "x.db").write_bytes(db)
    with Store.open(tmp_path / "x.db", readonly=True) as ws:
        assert ws.meta("workstation_id") == WS and ws.meta("cursor") == m["cursor"]
        assert ws.count("sales_invoices") == len(tenant.invoices[org]) == \
            res.counts["sales_invoices"]
    assert res.size == res.path.stat().st_size
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_readme_escapes_names_and_says_what_a_user_needs(tenant, tmp_path):
    key = signing.generate_key()
    with Store.open(tenant.path) as s:
        s.put("organizations", {"name": "<script>alert(1)</script> & Co"}, id=tenant.orgs[2])
    res = make(tenant, tmp_path, key, name='Van "<img src=x onerror=alert(1)>"')
    with zipfile.ZipFile(res.path) as zf:
        page = zf.read("InfoBase/ReadMe.html").decode("utf-8")
    assert "<script>" not in page and "<img" not in page
    assert html.escape("<script>alert(1)</script> & Co", quote=False) in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    fp = signing.fingerprint(signing.public_key_b64(key))
    assert page.count(fp) >= 2  # shown, and asked to be compared with the installer's
    assert f"version <strong>{__version__}</strong>" in page
    assert "<code>VN</code>" in page
    for org in ("Org A", "Org B"):
        assert org in page
    assert "outpost-install" in page and "Offline.zip" in page
    for step in ("outpost login", "outpost sync", "--uninstall", "Windows", "macOS", "Linux"):
        assert step in page


def test_a_failure_while_zipping_leaves_nothing_behind(tenant, tmp_path, monkeypatch):
    (tmp_path / "Offline.zip").write_bytes(b"the old one")

    def broken(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bundle_mod, "_write_bytes", broken)
    with pytest.raises(OSError):
        make(tenant, tmp_path, signing.generate_key())
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("tenant")) == [
        "Offline.zip"]
    assert (tmp_path / "Offline.zip").read_bytes() == b"the old one"
