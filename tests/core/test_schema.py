"""The schema loader: the default application, and every mistake reported with file and place."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from core import Schema, SchemaError, Store, default_schema, load_schema

# The default application exactly as INTERFACE.md describes it: (kind, organization, fields).
EXPECTED = {
    "organizations": ("catalog", "self", ["name", "tax_id"]),
    "counterparties": ("catalog", "none", ["code", "name", "tax_id"]),
    "items": ("catalog", "none", ["code", "name", "unit", "price"]),
    "sales_invoices": (
        "document", "organization",
        ["number", "date", "organization", "counterparty", "total", "posted"],
    ),
    "payments": (
        "document", "organization",
        ["number", "date", "organization", "counterparty", "amount", "invoice"],
    ),
}
REFS = {"organization": "organizations", "counterparty": "counterparties", "item": "items",
        "invoice": "sales_invoices"}


def test_default_schema_has_exactly_the_documented_entities_and_fields() -> None:
    schema = default_schema()
    assert list(schema.entities) == list(EXPECTED)
    for name, (kind, org, fields) in EXPECTED.items():
        e = schema.entity(name)
        assert (e.kind, e.organization, [f.name for f in e.fields]) == (kind, org, fields)
        assert e.table == name
    inv = schema.entity("sales_invoices")
    assert [s.name for s in inv.sections] == ["lines"]
    lines = inv.sections[0]
    assert lines.table == "sales_invoices_lines"
    assert [f.name for f in lines.fields] == ["item", "quantity", "price", "amount"]
    assert all(not schema.entity(n).sections for n in EXPECTED if n != "sales_invoices")


def test_default_schema_references_numbering_and_organizations() -> None:
    schema = default_schema()
    for e in schema.entities.values():
        for f in [*e.fields, *(f for s in e.sections for f in s.fields)]:
            assert (f.type == "ref") == (f.name in REFS), f.name
            if f.type == "ref":
                assert f.to == REFS[f.name]
    numbered = {n: e.numbered_field.name for n, e in schema.entities.items() if e.numbered_field}
    assert numbered == {"counterparties": "code", "items": "code", "sales_invoices": "number",
                        "payments": "number"}
    assert schema.org_entity.name == "organizations"
    assert [n for n, e in schema.entities.items() if e.shared] == ["counterparties", "items"]
    assert schema.entity("payments").org_field == "organization"
    assert schema.entity("organizations").org_field is None


def test_load_schema_reads_the_shipped_file(tmp_path: Path) -> None:
    text = resources.files("core.schemas").joinpath("accounting.toml").read_text("utf-8")
    path = tmp_path / "accounting.toml"
    path.write_text(text, encoding="utf-8")
    loaded = load_schema(path)
    assert loaded.entities == default_schema().entities
    assert (loaded.name, loaded.version, loaded.source) == ("accounting", 1, text)


def test_unknown_entity_names_the_known_ones() -> None:
    with pytest.raises(SchemaError, match=r"unknown entity 'invoices' \(known: organizations, "):
        default_schema().entity("invoices")


def test_load_schema_on_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(SchemaError) as err:
        load_schema(missing)
    assert str(err.value).startswith(f"{missing}: cannot read schema file")
    assert "\n" not in str(err.value)


HEAD = 'format = 1\nname = "shop"\nversion = 1\n'
ORGS = """
[entities.orgs]
kind = "catalog"
organization = "self"
fields = [{ name = "name", type = "string" }]
"""
GOOD = HEAD + ORGS


def entity(name: str, fields: str, *, kind: str = "catalog", extra: str = "") -> str:
    return f"\n[entities.{name}]\nkind = \"{kind}\"\n{extra}fields = [{fields}]\n"


def doc(fields: str = "", *, org: str = "org", extra: str = "") -> str:
    """A document `d` whose organization is the ref field `org` (plus `fields`)."""
    base = '{ name = "org", type = "ref", to = "orgs" }'
    return entity("d", base + (", " + fields if fields else ""), kind="document",
                  extra=f'organization = "{org}"\n' + extra)


F = '{ name = "a", type = "string" }'

# (case, schema text, the place named, words of the message)
BAD: list[tuple[str, str, str, str]] = [
    ("bad toml", HEAD + "[entities.x\n", "", "not valid TOML"),
    ("bad toml value", 'format = 1\nname = \n', "", "line 2"),
    ("no format", 'name = "s"\nversion = 1\n' + ORGS, "format", "expected format = 1, got None"),
    ("wrong format", GOOD.replace("format = 1", "format = 2"), "format", "got 2"),
    ("format as text", GOOD.replace("format = 1", 'format = "1"'), "format", "got '1'"),
    ("no name", GOOD.replace('name = "shop"\n', ""), "name", "non-empty name"),
    ("empty name", GOOD.replace('name = "shop"', 'name = ""'), "name", "non-empty name"),
    ("no version", GOOD.replace("version = 1\n", ""), "version", "positive integer"),
    ("version zero", GOOD.replace("version = 1", "version = 0"), "version", "positive integer"),
    ("version bool", GOOD.replace("version = 1", "version = true"), "version", "positive"),
    ("unknown top key", HEAD + 'colour = "red"\n' + ORGS, "top level",
     "unknown key(s): 'colour'"),
    ("no entities", HEAD, "entities", "at least one entity"),
    ("empty entities", HEAD + "entities = {}\n", "entities", "at least one entity"),
    ("entity not a table", GOOD + "[entities]\nx = 5\n", "entities.x", "must be a table"),
    ("unknown entity key", GOOD + entity("x", F, extra='colour = "red"\n'), "entities.x",
     "unknown key(s): 'colour'"),
    ("bad kind", GOOD + entity("x", F, kind="register"), "entities.x.kind",
     "must be 'catalog' or 'document', got 'register'"),
    ("no kind", GOOD + '[entities.x]\nfields = [{ name = "a", type = "string" }]\n',
     "entities.x.kind", "got None"),
    ("no fields", GOOD + '[entities.x]\nkind = "catalog"\n', "entities.x.fields",
     "non-empty list of fields"),
    ("empty fields", GOOD + entity("x", ""), "entities.x.fields", "non-empty list"),
    ("field not a table", GOOD + entity("x", '"a"'), "entities.x.fields[0]",
     "must be a table like"),
    ("unknown field key", GOOD + entity("x", '{ name = "a", type = "string", unique = true }'),
     "entities.x.fields[0]", "unknown key(s): 'unique'"),
    ("field without name", GOOD + entity("x", '{ type = "string" }'), "entities.x.fields[0]",
     "needs a name"),
    ("bad field type", GOOD + entity("x", F + ', { name = "b", type = "money" }'),
     "entities.x.fields[1].type", "must be one of string, integer, number, boolean, date, ref"),
    ("ref without to", GOOD + entity("x", '{ name = "r", type = "ref" }'),
     "entities.x.fields[0]", "'to' is required for ref fields and only for them"),
    ("to on a string", GOOD + entity("x", '{ name = "r", type = "string", to = "orgs" }'),
     "entities.x.fields[0]", "'to' is required for ref fields and only for them"),
    ("to not a name", GOOD + entity("x", '{ name = "r", type = "ref", to = ["orgs"] }'),
     "entities.x.fields[0].to", "must be the name of an entity"),
    ("to unknown entity", GOOD + entity("x", '{ name = "r", type = "ref", to = "people" }'),
     "entities.x.r", "refers to unknown entity 'people'"),
    ("to unknown in a section",
     GOOD + doc(extra="") + '[entities.d.sections.lines]\n'
     'fields = [{ name = "r", type = "ref", to = "people" }]\n',
     "entities.d.lines.r", "refers to unknown entity 'people'"),
    ("duplicate field", GOOD + entity("x", F + ", " + F), "entities.x.fields[1]",
     "duplicate field 'a'"),
    ("reserved id", GOOD + entity("x", '{ name = "id", type = "string" }'),
     "entities.x.fields[0]", "'id' is reserved"),
    ("reserved owner", GOOD + entity("x", '{ name = "owner", type = "string" }'),
     "entities.x.fields[0]", "'owner' is reserved"),
    ("reserved line_no", GOOD + entity("x", '{ name = "line_no", type = "integer" }'),
     "entities.x.fields[0]", "'line_no' is reserved"),
    ("reserved rowid", GOOD + entity("x", '{ name = "rowid", type = "integer" }'),
     "entities.x.fields[0]", "'rowid' is reserved"),
    ("reserved sqlite_ entity", GOOD + entity("sqlite_x", F), "entities.sqlite_x",
     "'sqlite_x' is reserved"),
    ("invalid entity name", GOOD + entity("Goods", F), "entities.Goods",
     "'Goods' is not a valid name"),
    ("entity name with _", GOOD + entity("_x", F), "entities._x", "is not a valid name"),
    ("invalid field name", GOOD + entity("x", '{ name = "unit-price", type = "number" }'),
     "entities.x.fields[0]", "'unit-price' is not a valid name"),
    ("field name with digit first", GOOD + entity("x", '{ name = "1a", type = "number" }'),
     "entities.x.fields[0]", "is not a valid name"),
    ("field name with a newline", GOOD + entity("x", '{ name = "a\\n", type = "number" }'),
     "entities.x.fields[0]", "'a\\n' is not a valid name"),
    ("field name too long", GOOD + entity("x", f'{{ name = "{"a" * 64}", type = "number" }}'),
     "entities.x.fields[0]", "is not a valid name"),
    ("required not bool", GOOD + entity("x", '{ name = "a", type = "string", required = 1 }'),
     "entities.x.fields[0]", "'required' and 'numbered' must be true or false"),
    ("bad max_length", GOOD + entity("x", '{ name = "a", type = "string", max_length = 0 }'),
     "entities.x.fields[0]", "'max_length' must be a positive integer"),
    ("numbered non-string", GOOD + entity("x", '{ name = "n", type = "integer", numbered = true }'),
     "entities.x.fields[0]", "only string fields can be numbered"),
    ("two numbered", GOOD + entity(
        "x", '{ name = "a", type = "string", numbered = true }, '
             '{ name = "b", type = "string", numbered = true }'),
     "entities.x", "at most one field may be numbered"),
    ("document without organization", GOOD + entity("d", F, kind="document"),
     "entities.d.organization", "a document needs an organization field"),
    ("document of no organization", GOOD + doc(org="none"), "entities.d.organization",
     "a document needs an organization field"),
    ("document as organization", GOOD + doc(org="self"), "entities.d.organization",
     "a document needs an organization field"),
    ("organization not a field", GOOD + doc(org="owner_org"), "entities.d.organization",
     "'owner_org' is not a reference field"),
    ("organization not a ref", GOOD + doc(F, org="a"), "entities.d.organization",
     "'a' is not a reference field"),
    ("organization not text", GOOD + entity("x", F, extra="organization = 1\n"),
     "entities.x.organization", "must be 'self', 'none' or a field name"),
    ("organization refers elsewhere",
     GOOD + entity("people", F) + doc('{ name = "p", type = "ref", to = "people" }', org="p"),
     "entities.d.organization", "'p' must refer to 'orgs'"),
    ("no self entity", HEAD + entity("x", F), "entities",
     'exactly one entity must have organization = "self"'),
    ("two self entities", GOOD + entity("x", F, extra='organization = "self"\n'), "entities",
     'exactly one entity must have organization = "self"'),
    ("sections not a table", GOOD + doc(extra='sections = 5\n'), "entities.d.sections",
     "must be a table of sections"),
    ("section with other keys", GOOD + doc() + '[entities.d.sections.lines]\n'
     'kind = "x"\nfields = [{ name = "a", type = "string" }]\n', "entities.d.sections.lines",
     "a section is a table with only 'fields'"),
    ("section without fields", GOOD + doc() + '[entities.d.sections.lines]\nfields = []\n',
     "entities.d.sections.lines.fields", "non-empty list of fields"),
    ("section name clashing with a field", GOOD + doc(F) + '[entities.d.sections.a]\n'
     'fields = [{ name = "b", type = "string" }]\n', "entities.d.sections.a",
     "a section cannot share its name with a field"),
    ("section table clashing with an entity", GOOD + entity("d_lines", F) + doc()
     + '[entities.d.sections.lines]\nfields = [{ name = "b", type = "string" }]\n',
     "entities.d.sections.lines", "table 'd_lines' clashes with an entity"),
    ("index clashing with an entity", GOOD + entity("d_by_org", F) + doc(), "entities.d",
     "its index 'd_by_org' clashes"),
    ("numbered section field", GOOD + doc() + '[entities.d.sections.lines]\n'
     'fields = [{ name = "b", type = "string", numbered = true }]\n',
     "entities.d.sections.lines", "section fields cannot be numbered"),
    ("invalid section name", GOOD + doc() + '[entities.d.sections.Lines]\n'
     'fields = [{ name = "b", type = "string" }]\n', "entities.d.sections.Lines",
     "is not a valid name"),
    ("reserved section field", GOOD + doc() + '[entities.d.sections.lines]\n'
     'fields = [{ name = "owner", type = "string" }]\n', "entities.d.sections.lines.fields[0]",
     "'owner' is reserved"),
]


@pytest.mark.parametrize(("text", "place", "words"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_each_mistake_is_reported_with_file_and_place(
    tmp_path: Path, text: str, place: str, words: str
) -> None:
    path = tmp_path / "shop.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    message = str(err.value)
    prefix = f"{path}: {place}: " if place else f"{path}: "
    assert message.startswith(prefix), message
    assert words in message, message
    assert "\n" not in message


def test_a_good_schema_with_every_type_builds_an_infobase(tmp_path: Path) -> None:
    text = GOOD + doc(
        '{ name = "no", type = "string", numbered = true, max_length = 20 }, '
        '{ name = "n", type = "integer" }, { name = "x", type = "number", required = true }, '
        '{ name = "ok", type = "boolean" }, { name = "on", type = "date" }'
    ) + '[entities.d.sections.rows]\nfields = [{ name = "qty", type = "integer" }]\n'
    path = tmp_path / "shop.toml"
    path.write_text(text, encoding="utf-8")
    schema = load_schema(path)
    d = schema.entity("d")
    assert [(f.name, f.sql_type) for f in d.fields] == [
        ("org", "TEXT"), ("no", "TEXT"), ("n", "INTEGER"), ("x", "REAL"), ("ok", "INTEGER"),
        ("on", "TEXT"),
    ]
    assert d.field("x") is not None and d.field("x").required  # type: ignore[union-attr]
    assert d.numbered_field is not None and d.numbered_field.max_length == 20
    with Store.create(tmp_path / "shop.db", schema, prefix="Q1") as store:
        org = store.put("orgs", {"name": "O"})["id"]
        obj = store.put("d", {"org": org, "x": 1.5, "n": 3, "ok": True, "on": "2024-02-29",
                              "rows": [{"qty": 2}]})
        assert obj["fields"]["no"] == "Q1-000001"
        assert obj["org"] == org and obj["fields"]["rows"] == [{"qty": 2}]
    reopened = Store.open(tmp_path / "shop.db")
    assert isinstance(reopened.schema, Schema) and reopened.schema.entities == schema.entities
    reopened.close()


def test_a_name_with_a_newline_is_reported_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "shop.toml"
    path.write_text(GOOD + '[entities."x\\ny"]\nkind = "catalog"\nfields = [' + F + "]\n")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    assert str(err.value) == (
        f"{path}: entities.x\\ny: 'x\\ny' is not a valid name (lowercase letters, digits, _)"
    )
