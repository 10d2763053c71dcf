"""What the cloud and the workstation must agree on, defined once: the infobase."""

from core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    OutpostError,
    SchemaError,
    StoreError,
    Unauthorized,
    ValidationError,
)
from core.schema import Entity, Field, Schema, Section, default_schema, load_schema, parse_schema
from core.store import Store
from core.version import __version__

__all__ = [
    "Conflict",
    "Entity",
    "Field",
    "Forbidden",
    "NotFound",
    "OutpostError",
    "Schema",
    "SchemaError",
    "Section",
    "Store",
    "StoreError",
    "Unauthorized",
    "ValidationError",
    "__version__",
    "default_schema",
    "load_schema",
    "parse_schema",
]
