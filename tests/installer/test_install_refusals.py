"""Every hostile bundle is refused in one line, and leaves the home exactly as it was."""

from __future__ import annotations

import pytest

from core import signing
from daemon.home import Home
from installer import BundleRefused, Limits, install, verify_bundle
from installer.autostart import LinuxAutostart
from tests.installer.install_helpers import (
    Hostile,
    hostile_corpus,
    installer,
    members,
    snapshot,
    write_zip,
)

CORPUS = hostile_corpus()


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_refused_on_a_new_home_writing_nothing(case: Hostile, cloud, tmp_path, env):
    bad = case.make(cloud.bundle, tmp_path / "bad.zip", cloud.key, cloud.other)
    home = tmp_path / "user" / "outpost-home"
    strict = not case.extracted
    before = snapshot(tmp_path / "user", dir_times=strict)
    pin = ["--pin-key", cloud.public] if case.pin else []
    r = installer(str(bad), "--home", str(home), *pin, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("outpost-install: "), r.stderr
    assert case.refusal in lines[0]
    assert r.stdout == ""
    assert not home.exists()
    # no autostart entry, no stray temp file; for an outsider's bundle, not even a folder's mtime
    assert snapshot(tmp_path / "user", dir_times=strict) == before


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_refused_on_an_installed_home_leaving_it_untouched(case: Hostile, cloud, tmp_path):
    home = Home.at(tmp_path / "home")
    auto = LinuxAutostart(tmp_path / "autostart")
    install(cloud.bundle, home, autostart=auto, program=["outpost"])
    bad = case.make(cloud.bundle, tmp_path / "bad.zip", cloud.key, cloud.other)
    before = snapshot(tmp_path, dir_times=not case.extracted)
    with pytest.raises(BundleRefused) as err:
        install(bad, home, autostart=auto, program=["outpost"])  # the home pins the key
    assert case.refusal in err.value.message
    assert "\n" not in err.value.message
    assert snapshot(tmp_path, dir_times=not case.extracted) == before


def test_a_pinned_key_is_given_as_base64_or_fingerprint(cloud, tmp_path):
    fp = signing.fingerprint(cloud.public)
    for pin in (cloud.public, fp, fp.replace(":", "").lower()):
        assert verify_bundle(cloud.bundle, pinned_key=pin).workstation
        with pytest.raises(BundleRefused, match="this workstation trusts"):
            verify_bundle(cloud.foreign, pinned_key=pin)
    with pytest.raises(BundleRefused, match="neither a base64 public key nor a fingerprint"):
        verify_bundle(cloud.bundle, pinned_key="not a key")


def test_size_limits_bound_the_whole_bundle(cloud, tmp_path):
    """The database may compress well, but the total is bounded (the constant is 4 GiB)."""
    assert Limits().max_total == 4 * 1024**3
    size = sum(i.file_size for i, _ in members(cloud.bundle))
    with pytest.raises(BundleRefused, match="too large"):
        verify_bundle(cloud.bundle, limits=Limits(max_total=size - 1))
    assert verify_bundle(cloud.bundle, limits=Limits(max_total=size))
    with pytest.raises(BundleRefused, match="inflates"):
        verify_bundle(cloud.bundle, limits=Limits(max_database_ratio=1))


def test_a_forged_size_in_the_central_directory_is_refused(cloud, tmp_path):
    """A header that understates the database's size (to slip past the limits) is caught."""
    bad = write_zip(tmp_path / "bad.zip", members(cloud.bundle))
    data = bytearray(bad.read_bytes())
    name = b"InfoBase/infobase.db"
    pos = data.find(b"PK\x01\x02")  # central directory entries; the name is at offset 46
    while pos != -1 and data[pos + 46:pos + 46 + len(name)] != name:
        pos = data.find(b"PK\x01\x02", pos + 4)
    assert pos != -1
    real = int.from_bytes(data[pos + 24:pos + 28], "little")  # its uncompressed size
    data[pos + 24:pos + 28] = (real - 4096).to_bytes(4, "little")
    bad.write_bytes(bytes(data))
    home = Home.at(tmp_path / "home")
    with pytest.raises(BundleRefused, match=r"infobase\.db was altered"):
        install(bad, home, program=["outpost"])
    assert not home.root.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip"]
