"""Workstation management for tenant admins: create (takes a seat), list, revoke, bundle."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from cloud.api import bundle
from cloud.api.auth import AdminUser, Reg
from cloud.api.models import ERRORS, ErrorOut, WorkstationIn, WorkstationList, WorkstationOut
from cloud.api.responses import JSONOut

router = APIRouter(prefix="/api/v1/tenants/{tenant}/workstations", tags=["workstations"],
                   responses=ERRORS)


@router.post("", status_code=201, responses={
    201: {"model": WorkstationOut},
    409: {"model": ErrorOut, "description": "no free licence seat, or the prefix is taken"},
})
def create_workstation(body: WorkstationIn, user: AdminUser, reg: Reg) -> Response:
    """Register a workstation; it takes one of the tenant's licence seats."""
    ws = reg.create_workstation(
        user.tenant, body.name, orgs=body.orgs, users=body.users, prefix=body.prefix,
        priority=body.priority, receive_only=body.receive_only, catalogs=body.catalogs,
    )
    return JSONOut(ws.to_json(), status_code=201,
                   headers={"Location": f"/api/v1/tenants/{user.tenant}/workstations/{ws.id}"})


@router.get("", responses={200: {"model": WorkstationList}})
def list_workstations(user: AdminUser, reg: Reg) -> Response:
    """Every workstation of the tenant, revoked ones too, and the licence seats."""
    tenant = reg.tenant(user.tenant)
    items = [ws.to_json() for ws in reg.list_workstations(user.tenant)]
    return JSONOut({"items": items, "tier": tenant.tier, "seats": tenant.seats,
                    "in_use": sum(1 for ws in items if ws["revoked_at"] is None)})


@router.get("/{id}", responses={200: {"model": WorkstationOut}})
def get_workstation(id: str, user: AdminUser, reg: Reg) -> Response:
    return JSONOut(reg.workstation(user.tenant, id).to_json())


@router.delete("/{id}", status_code=204)
def revoke_workstation(id: str, user: AdminUser, reg: Reg) -> Response:
    """Revoke the workstation: it may no longer sync, and its seat is free again."""
    reg.revoke_workstation(user.tenant, id)
    return Response(status_code=204)


@router.get("/{id}/bundle", responses={200: {"content": {"application/zip": {}},
                                             "description": "the bundle ZIP"}})
def download_bundle(id: str, user: AdminUser, reg: Reg) -> Response:
    return bundle.bundle_response(reg, user.tenant, id)
