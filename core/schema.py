"""The schema description: entities, their fields and tabular sections, loaded from TOML.

One file describes an application; both the cloud and the workstation build their tables,
triggers and validation from it, so the two sides can never disagree about the shape of data.
The format is documented in docs/schema-format.md.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from core.errors import SchemaError

FORMAT = 1
FieldType = Literal["string", "integer", "number", "boolean", "date", "ref"]
FIELD_TYPES: tuple[str, ...] = ("string", "integer", "number", "boolean", "date", "ref")
SQL_TYPES: dict[str, str] = {
    "string": "TEXT",
    "integer": "INTEGER",
    "number": "REAL",
    "boolean": "INTEGER",
    "date": "TEXT",
    "ref": "TEXT",
}
# Names that would clash with the columns and tables Outpost adds itself.
RESERVED = {"id", "owner", "line_no", "rowid", "oid", "_rowid_"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    required: bool = False
    to: str | None = None
    numbered: bool = False
    max_length: int | None = None

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Section:
    """A tabular section: rows owned by one object, stored in table `<entity>_<name>`."""

    name: str
    table: str
    fields: tuple[Field, ...]

    @cached_property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)


@dataclass(frozen=True)
class Entity:
    name: str
    kind: Literal["catalog", "document"]
    organization: str  # "self", "none", or the name of the field holding the organization
    fields: tuple[Field, ...]
    sections: tuple[Section, ...] = ()

    @property
    def table(self) -> str:
        return self.name

    @property
    def org_field(self) -> str | None:
        """The column that holds the object's organization, if it is a field."""
        return None if self.organization in ("self", "none") else self.organization

    @property
    def shared(self) -> bool:
        return self.organization == "none"

    def org_of(self, oid: str, fields: dict[str, Any]) -> str | None:
        """The organization an object belongs to: itself (an organization), its organization
        field's value, or None (a shared catalog, or a value that names none)."""
        if self.organization == "self":
            return oid
        if self.org_field:
            value = fields.get(self.org_field)
            return value if isinstance(value, str) else None
        return None

    def orgs_of(self, ids: Sequence[str],
                fields: Sequence[dict[str, Any]]) -> frozenset[str | None]:
        """`org_of` each object (ids and fields in the same order): the few distinct values of
        a whole batch at once."""
        if self.organization == "self":
            return frozenset(ids)
        key = self.org_field
        if not key:
            return frozenset([None])
        try:
            values = {f.get(key) for f in fields}
        except TypeError:  # a value that is no organization's id (unhashable): one at a time
            return frozenset([self.org_of(i, f) for i, f in zip(ids, fields, strict=True)])
        return frozenset([v if isinstance(v, str) else None for v in values])

    @property
    def numbered_field(self) -> Field | None:
        return next((f for f in self.fields if f.numbered), None)

    @cached_property
    def refers(self) -> bool:
        """Whether any field of the entity or of its sections is a reference."""
        return any(f.to is not None for f in self.fields) or any(
            f.to is not None for s in self.sections for f in s.fields)

    @cached_property
    def _fields_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field | None:
        return self._fields_by_name.get(name)

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)


@dataclass(frozen=True)
class Schema:
    name: str
    version: int
    entities: dict[str, Entity] = field(default_factory=dict)
    source: str = ""

    def entity(self, name: str) -> Entity:
        """The entity called `name`, or a one-line error listing the ones that exist."""
        try:
            return self.entities[name]
        except KeyError:
            known = ", ".join(self.entities)
            raise SchemaError(f"unknown entity '{name}' (known: {known})") from None

    @property
    def org_entity(self) -> Entity:
        return next(e for e in self.entities.values() if e.organization == "self")


def load_schema(path: str | Path) -> Schema:
    """Load and check a schema file; every mistake is reported with the file and the place."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"{p}: cannot read schema file: {exc.strerror or exc}") from None
    return parse_schema(text, origin=str(p))


def default_schema() -> Schema:
    """The accounting application that ships with Outpost."""
    text = resources.files("core.schemas").joinpath("accounting.toml").read_text("utf-8")
    return parse_schema(text, origin="accounting.toml")


def parse_schema(text: str, *, origin: str = "<schema>") -> Schema:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"{origin}: not valid TOML: {exc}") from None
    return _Parser(origin).schema(doc, text)


def _names(keys: set[str]) -> str:
    """Keys for a message, quoted so that any character in them stays on one line."""
    return ", ".join(repr(k) for k in sorted(keys))


class _Parser:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, message: str) -> SchemaError:
        where = _CONTROL.sub(lambda m: repr(m.group())[1:-1], where)  # one line, always
        return SchemaError(f"{self.origin}: {where}: {message}")

    def schema(self, doc: dict[str, Any], text: str) -> Schema:
        fmt = doc.get("format")
        if fmt != FORMAT:
            raise self.fail("format", f"expected format = {FORMAT}, got {fmt!r}")
        name = doc.get("name")
        if not isinstance(name, str) or not name:
            raise self.fail("name", "a schema needs a non-empty name")
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self.fail("version", "version must be a positive integer")
        unknown = set(doc) - {"format", "name", "version", "entities"}
        if unknown:
            raise self.fail("top level", f"unknown key(s): {_names(unknown)}")
        raw = doc.get("entities")
        if not isinstance(raw, dict) or not raw:
            raise self.fail("entities", "a schema needs at least one entity")
        entities = {n: self.entity(n, body) for n, body in raw.items()}
        self.check_references(entities)
        orgs = [e.name for e in entities.values() if e.organization == "self"]
        if len(orgs) != 1:
            raise self.fail("entities", "exactly one entity must have organization = \"self\"")
        for e in entities.values():
            f = e.field(e.org_field) if e.org_field else None
            if f is not None and f.to != orgs[0]:
                raise self.fail(f"entities.{e.name}.organization",
                                f"'{f.name}' must refer to '{orgs[0]}', the organizations")
        return Schema(name=name, version=version, entities=entities, source=text)

    def entity(self, name: str, body: Any) -> Entity:
        where = f"entities.{name}"
        self.check_name(where, name)
        if not isinstance(body, dict):
            raise self.fail(where, "must be a table")
        unknown = set(body) - {"kind", "organization", "fields", "sections"}
        if unknown:
            raise self.fail(where, f"unknown key(s): {_names(unknown)}")
        kind = body.get("kind")
        if kind not in ("catalog", "document"):
            raise self.fail(f"{where}.kind", f"must be 'catalog' or 'document', got {kind!r}")
        fields = self.fields(where, body.get("fields"))
        org = body.get("organization", "none")
        if not isinstance(org, str):
            raise self.fail(f"{where}.organization", "must be 'self', 'none' or a field name")
        if org not in ("self", "none"):
            f = next((f for f in fields if f.name == org), None)
            if f is None or f.type != "ref":
                raise self.fail(f"{where}.organization", f"{org!r} is not a reference field")
        if kind == "document" and org in ("self", "none"):
            raise self.fail(f"{where}.organization", "a document needs an organization field")
        if sum(f.numbered for f in fields) > 1:
            raise self.fail(where, "at most one field may be numbered")
        sections_raw = body.get("sections", {})
        if not isinstance(sections_raw, dict):
            raise self.fail(f"{where}.sections", "must be a table of sections")
        sections = []
        for sname, sbody in sections_raw.items():
            swhere = f"{where}.sections.{sname}"
            self.check_name(swhere, sname)
            if sname in {f.name for f in fields}:
                raise self.fail(swhere, "a section cannot share its name with a field")
            if not isinstance(sbody, dict) or set(sbody) - {"fields"}:
                raise self.fail(swhere, "a section is a table with only 'fields'")
            sfields = self.fields(swhere, sbody.get("fields"))
            if any(f.numbered for f in sfields):
                raise self.fail(swhere, "section fields cannot be numbered")
            sections.append(Section(name=sname, table=f"{name}_{sname}", fields=sfields))
        return Entity(name, kind, org, fields, tuple(sections))

    def fields(self, where: str, raw: Any) -> tuple[Field, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail(f"{where}.fields", "must be a non-empty list of fields")
        out: list[Field] = []
        for i, f in enumerate(raw):
            fwhere = f"{where}.fields[{i}]"
            if not isinstance(f, dict):
                raise self.fail(fwhere, "must be a table like { name = ..., type = ... }")
            unknown = set(f) - {"name", "type", "required", "to", "numbered", "max_length"}
            if unknown:
                raise self.fail(fwhere, f"unknown key(s): {_names(unknown)}")
            name = f.get("name")
            if not isinstance(name, str):
                raise self.fail(fwhere, "needs a name")
            self.check_name(fwhere, name)
            if name in RESERVED:
                raise self.fail(fwhere, f"'{name}' is reserved")
            if name in {o.name for o in out}:
                raise self.fail(fwhere, f"duplicate field '{name}'")
            ftype = f.get("type")
            if ftype not in FIELD_TYPES:
                raise self.fail(f"{fwhere}.type", f"must be one of {', '.join(FIELD_TYPES)}")
            to = f.get("to")
            if (ftype == "ref") != (to is not None):
                raise self.fail(fwhere, "'to' is required for ref fields and only for them")
            if to is not None and not isinstance(to, str):
                raise self.fail(f"{fwhere}.to", "must be the name of an entity")
            required = f.get("required", False)
            numbered = f.get("numbered", False)
            if not isinstance(required, bool) or not isinstance(numbered, bool):
                raise self.fail(fwhere, "'required' and 'numbered' must be true or false")
            if numbered and ftype != "string":
                raise self.fail(fwhere, "only string fields can be numbered")
            max_length = f.get("max_length")
            if max_length is not None and (
                not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1
            ):
                raise self.fail(fwhere, "'max_length' must be a positive integer")
            out.append(Field(name, ftype, required, to, numbered, max_length))
        return tuple(out)

    def check_references(self, entities: dict[str, Entity]) -> None:
        for e in entities.values():
            for owner, fields in [(e.name, e.fields)] + [
                (f"{e.name}.{s.name}", s.fields) for s in e.sections
            ]:
                for f in fields:
                    if f.to is not None and f.to not in entities:
                        raise self.fail(
                            f"entities.{owner}.{f.name}", f"refers to unknown entity {f.to!r}"
                        )
        tables = set(entities)  # and the other names in SQLite's one namespace
        for e in entities.values():
            if e.org_field:
                index = f"{e.table}_by_org"
                if index in tables:
                    raise self.fail(f"entities.{e.name}",
                                    f"its index '{index}' clashes with an entity or a section")
                tables.add(index)
            for s in e.sections:
                if s.table in tables:
                    raise self.fail(f"entities.{e.name}.sections.{s.name}",
                                    f"table '{s.table}' clashes with an entity or an index")
                tables.add(s.table)

    def check_name(self, where: str, name: str) -> None:
        if not _NAME.fullmatch(name) or name.startswith("_"):
            raise self.fail(where, f"{name!r} is not a valid name (lowercase letters, digits, _)")
        if name.startswith("sqlite_"):
            raise self.fail(where, f"{name!r} is reserved (names starting with sqlite_ are)")
