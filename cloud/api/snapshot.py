"""A fresh copy of one workstation's infobase, for a workstation that must refresh its data.

The same export as a bundle's database (bundle_builder), streamed as a file and removed once
sent; the cursor it was taken at travels in the X-Outpost-Cursor header.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from cloud.models import Workstation
from cloud.registry import Registry


def snapshot_response(reg: Registry, ws: Workstation) -> Response:
    from bundle_builder.export import ExportSpec, export_infobase  # the server's optional part

    scratch = Path(reg.data_dir) / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="snapshot-", dir=scratch))
    try:
        dest = folder / "infobase.db"
        result = export_infobase(
            reg.tenant_path(ws.tenant), dest,
            ExportSpec(workstation_id=ws.id, tenant=ws.tenant, prefix=ws.prefix,
                       orgs=ws.orgs, catalogs=ws.catalogs, priority=ws.priority,
                       receive_only=ws.receive_only, cloud_url=reg.url),
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        dest, media_type="application/vnd.sqlite3",
        headers={"X-Outpost-Cursor": str(result.cursor)},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
