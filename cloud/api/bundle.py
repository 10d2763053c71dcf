"""Serving a workstation's bundle over the API. One function, so it can be swapped whole."""

from __future__ import annotations

from starlette.responses import Response

from cloud.api.responses import error_response
from cloud.registry import Registry


def bundle_response(registry: Registry, tenant: str, workstation_id: str) -> Response:
    """The workstation's bundle ZIP; not served by this version (use `outpost-bundle create`)."""
    registry.workstation(tenant, workstation_id)  # 404 for a workstation that does not exist
    return error_response(501, "not_implemented", "bundle download is not available yet; "
                          "make the bundle with 'outpost-bundle create'")
