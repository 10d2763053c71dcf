"""Request bodies, and response shapes for the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ObjectIn(BaseModel):
    """A put: the fields to set. Fields left out keep their values; a tabular section given
    replaces the section. Other keys of an object read back (id, entity, ...) are ignored."""

    model_config = ConfigDict(extra="ignore")
    fields: dict[str, Any]


class ObjectOut(BaseModel):
    id: str
    entity: str
    org: str | None
    version: int
    fields: dict[str, Any]


class Page(BaseModel):
    items: list[ObjectOut]
    next: str | None = Field(description="pass as `after` for the next page; null at the end")


class WorkstationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    orgs: list[str] | None = Field(None, description="organization ids; null for all")
    users: list[str] | None = Field(None, description="logins that may sync it; [] or null "
                                    "for every user and sync account of the tenant")
    prefix: str | None = Field(None, description="two characters A-Z/0-9; chosen if null")
    priority: Literal["cloud", "workstation", "newest"] = "cloud"
    receive_only: list[str] = Field(default_factory=list)
    catalogs: Literal["all", "used"] = "all"


class WorkstationOut(BaseModel):
    id: str
    tenant: str
    name: str
    orgs: list[str] | None
    users: list[str]
    prefix: str
    priority: str
    receive_only: list[str]
    catalogs: str
    created_at: str
    revoked_at: str | None


class WorkstationList(BaseModel):
    items: list[WorkstationOut]
    tier: str
    seats: int
    in_use: int


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class ErrorOut(BaseModel):
    error: str
    message: str
    field: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in [
        (400, "malformed JSON"), (401, "missing or wrong credentials"),
        (403, "the role may not do this"), (404, "no such object"),
        (422, "invalid input; the message names the field"),
    ]
}
