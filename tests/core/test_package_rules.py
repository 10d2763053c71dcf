"""The rule of dependency between the packages (docs/architecture.md), read from the imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "cloud", "bundle_builder", "installer", "daemon")
# package -> the packages it must never import
FORBIDDEN = {
    "core": {"cloud", "bundle_builder", "installer", "daemon"},
    "daemon": {"cloud", "bundle_builder"},
    "installer": {"cloud", "bundle_builder"},
}


def imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """The top-level packages a module imports: anywhere in it, or only at its top level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_never_imports_what_it_must_not(package: str) -> None:
    broken = [
        f"{path.relative_to(ROOT)} imports {bad}"
        for path in modules(package)
        for bad in sorted(imports(path) & FORBIDDEN[package])
    ]
    assert broken == []


def test_only_the_cloud_api_uses_the_bundle_builder_and_only_lazily() -> None:
    """bundle_builder reads the cloud's store; the cloud importing it back at load is a cycle."""
    broken = []
    for path in modules("cloud"):
        api = path.relative_to(ROOT).parts[:2] == ("cloud", "api")
        uses = "bundle_builder" in imports(path, top_level_only=api)
        if uses:
            broken.append(str(path.relative_to(ROOT)))
    assert broken == []


def test_the_rule_sees_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os.path\nfrom core import x\nfrom . import y\n"
                      "def f():\n    import cloud.api\n")
    assert imports(module) == {"os", "core", "cloud"}
    assert imports(module, top_level_only=True) == {"os", "core"}
