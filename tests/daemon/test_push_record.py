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


def _journal(store: Store) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in store.conn.execute("SELECT seq, id FROM _journal")]


def test_an_answer_trims_only_its_batch_when_others_rows_share_its_window(tmp_path: Path) -> None:
    """A batch read behind another leaves out that one's objects; their newer rows in its
    window stay in the journal when it is answered."""
    s = Store.create(tmp_path / "infobase.db", default_schema(), prefix="W1")
    x = s.put("counterparties", {"name": "X"})["id"]
    y = s.put("counterparties", {"name": "Y"})["id"]
    first = push.prepare(s, 1)
    assert first is not None and [h[0] for h in first.heads] == [x]
    s.put("counterparties", {"name": "X again"}, id=x)
    z = s.put("counterparties", {"name": "Z"})["id"]
    second = push.prepare(s, 100, after=[first])
    assert second is not None and [h[0] for h in second.heads] == [y, z]
    push.record(s, first, {"results": [], "applied": [x], "versions": [5]})
    push.record(s, second, {"results": [], "applied": [y, z], "versions": [6, 7]})
    assert {oid for _, oid in _journal(s)} == {x}  # X's rows after its window: its edit
    again = push.prepare(s, 100)
    assert again is not None and [h[0] for h in again.heads] == [x]


def test_a_refused_objects_rows_stay_when_a_later_batch_is_answered(store: Store) -> None:
    box = push.prepare(store, 1)
    assert box is not None
    refused = box.heads[0][0]
    push.record(store, box, {"results": [{"id": refused, "status": "rejected",
                                          "reason": "not carried"}]})
    later = push.prepare(store, 100)
    assert later is not None and refused not in [h[0] for h in later.heads]
    push.record(store, later, {"results": [], "applied": [h[0] for h in later.heads],
                               "versions": [8]})
    assert {oid for _, oid in _journal(store)} == {refused}
