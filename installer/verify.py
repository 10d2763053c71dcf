"""Checking a bundle ZIP before anything is written: shape, sizes, signature, hashes, version.

A bundle comes by e-mail or on a USB stick, so it is treated as hostile until proven otherwise:
only the four expected member names, no links, no paths that could leave a folder, bounded
sizes and compression ratios (a zip bomb is refused before it is inflated), a manifest signed by
the cloud's key (and by the key this workstation already trusts, if it trusts one), every
member's hash, and a minimum version this program meets. Each refusal is one line.

The member names and manifest fields are those of docs/bundle.md (written by bundle_builder;
kept here too because the installer ships without the cloud's packages).
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from core.bundle_format import DATABASE, FORMAT, MANIFEST, MEMBERS, README, SIGNATURE
from core.errors import OutpostError
from core.signing import SignatureError, fingerprint, verify
from core.version import __version__

SIGNATURE_SIZE = 64  # a raw Ed25519 signature
CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class BundleRefused(OutpostError):
    """The bundle cannot be installed; the message says why, in one line."""

    code = "bundle_refused"


@dataclass(frozen=True)
class Limits:
    """What a bundle may weigh. Deflate cannot exceed about 1032:1, so the database's ratio
    bound only catches forged headers; the total is what stops a bomb."""

    max_total: int = 4 * 1024**3  # uncompressed bytes of all members together
    max_ratio: int = 200  # uncompressed : compressed, for every member but the database
    max_database_ratio: int = 2000
    max_manifest: int = 1024 * 1024
    max_readme: int = 16 * 1024 * 1024


@dataclass(frozen=True)
class VerifiedBundle:
    path: Path
    manifest: dict[str, Any]
    manifest_bytes: bytes
    signature: bytes
    database: zipfile.ZipInfo

    @property
    def workstation(self) -> str:
        return str(self.manifest["workstation"])

    @property
    def database_sha256(self) -> str:
        return str(self.manifest["files"][DATABASE]["sha256"])

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["key_fingerprint"])


def verify_bundle(path: Path, *, pinned_key: str | None = None,
                  limits: Limits | None = None, database: bool = True) -> VerifiedBundle:
    """Everything about the bundle that can be checked without writing; raises BundleRefused.

    `database`: also stream the database through sha256 (read only). The installer checks the
    hash again while it extracts, so a file changed in between cannot slip through.
    """
    limits = limits or Limits()
    path = Path(path)
    if not path.is_file():
        raise BundleRefused(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = check_members(zf, limits)
            manifest_raw = _read(zf, infos[MANIFEST], limits.max_manifest)
            signature = _read(zf, infos[SIGNATURE], 1024)
            manifest = parse_manifest(manifest_raw)
            check_signature(manifest, manifest_raw, signature, pinned_key)
            check_version(manifest)
            check_files(manifest, infos)
            readme = _read(zf, infos[README], limits.max_readme)
            if hashlib.sha256(readme).hexdigest() != manifest["files"][README]["sha256"]:
                raise BundleRefused(f"{README} was altered: its hash does not match the manifest")
            if database:
                with zf.open(infos[DATABASE]) as src:
                    copy_checked(src, None, manifest["files"][DATABASE])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError,
            zlib.error, OSError) as exc:
        raise BundleRefused(f"{path.name} is not a readable bundle ZIP (damaged or truncated: "
                            f"{_one_line(exc)})") from None
    return VerifiedBundle(path, manifest, manifest_raw, signature, infos[DATABASE])


def check_members(zf: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """The four expected members, each a safe, plain, bounded file."""
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        name = info.filename
        unsafe = unsafe_name(name)
        if unsafe:
            raise BundleRefused(f"unsafe member name {name!r}: {unsafe}")
        mode = (info.external_attr >> 16) & 0o170000
        if stat.S_ISLNK(mode):
            raise BundleRefused(f"member {name!r} is a symbolic link; bundles hold plain files")
        if info.is_dir() or (mode and not stat.S_ISREG(mode)):
            raise BundleRefused(f"member {name!r} is not a plain file")
        if name not in MEMBERS:
            raise BundleRefused(f"unexpected member {name!r} (a bundle holds only "
                                f"{', '.join(MEMBERS)})")
        if name in infos:
            raise BundleRefused(f"member {name!r} appears twice")
        if info.flag_bits & 0x1:
            raise BundleRefused(f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleRefused(f"member {name!r} uses an unsupported compression method")
        infos[name] = info
    missing = [m for m in MEMBERS if m not in infos]
    if missing:
        raise BundleRefused(f"incomplete bundle: {', '.join(missing)} missing")
    total = sum(i.file_size for i in infos.values())
    if total > limits.max_total:
        raise BundleRefused(f"too large: {total:,} bytes uncompressed, at most "
                            f"{limits.max_total:,} allowed (a zip bomb?)")
    for name, info in infos.items():
        bound = limits.max_database_ratio if name == DATABASE else limits.max_ratio
        if info.file_size > bound * max(info.compress_size, 1) and info.file_size > 64 * 1024:
            raise BundleRefused(f"member {name!r} inflates {info.file_size:,} bytes from "
                                f"{info.compress_size:,} (more than {bound}:1; a zip bomb?)")
    if infos[MANIFEST].file_size > limits.max_manifest:
        raise BundleRefused(f"{MANIFEST} is too large ({infos[MANIFEST].file_size:,} bytes)")
    if infos[SIGNATURE].file_size != SIGNATURE_SIZE:
        raise BundleRefused(f"{SIGNATURE} is not an Ed25519 signature "
                            f"({infos[SIGNATURE].file_size} bytes, expected {SIGNATURE_SIZE})")
    if infos[README].file_size > limits.max_readme:
        raise BundleRefused(f"{README} is too large ({infos[README].file_size:,} bytes)")
    return infos


def unsafe_name(name: str) -> str | None:
    """Why a member name could write outside the folder it is extracted to, or None."""
    if not name:
        return "empty"
    if "\x00" in name or any(ord(c) < 0x20 for c in name):
        return "control characters"
    if "\\" in name:
        return "backslashes"
    if name.startswith("/") or _WINDOWS_DRIVE.match(name):
        return "an absolute path"
    if ".." in name.split("/"):
        return "a '..' component"
    return None


def parse_manifest(raw: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleRefused(f"{MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict):
        raise BundleRefused(f"{MANIFEST} is not a JSON object")
    fmt = manifest.get("format")
    if fmt != FORMAT:
        raise BundleRefused(f"bundle format {fmt!r} is not one this installer knows ({FORMAT}); "
                            "a newer Outpost may install it")
    expected: dict[str, type | tuple[type, ...]] = {
        "workstation": str, "name": str, "tenant": str, "cloud_url": str, "prefix": str,
        "orgs": list, "users": list, "min_version": str, "cursor": int, "public_key": str,
        "key_fingerprint": str, "files": dict, "schema_name": str, "schema_version": int,
    }
    for key, kind in expected.items():
        if not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool):
            raise BundleRefused(f"{MANIFEST}: field '{key}' is missing or malformed")
    for org in manifest["orgs"]:
        if not isinstance(org, dict) or not isinstance(org.get("id"), str):
            raise BundleRefused(f"{MANIFEST}: field 'orgs' is malformed")
    return manifest


def normalize_key(key: str) -> str:
    """A pinned key as a fingerprint (AB:CD:...), from a base64 key or a fingerprint."""
    text = key.strip()
    hexdigits = re.sub(r"[\s:]", "", text).upper()
    if re.fullmatch(r"[0-9A-F]{32}", hexdigits):
        return ":".join(hexdigits[i:i + 2] for i in range(0, 32, 2))
    try:
        return fingerprint(text)
    except SignatureError:
        raise BundleRefused(f"pinned key {key!r} is neither a base64 public key nor a "
                            "fingerprint") from None


def check_signature(manifest: dict[str, Any], raw: bytes, signature: bytes,
                    pinned_key: str | None) -> None:
    try:
        verify(manifest["public_key"], raw, signature)
        actual = fingerprint(manifest["public_key"])
    except SignatureError as exc:
        raise BundleRefused(f"bad signature: {exc.message}") from None
    if manifest["key_fingerprint"] != actual:
        raise BundleRefused(f"{MANIFEST}: key_fingerprint does not match its public key")
    if pinned_key is not None:
        trusted = normalize_key(pinned_key)
        if trusted != actual:
            raise BundleRefused(f"signed by cloud key {actual}, but this workstation trusts "
                                f"{trusted}; use --force only if your administrator replaced "
                                "the cloud's key")


def version_tuple(text: str) -> tuple[int, ...]:
    """1.2.3 (and 1.2.3rc1, 1.2.dev4: the leading numbers) as a comparable tuple."""
    parts: list[int] = []
    for piece in text.strip().split("."):
        m = re.match(r"^(\d+)", piece)
        if not m:
            break
        parts.append(int(m.group(1)))
        if m.end() != len(piece):
            break
    if not parts:
        raise BundleRefused(f"{MANIFEST}: min_version {text!r} is not a version")
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def check_version(manifest: dict[str, Any], *, current: str = __version__) -> None:
    needed = str(manifest["min_version"])
    if version_tuple(needed) > version_tuple(current):
        raise BundleRefused(f"this bundle needs Outpost {needed} or newer; this installer is "
                            f"{current}: get a newer installer")


def check_files(manifest: dict[str, Any], infos: dict[str, zipfile.ZipInfo]) -> None:
    files = manifest["files"]
    listed = set(files)
    wanted = {DATABASE, README}
    if listed != wanted:
        raise BundleRefused(f"{MANIFEST}: 'files' must list exactly {', '.join(sorted(wanted))}")
    for name in sorted(wanted):
        entry = files[name]
        if (not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str)
                or not _SHA256.match(entry["sha256"]) or not isinstance(entry.get("size"), int)):
            raise BundleRefused(f"{MANIFEST}: the entry for {name} is malformed")
        if entry["size"] != infos[name].file_size:
            raise BundleRefused(f"{name} was altered: {infos[name].file_size:,} bytes, the "
                                f"manifest says {entry['size']:,}")


def copy_checked(src: IO[bytes], dst: IO[bytes] | None, expected: dict[str, Any]) -> None:
    """Stream the database from the ZIP (into `dst`, if given), checking size and sha256."""
    h = hashlib.sha256()
    size = 0
    while chunk := src.read(CHUNK):
        size += len(chunk)
        if size > expected["size"]:
            raise BundleRefused(f"{DATABASE} is larger than the manifest says")
        h.update(chunk)
        if dst is not None:
            dst.write(chunk)
    if size != expected["size"] or h.hexdigest() != expected["sha256"]:
        raise BundleRefused(f"{DATABASE} was altered: its hash does not match the manifest")


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A small member, read whole; never more than `limit` bytes, whatever its header says."""
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise BundleRefused(f"member {info.filename!r} is larger than {limit:,} bytes")
    return data


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
