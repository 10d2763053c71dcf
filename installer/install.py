"""Installing a verified bundle into a workstation's home, and removing it again.

Order matters: everything that can be checked is checked before the first write (the ZIP, the
signature, the hashes, the version, the existing home's unsent changes); the database is then
extracted beside the home, its hash checked while it streams, opened as an infobase, and only
then renamed into place. A refusal leaves the disk exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw

from core import migrations
from core.bundle_format import DATABASE
from core.errors import Conflict, OutpostError, StoreError
from core.store import Store
from daemon import config as config_mod
from daemon.config import Config
from daemon.home import Home
from installer.autostart import Autostart
from installer.launch import daemon_command, outpost_program, start_daemon
from installer.verify import (
    BundleRefused,
    Limits,
    VerifiedBundle,
    copy_checked,
    verify_bundle,
)

STATE_MANIFEST = "manifest.json"
STATE_SIGNATURE = "manifest.sig"
SPARE_BYTES = 64 * 1024 * 1024  # free space kept beyond the database when extracting
STOP_TIMEOUT = 15


@dataclass
class InstallResult:
    home: Path
    action: str  # "installed", "replaced" or "unchanged"
    bundle: VerifiedBundle
    autostart: Path | None = None
    started: int | None = None  # pid of the daemon started with --start
    program: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        m = self.bundle.manifest
        return {
            "action": self.action, "home": str(self.home),
            "database": str(Home(self.home).database), "workstation": m["workstation"],
            "name": m["name"], "tenant": m["tenant"], "cloud_url": m["cloud_url"],
            "orgs": m["orgs"], "prefix": m["prefix"], "cursor": m["cursor"],
            "key_fingerprint": self.bundle.fingerprint,
            "autostart": None if self.autostart is None else str(self.autostart),
            "started": self.started,
        }


@dataclass
class UninstallResult:
    home: Path
    autostart: Path | None  # the entry removed, if there was one
    data_removed: bool

    def to_json(self) -> dict[str, Any]:
        return {"home": str(self.home), "data_removed": self.data_removed,
                "autostart": None if self.autostart is None else str(self.autostart)}


def install(
    bundle_path: Path, home: Home, *, force: bool = False, autostart: Autostart | None = None,
    pin_key: str | None = None, start: bool = False, limits: Limits | None = None,
    program: list[str] | None = None,
) -> InstallResult:
    """Verify `bundle_path` and install it into `home`; see the module's docstring."""
    old = _existing_config(home)
    pinned = pin_key
    if pinned is None and old is not None and old.cloud_key and not force:
        pinned = old.cloud_key
    bundle = verify_bundle(bundle_path, pinned_key=pinned, limits=limits)
    pending = pending_changes(home, force=force)
    if not force and pending:
        raise Conflict(f"{home.database} holds {pending} change(s) not yet sent to the cloud; "
                       "sync first ('outpost sync'), or use --force to discard them")
    if not force and _same_bundle(home, bundle) and home.installed():
        return InstallResult(home.root, "unchanged", bundle, program=tuple(program or ()))
    tmp = extract_database(bundle, _staging_dir(home.root))
    try:
        check_database(tmp, bundle.manifest)
        replacing = home.database.exists()
        if replacing:
            stop_daemon(home, program)
        home.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        home.logs.mkdir(exist_ok=True)
        home.state.mkdir(exist_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):  # a stale WAL must never meet the new file
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{home.database}{suffix}")
        os.replace(tmp, home.database)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    config_mod.save(home.config, config_from(bundle.manifest, old))
    _write_atomic(home.state / STATE_SIGNATURE, bundle.signature)
    _write_atomic(home.state / STATE_MANIFEST, bundle.manifest_bytes)
    result = InstallResult(home.root, "replaced" if replacing else "installed", bundle,
                           program=tuple(program or outpost_program()))
    command = daemon_command(home.root, list(result.program))
    if autostart is not None:
        result.autostart = autostart.register(home.root, command)
    if start:
        result.started = start_daemon(command, home.logs / "daemon-start.log")
    return result


def config_from(manifest: dict[str, Any], old: Config | None) -> Config:
    """The settings from the signed manifest; a user's own choices survive a reinstall."""
    cfg = Config()
    if old is not None:
        for key in config_mod.USER_KEYS:
            setattr(cfg, key, getattr(old, key))
    cfg.workstation = manifest["workstation"]
    cfg.name = manifest["name"]
    cfg.tenant = manifest["tenant"]
    cfg.cloud_url = manifest["cloud_url"]
    cfg.cloud_key = manifest["public_key"]
    cfg.orgs = [] if manifest.get("all_orgs") else [str(o["id"]) for o in manifest["orgs"]]
    cfg.prefix = manifest["prefix"]
    return cfg


def pending_changes(home: Home, *, force: bool = False) -> int:
    """Local changes in the home's database not yet sent (0 if there is no database).

    Read without leaving a trace: a read-only open of a WAL database would create its -wal and
    -shm files, so when there is no -wal (everything is in the main file) it is opened as
    immutable; when there is one, those files exist already.
    """
    db = home.database
    if not db.exists():
        return 0
    try:
        if Path(f"{db}-wal").exists():
            conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
        else:
            conn = apsw.Connection(f"{db.absolute().as_uri()}?immutable=1",
                                   flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
        try:
            conn.set_busy_timeout(5000)
            row = conn.execute("SELECT count(*) FROM _journal WHERE origin IS NULL").fetchone()
        finally:
            conn.close()
        return int(row[0]) if row else 0
    except (apsw.Error, OSError) as exc:
        if force:
            return 0
        raise Conflict(f"cannot tell whether {db} holds unsent changes ({exc}); "
                       "use --force to replace it anyway") from None


def extract_database(bundle: VerifiedBundle, folder: Path) -> Path:
    """The bundle's database in a new file in `folder`, its size and sha256 checked on the way."""
    info = bundle.database
    expected = bundle.manifest["files"][DATABASE]
    free = shutil.disk_usage(folder).free
    if free < info.file_size + SPARE_BYTES:
        raise BundleRefused(f"not enough free space in {folder}: the database needs "
                            f"{info.file_size:,} bytes, {free:,} are free")
    fd, name = tempfile.mkstemp(prefix=".outpost-install-", suffix=".db", dir=folder)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, zipfile.ZipFile(bundle.path) as zf, \
                zf.open(info) as src:
            copy_checked(src, out, expected)
            out.flush()
            os.fsync(out.fileno())
    except (zipfile.BadZipFile, EOFError, ValueError, zlib.error) as exc:
        os.unlink(tmp)
        raise BundleRefused(f"{DATABASE} cannot be read from the bundle (damaged: {exc})") \
            from None
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def check_database(path: Path, manifest: dict[str, Any]) -> None:
    """The extracted file is the infobase the manifest describes, in a format we know."""
    try:
        with Store.open(path, readonly=True) as store:
            meta = dict(store.conn.execute("SELECT key, value FROM _meta"))
    except OutpostError as exc:
        raise BundleRefused(f"{DATABASE} is not a usable infobase: {exc.message}") from None
    fmt = int(meta.get("store_format") or 0)
    if fmt > migrations.CURRENT:
        raise BundleRefused(f"{DATABASE} has store format {fmt}; this Outpost knows "
                            f"{migrations.CURRENT}: get a newer installer")
    wanted = {
        "node": "workstation", "workstation_id": manifest["workstation"],
        "prefix": manifest["prefix"], "schema_name": manifest["schema_name"],
        "schema_version": manifest["schema_version"], "cursor": manifest["cursor"],
    }
    for key, value in wanted.items():
        if meta.get(key) != value:
            raise BundleRefused(f"{DATABASE} does not match the manifest ({key} is "
                                f"{meta.get(key)!r}, expected {value!r})")


def uninstall(home: Home, *, keep_data: bool = False, force: bool = False,
              autostart: Autostart | None = None, program: list[str] | None = None,
              ) -> UninstallResult:
    """Remove the autostart entry and, unless `keep_data`, the home's data."""
    looks_installed = _is_outpost_home(home)
    if not keep_data and looks_installed and not force:
        pending = pending_changes(home)
        if pending:
            raise Conflict(f"{home.database} holds {pending} change(s) not yet sent to the "
                           "cloud; sync first, keep the data with --keep-data, or use --force")
    if looks_installed:
        stop_daemon(home, program)
    removed = autostart.unregister(home.root) if autostart is not None else None
    data_removed = False
    if not keep_data and looks_installed:
        _forget_credentials(home)
        shutil.rmtree(home.root)
        data_removed = True
    return UninstallResult(home.root, removed, data_removed)


def _forget_credentials(home: Home) -> None:
    """Remove the workstation's token from the OS keyring too, not only the home's files."""
    cfg = _existing_config(home)
    if cfg is not None:
        from daemon.sync.credentials import Credentials

        with contextlib.suppress(OutpostError, OSError):
            Credentials.of(home, cfg.tenant, cfg.workstation).clear()


def stop_daemon(home: Home, program: list[str] | None) -> None:
    """Ask a running daemon to stop before its files change; quiet if there is none."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run([*(program or outpost_program()), "--home", str(home.root), "stop"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=STOP_TIMEOUT, check=False)


def _existing_config(home: Home) -> Config | None:
    if not home.config.exists():
        return None
    try:
        return config_mod.load(home.config)
    except OutpostError:
        return None


def _same_bundle(home: Home, bundle: VerifiedBundle) -> bool:
    try:
        installed = json.loads((home.state / STATE_MANIFEST).read_bytes())
        return bool(
            installed.get("workstation") == bundle.workstation
            and installed["files"][DATABASE]["sha256"] == bundle.database_sha256
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _is_outpost_home(home: Home) -> bool:
    if home.database.exists() or (home.state / STATE_MANIFEST).exists():
        return True
    cfg = _existing_config(home)
    return cfg is not None and bool(cfg.workstation)


def _staging_dir(root: Path) -> Path:
    """The home if it exists, else its nearest existing parent: where nothing is created yet."""
    p = root
    while not p.is_dir():
        if p.parent == p:
            raise StoreError(f"{root}: no existing folder to install into")
        p = p.parent
    return p


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
