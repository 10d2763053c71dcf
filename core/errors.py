"""Errors that carry a one-line message fit for a user, and the HTTP status they map to.

Every layer raises these; the CLIs print `message` on one line and the cloud API answers
`{"error": code, "message": message}` with `status`. Nothing else should reach a user.
"""

from __future__ import annotations


class OutpostError(Exception):
    """Base of every error a user may see."""

    status: int = 400
    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SchemaError(OutpostError):
    """The schema file is malformed; the message names the file and the place."""

    code = "schema_error"


class ValidationError(OutpostError):
    """An object does not fit its entity; the message names the field."""

    status = 422
    code = "invalid_object"

    def __init__(self, message: str, *, entity: str | None = None, field: str | None = None):
        super().__init__(message)
        self.entity = entity
        self.field = field


class MissingReference(ValidationError):
    """A reference names no object. Told apart from other invalid objects (the same code over
    HTTP) because sync retries such a change once what it refers to may have arrived."""


class NotFound(OutpostError):
    status = 404
    code = "not_found"


class Conflict(OutpostError):
    status = 409
    code = "conflict"


class Unauthorized(OutpostError):
    status = 401
    code = "unauthorized"


class Forbidden(OutpostError):
    status = 403
    code = "forbidden"


class StoreError(OutpostError):
    """The database file cannot be used (missing, not an infobase, newer schema, locked)."""

    status = 500
    code = "store_error"
