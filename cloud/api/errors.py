"""Every error the API answers has the shape {"error": code, "message": "..."}.

Outpost's own errors carry their status; FastAPI's validation errors and HTTP exceptions are
reshaped to match; malformed JSON is 400; anything unexpected is a 500 without a traceback
(logged on the server). Bad input must be caught before it gets that far.
"""

from __future__ import annotations

import logging
from typing import Any

import apsw
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from cloud.api.responses import error_response
from core.errors import OutpostError, StoreError, ValidationError

log = logging.getLogger("outpost.cloud")
REALM = 'Basic realm="outpost", charset="UTF-8"'
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
              413: "too_large", 415: "unsupported_media_type", 422: "invalid_request",
              429: "too_many_requests", 501: "not_implemented", 503: "unavailable"}


class UnknownEntity(ValidationError):
    code = "unknown_entity"


def install(app: FastAPI) -> None:
    app.add_exception_handler(OutpostError, _outpost_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(apsw.BusyError, _busy)
    app.add_exception_handler(Exception, _unexpected)


async def _outpost_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OutpostError)
    if isinstance(exc, StoreError):
        log.error("store error on %s %s: %s", request.method, request.url.path, exc.message)
        return error_response(503, exc.code, "the service cannot use its database right now")
    headers = {"WWW-Authenticate": REALM} if exc.status == 401 else None
    field = exc.field if isinstance(exc, ValidationError) else None
    return error_response(exc.status, exc.code, exc.message, field=field, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: list[Any] = list(exc.errors())
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "malformed")
        where = first.get("loc", ("body", 0))[-1]
        return error_response(400, "bad_json",
                              f"the request body is not valid JSON: {reason} (at {where})")
    loc = [str(p) for p in first.get("loc", ("body",))]
    field = ".".join(loc[1:]) or loc[0]
    message = str(first.get("msg", "invalid request"))
    if loc == ["body"] and isinstance(first.get("input"), bytes | bytearray):
        message = "expected a JSON object (send it with Content-Type: application/json)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return error_response(422, "invalid_request", f"{field}: {message}{more}", field=field)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such resource: {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = REALM
    return error_response(exc.status_code, code, message, headers=headers or None)


async def _busy(request: Request, exc: Exception) -> Response:
    log.warning("database busy on %s %s", request.method, request.url.path)
    return error_response(503, "busy", "the database is busy; try again shortly",
                          headers={"Retry-After": "1"})


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path,
              exc_info=(type(exc), exc, exc.__traceback__))
    return error_response(500, "internal_error", "an unexpected error occurred on the server")
