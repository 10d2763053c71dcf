"""The core documents stay true to the code they describe."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from core import default_schema
from core.ddl import BASE_TABLES, schema_sql

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_schema_format_shows_the_shipped_application() -> None:
    doc = (DOCS / "schema-format.md").read_text(encoding="utf-8")
    example = doc.split("## The default application", 1)[1].split("```toml\n", 1)[1]
    example = example.split("```", 1)[0]
    shipped = resources.files("core.schemas").joinpath("accounting.toml").read_text("utf-8")
    assert example == "".join(line for line in shipped.splitlines(keepends=True)
                              if not line.startswith("#"))


def test_the_schema_format_names_the_triggers_and_tables_that_exist() -> None:
    doc = (DOCS / "schema-format.md").read_text(encoding="utf-8")
    sql = " ".join(schema_sql(default_schema()))
    for suffix in ("i", "u", "k", "d"):
        assert f"_cap_<entity>_{suffix}" in doc
        assert f'"_cap_payments_{suffix}"' in sql
    assert "`_num_<entity>`" in doc and '"_num_payments"' in sql
    for suffix in ("i", "u", "m", "d"):
        assert f'"_cap_sales_invoices_lines_{suffix}"' in sql
    own = re.findall(r"CREATE TABLE (_\w+)", BASE_TABLES)
    assert len(own) >= 7
    for table in own:
        assert f"| `{table}(" in doc or f"| `{table}`" in doc, table
    created = set(re.findall(r"CREATE (?:TABLE|INDEX) \"(\w+)\"", sql))
    assert created == {"organizations", "counterparties", "items", "sales_invoices",
                       "sales_invoices_lines", "payments", "sales_invoices_by_org",
                       "payments_by_org"}
    for name in created:
        assert f"`{name}`" in doc
