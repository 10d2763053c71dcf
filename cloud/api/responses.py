"""JSON responses rendered with orjson, and the one shape every error takes."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class JSONOut(JSONResponse):
    """Fast JSON: pages of objects are rendered without FastAPI's generic encoder."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(
    status: int, code: str, message: str, *, field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONOut:
    """`{"error": code, "message": message}`, plus `field` when one field is at fault."""
    body: dict[str, Any] = {"error": code, "message": message}
    if field:
        body["field"] = field
    return JSONOut(body, status_code=status, headers=headers)
