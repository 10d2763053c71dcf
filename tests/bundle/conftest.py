"""Fixtures of the bundle tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import Store, default_schema
from tests.bundle.bundle_helpers import Tenant, fill_tenant


@pytest.fixture
def tenant(tmp_path: Path) -> Tenant:
    with Store.create(tmp_path / "tenant.db", default_schema(), prefix="00") as store:
        return fill_tenant(store)
