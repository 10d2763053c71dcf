"""The API's tenant stores: a connection per thread, and one writer per tenant taken in turn."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from cloud.api.stores import WRITER_CACHE_MIB, TenantStores
from core.db import CACHE_MIB
from tests.support.cloud import make_tenant


def test_one_writer_per_tenant_held_by_one_thread_at_a_time(tmp_path: Path) -> None:
    tenant = make_tenant(tmp_path / "cloud", orgs=1)
    stores = TenantStores(tenant.reg)
    seen: list[int] = []
    inside = 0
    most = 0
    guard = threading.Lock()

    def push() -> None:
        nonlocal inside, most
        with stores.writer(tenant.name) as store:
            with guard:
                inside += 1
                most = max(most, inside)
            seen.append(id(store))
            with store.write():
                store.put("counterparties", {"name": "From a batch"})
            time.sleep(0.01)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=push) for _ in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert most == 1 and len(set(seen)) == 1 and len(seen) == 6
        with stores.writer(tenant.name) as store:
            assert store.scalar("PRAGMA cache_size") == -WRITER_CACHE_MIB * 1024
            assert store.count("counterparties") == 6
        reader = stores.get(tenant.name)
        assert reader.scalar("PRAGMA cache_size") == -CACHE_MIB * 1024
        assert id(reader) not in seen
    finally:
        stores.close()


def test_a_transaction_left_open_is_rolled_back_for_the_next_writer(tmp_path: Path) -> None:
    tenant = make_tenant(tmp_path / "cloud", orgs=1)
    stores = TenantStores(tenant.reg)
    try:
        with stores.writer(tenant.name) as store:
            store.conn.execute("BEGIN IMMEDIATE")
            store.conn.execute("INSERT INTO counterparties(id, name) VALUES "
                               "('00000000-0000-4000-8000-000000000001', 'Half written')")
        with stores.writer(tenant.name) as store:
            assert store.conn.get_autocommit()
            assert store.count("counterparties") == 0
    finally:
        stores.close()
