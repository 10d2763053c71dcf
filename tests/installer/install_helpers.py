"""Helpers of the installer tests: real bundles, and a corpus of hostile ones made from them."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import apsw
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundle_builder import BundleSpec, write_bundle
from bundle_builder.manifest import manifest_bytes
from core import Store, default_schema, signing
from tests.bundle.bundle_helpers import Tenant, fill_tenant

BIN = Path(sys.executable).parent
DB = "InfoBase/infobase.db"
README = "InfoBase/ReadMe.html"


def make_tenant(folder: Path) -> Tenant:
    with Store.create(folder / "tenant.db", default_schema(), prefix="00") as store:
        return fill_tenant(store, per_org=3)


def make_bundle(tenant: Tenant, out: Path, key: Ed25519PrivateKey, *, workstation: str,
                name: str = "Laptop", prefix: str = "LP", orgs: list[str] | None = None,
                ) -> Path:
    spec = BundleSpec(workstation=workstation, name=name, tenant="acme",
                      cloud_url="http://127.0.0.1:8750", prefix=prefix, orgs=orgs)
    write_bundle(tenant.path, spec, key, out)
    return out


Member = tuple[zipfile.ZipInfo, bytes]


def members(path: Path) -> list[Member]:
    with zipfile.ZipFile(path) as zf:
        return [(i, zf.read(i)) for i in zf.infolist()]


def write_zip(path: Path, items: list[Member]) -> Path:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # a duplicate name is one of the hostile cases
        for info, data in items:
            zf.writestr(info, data)
    return path


def replace(items: list[Member], name: str, data: bytes) -> list[Member]:
    return [(i, data if i.filename == name else d) for i, d in items]


def info(name: str, *, mode: int = 0o100644) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.create_system = 3
    zi.external_attr = mode << 16
    return zi


def manifest_of(items: list[Member]) -> dict:
    return json.loads(next(d for i, d in items if i.filename == "manifest.json"))


def resign(items: list[Member], key: Ed25519PrivateKey, manifest: dict,
           *, as_key: Ed25519PrivateKey | None = None) -> list[Member]:
    """The members with `manifest`, signed by `key` (and naming `as_key`'s public key)."""
    public = signing.public_key_b64(as_key or key)
    manifest = {**manifest, "public_key": public, "key_fingerprint": signing.fingerprint(public)}
    body = manifest_bytes(manifest)
    out = replace(items, "manifest.json", body)
    return replace(out, "manifest.sig", signing.sign(key, body))


def with_database(items: list[Member], key: Ed25519PrivateKey, db: bytes) -> list[Member]:
    """A different database, listed honestly in a manifest signed by the right key."""
    m = manifest_of(items)
    m["files"][DB] = {"sha256": hashlib.sha256(db).hexdigest(), "size": len(db)}
    return resign(replace(items, DB, db), key, m)


def edit_db(data: bytes, folder: Path, sql: str) -> bytes:
    p = folder / "edit.db"
    p.write_bytes(data)
    conn = apsw.Connection(str(p))
    conn.execute(sql)
    conn.close()
    out = p.read_bytes()
    p.unlink()
    return out


@dataclass
class Hostile:
    name: str
    make: Callable[[Path, Path, Ed25519PrivateKey, Ed25519PrivateKey], Path]
    refusal: str  # a fragment of the one-line refusal
    pin: bool = False  # needs the workstation to trust the genuine key
    # Signed by the genuine key (an inconsistent bundle, not an outsider's): refused only after
    # the database was extracted to a temporary file, which is removed again.
    extracted: bool = False


def hostile_corpus() -> list[Hostile]:
    """Bundles an installer must refuse, each made from a genuine one (`good`)."""

    def from_items(change: Callable[[list[Member], Ed25519PrivateKey, Ed25519PrivateKey, Path],
                                    list[Member]]):
        def make(good: Path, out: Path, key: Ed25519PrivateKey,
                 other: Ed25519PrivateKey) -> Path:
            return write_zip(out, change(members(good), key, other, out.parent))
        return make

    def flip(data: bytes) -> bytes:
        mid = len(data) // 2
        return data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]

    def truncated(good: Path, out: Path, key, other) -> Path:
        out.write_bytes(good.read_bytes()[: good.stat().st_size * 3 // 5])
        return out

    def not_a_zip(good: Path, out: Path, key, other) -> Path:
        out.write_text("this is not a bundle\n" * 100)
        return out

    return [
        Hostile("bad signature", from_items(
            lambda it, k, o, d: replace(it, "manifest.sig", os.urandom(64))), "bad signature"),
        Hostile("edited manifest", from_items(lambda it, k, o, d: replace(
            it, "manifest.json", manifest_bytes({**manifest_of(it), "prefix": "ZZ"}))),
            "bad signature"),
        Hostile("edited database", from_items(
            lambda it, k, o, d: replace(it, DB, flip(next(x for i, x in it if i.filename == DB)))),
            "infobase.db was altered"),
        Hostile("edited readme", from_items(lambda it, k, o, d: replace(
            it, README, next(x for i, x in it if i.filename == README).replace(
                b"</body>", b"<script>steal()</script></body>"))), "ReadMe.html was altered"),
        Hostile("signed by a key other than the manifest's", from_items(
            lambda it, k, o, d: resign(it, o, manifest_of(it), as_key=k)), "bad signature"),
        Hostile("signed by a key the workstation does not trust", from_items(
            lambda it, k, o, d: resign(it, o, manifest_of(it))), "this workstation trusts",
            pin=True),
        Hostile("zip-slip name", from_items(
            lambda it, k, o, d: [*it, (info("../evil.txt"), b"gotcha")]), "'..' component"),
        Hostile("zip-slip nested name", from_items(
            lambda it, k, o, d: [(info("InfoBase/../../evil.db") if i.filename == DB else i, x)
                                 for i, x in it]), "'..' component"),
        Hostile("absolute path", from_items(
            lambda it, k, o, d: [*it, (info("/tmp/evil.txt"), b"gotcha")]), "absolute path"),
        Hostile("windows absolute path", from_items(
            lambda it, k, o, d: [*it, (info("C:/Windows/evil.txt"), b"gotcha")]),
            "absolute path"),
        Hostile("backslash name", from_items(
            lambda it, k, o, d: [*it, (info("..\\evil.txt"), b"gotcha")]), "backslashes"),
        Hostile("symlink member", from_items(
            lambda it, k, o, d: [(info(README, mode=stat.S_IFLNK | 0o777), b"/etc/passwd")
                                 if i.filename == README else (i, x) for i, x in it]),
            "symbolic link"),
        Hostile("zip bomb", from_items(
            lambda it, k, o, d: replace(it, README, bytes(64 * 1024 * 1024))), "zip bomb"),
        Hostile("truncated zip", truncated, "damaged or truncated"),
        Hostile("not a zip at all", not_a_zip, "damaged or truncated"),
        Hostile("version too new", from_items(
            lambda it, k, o, d: resign(it, k, {**manifest_of(it), "min_version": "99.0.0"})),
            "needs Outpost 99.0.0 or newer"),
        Hostile("unknown bundle format", from_items(
            lambda it, k, o, d: resign(it, k, {**manifest_of(it), "format": 2})),
            "bundle format 2"),
        Hostile("unexpected member", from_items(
            lambda it, k, o, d: [*it, (info("InfoBase/autorun.sh"), b"rm -rf ~")]),
            "unexpected member"),
        Hostile("missing signature", from_items(
            lambda it, k, o, d: [(i, x) for i, x in it if i.filename != "manifest.sig"]),
            "manifest.sig missing"),
        Hostile("duplicate member", from_items(
            lambda it, k, o, d: [*it, next((i, x) for i, x in it if i.filename == DB)]),
            "appears twice"),
        Hostile("database of another workstation", from_items(
            lambda it, k, o, d: with_database(it, k, edit_db(
                next(x for i, x in it if i.filename == DB), d,
                "UPDATE _meta SET value = 'someone-else' WHERE key = 'workstation_id'"))),
            "does not match the manifest", extracted=True),
        Hostile("database that is no infobase", from_items(
            lambda it, k, o, d: with_database(it, k, os.urandom(8192))),
            "not a usable infobase", extracted=True),
    ]


def snapshot(*folders: Path, dir_times: bool = True) -> dict[str, tuple[int, int, str]]:
    """Every file and folder under `folders`: size, mtime and content hash (and with
    `dir_times`, the folders' mtimes: any file made and removed again changes them)."""
    out: dict[str, tuple[int, int, str]] = {}
    for folder in folders:
        if not folder.exists():
            out[str(folder)] = (-1, -1, "absent")
            continue
        for p in sorted([folder, *folder.rglob("*")]):
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            when = st.st_mtime_ns if p.is_file() or dir_times else 0
            out[str(p)] = (st.st_size if p.is_file() else 0, when, digest)
    return out


def installer(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "outpost-install"), *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
