"""Recording the cloud's answer to a pushed batch, in both of its forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.schema import default_schema
from core.store import Store
from daemon.sync import push
from daemon.sync.errors import SyncError


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.create(tmp_path / "infobase.db", default_schema(), prefix="W1")
    s.put("counterparties", {"name": "Sent"})
    s.put("counterparties", {"name": "Sent too"})
    return s


def test_a_compact_answer_trims_and_versions_the_applied_objects(store: Store) -> None:
    box = push.prepare(store, 100)
    assert box is not None
    ids = [h[0] for h in box.heads]
    rec = push.record(store, box, {"results": [], "applied": ids, "versions": [7, 9]})
    assert rec.pushed == 2 and store.pending() == 0
    assert [store.require("counterparties", i)["version"] for i in ids] == [7, 9]
    assert push.prepare(store, 100) is None  # the outbox is empty


def test_applied_objects_without_versions_change_nothing(store: Store) -> None:
    box = push.prepare(store, 100)
    assert box is not None
    pending = store.pending()
    with pytest.raises(SyncError, match="without their versions"):
        push.record(store, box, {"results": [], "applied": [box.heads[0][0]], "versions": []})
    assert store.pending() == pending
    again = push.prepare(store, 100)  # the same batch is sent again
    assert again is not None and (again.batch_id, again.body) == (box.batch_id, box.body)
