"""Bundles for the cloud's workstations: take a seat, export, sign; or rebuild for one.

The registry is the cloud's (cloud.registry.Registry); only its documented methods are used,
and the tenant's file is found by the data folder's layout (DATA/tenants/<tenant>.db).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bundle_builder.bundle import BundleResult, BundleSpec, StageProgress, write_bundle
from core.errors import Conflict, StoreError, ValidationError

if TYPE_CHECKING:
    from cloud.models import Workstation
    from cloud.registry import Registry

CATALOG_CHOICES = ("all", "used")


def tenant_db(registry: Registry, tenant: str) -> Path:
    registry.tenant(tenant)  # NotFound with a clear message
    path = Path(registry.data_dir) / "tenants" / f"{tenant}.db"
    if not path.is_file():
        raise StoreError(f"{path}: the tenant's infobase is missing")
    registry.tenant_store(tenant).close()  # opening upgrades a file of an older store format
    return path


def spec_for(registry: Registry, ws: Workstation) -> BundleSpec:
    return BundleSpec(
        workstation=ws.id, name=ws.name, tenant=ws.tenant, cloud_url=registry.url,
        prefix=ws.prefix, orgs=None if ws.orgs is None else list(ws.orgs),
        users=list(ws.users), priority=ws.priority, receive_only=list(ws.receive_only),
        catalogs=ws.catalogs,
    )


def build_bundle_for(
    registry: Registry, workstation: Workstation, out_path: Path, *,
    progress: StageProgress | None = None, snapshot_hook: Callable[[], None] | None = None,
) -> BundleResult:
    """Write the bundle of an existing, active workstation to `out_path` (a fresh snapshot)."""
    if workstation.revoked_at is not None:
        raise Conflict(f"workstation '{workstation.name}' ({workstation.id}) was revoked "
                       f"at {workstation.revoked_at}; create a new one")
    return write_bundle(
        tenant_db(registry, workstation.tenant), spec_for(registry, workstation),
        registry.signing_key(), out_path, progress=progress, snapshot_hook=snapshot_hook,
    )


def build_bundle_file(
    registry: Registry, workstation: Workstation, folder: Path | None = None,
) -> BundleResult:
    """The workstation's bundle in a new private folder (inside `folder`, else the system's
    temporary folder), named for download. The caller removes `result.path.parent` when done:
    the cloud's GET .../workstations/{id}/bundle sends it and removes it in a background task.
    """
    work = Path(tempfile.mkdtemp(prefix="outpost-bundle-", dir=folder))
    try:
        return build_bundle_for(registry, workstation, work / download_name(workstation))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def download_name(workstation: Workstation) -> str:
    """A file name a person recognises, safe on every platform: Outpost-<prefix>-<name>.zip."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", workstation.name).strip("-")[:40] or "workstation"
    return f"Outpost-{workstation.prefix}-{slug}.zip"


def create_bundle(
    registry: Registry, tenant: str, out_path: Path, name: str, *,
    orgs: Sequence[str] | None = None, users: Sequence[str] | None = None,
    prefix: str | None = None, catalogs: str = "all", progress: StageProgress | None = None,
) -> BundleResult:
    """Create a workstation (taking a licence seat) and write its bundle to `out_path`.

    Nothing is written when no seat is free; if the export fails after the seat was taken,
    the new workstation is revoked again so that the seat is not lost.
    """
    out = Path(out_path).absolute()
    if catalogs not in CATALOG_CHOICES:
        raise ValidationError(f"catalogs: must be all or used, got {catalogs!r}",
                              field="catalogs")
    if out.is_dir():
        raise ValidationError(f"{out}: is a folder; give the path of the ZIP to write")
    if not out.parent.is_dir():
        raise ValidationError(f"{out.parent}: no such folder")
    tenant_db(registry, tenant)
    ws = registry.create_workstation(tenant, name, orgs=orgs, users=users, prefix=prefix,
                                     catalogs=catalogs)
    try:
        return build_bundle_for(registry, ws, out, progress=progress)
    except BaseException:
        with contextlib.suppress(Exception):
            registry.revoke_workstation(tenant, ws.id)
        raise
