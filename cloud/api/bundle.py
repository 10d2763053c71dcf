"""Serving a workstation's bundle over the API: a fresh snapshot, signed, removed once sent."""

from __future__ import annotations

import shutil

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from cloud.registry import Registry


def bundle_response(registry: Registry, tenant: str, workstation_id: str) -> Response:
    """The workstation's bundle ZIP, built now (a revoked workstation gets 409)."""
    from bundle_builder import build_bundle_file  # the server's optional part

    ws = registry.workstation(tenant, workstation_id)  # 404 for one that does not exist
    result = build_bundle_file(registry, ws)
    return FileResponse(
        result.path, media_type="application/zip", filename=result.path.name,
        background=BackgroundTask(shutil.rmtree, result.path.parent, True),
    )
