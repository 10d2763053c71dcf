"""Tenant stores for the API's worker threads.

FastAPI runs each synchronous endpoint in a thread pool, and an apsw connection must never be
shared by two threads in the middle of a transaction; so each thread keeps its own open Store
per tenant. The schema is parsed once per tenant and shared (it is immutable).

Pushed batches go through one writer connection per tenant instead, taken in turn (SQLite
writes one at a time anyway). A connection drops its page cache whenever another one has
written, so batches landing on whichever thread was free each started cold, and a batch of
random ids touches most index pages of a large tenant: one writer with a large cache keeps
them (bench_sync push into a tenant of 100,000: see docs/performance.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cloud.api.arrivals import Arrivals
from cloud.registry import Registry
from core.db import CACHE_MIB, connect
from core.schema import Schema
from core.store import Store

WRITER_CACHE_MIB = 128  # the pages a large tenant's batches touch, kept from one to the next


class TenantStores:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._local = threading.local()
        self._schemas: dict[str, Schema] = {}
        self._lock = threading.Lock()
        self._all: list[Store] = []
        self._writers: dict[str, tuple[threading.Lock, list[Store]]] = {}
        self.arrivals = Arrivals()  # pushed batches here and not finished: the next one waits

    def get(self, tenant: str) -> Store:
        """This thread's store of `tenant`, ready for a new transaction."""
        cache: dict[str, Store] | None = getattr(self._local, "stores", None)
        if cache is None:
            cache = self._local.stores = {}
        store = cache.get(tenant)
        if store is None:
            store = cache[tenant] = self._open(tenant)
        elif not store.conn.get_autocommit():  # a transaction left open by a failed request
            store.conn.execute("ROLLBACK")
        return store

    @contextmanager
    def writer(self, tenant: str) -> Iterator[Store]:
        """The tenant's writer store, to this thread alone until the block ends."""
        with self._lock:
            lock, slot = self._writers.setdefault(tenant, (threading.Lock(), []))
        with lock:
            if not slot:
                slot.append(self._open(tenant, cache_mib=WRITER_CACHE_MIB))
            store = slot[0]
            if not store.conn.get_autocommit():  # a transaction left open by a failed request
                store.conn.execute("ROLLBACK")
            yield store

    def _open(self, tenant: str, *, cache_mib: int = CACHE_MIB) -> Store:
        path = self.registry.tenant_path(tenant)
        schema = self._schemas.get(tenant)
        if schema is None:
            store = Store.open(path)  # upgrades the file if needed and parses its schema
            with self._lock:
                self._schemas[tenant] = store.schema
            if cache_mib != CACHE_MIB:
                store.conn.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
        else:
            store = Store(connect(path, cache_mib=cache_mib), schema, path)
        # Sync requests sort and probe through small temporary tables (a batch at most): in
        # memory rather than in temporary files. Bundle exports open their own connections.
        store.conn.execute("PRAGMA temp_store=MEMORY")
        with self._lock:
            self._all.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            stores, self._all = self._all, []
            self._writers = {}
        for store in stores:
            store.close()
        self._local = threading.local()
