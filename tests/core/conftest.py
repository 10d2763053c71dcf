"""Fixtures of the core tests: a fresh infobase of the default application in a temp folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core import Store, default_schema
from tests.core.helpers import Refs, make_refs


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.create(tmp_path / "infobase.db", default_schema(), prefix="AB")
    yield s
    s.close()


@pytest.fixture
def refs(store: Store) -> Refs:
    return make_refs(store)
