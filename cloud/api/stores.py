"""Tenant stores for the API's worker threads.

FastAPI runs each synchronous endpoint in a thread pool, and an apsw connection must never be
shared by two threads in the middle of a transaction; so each thread keeps its own open Store
per tenant. The schema is parsed once per tenant and shared (it is immutable).
"""

from __future__ import annotations

import threading

from cloud.registry import Registry
from core.db import connect
from core.schema import Schema
from core.store import Store


class TenantStores:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._local = threading.local()
        self._schemas: dict[str, Schema] = {}
        self._lock = threading.Lock()
        self._all: list[Store] = []

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

    def _open(self, tenant: str) -> Store:
        path = self.registry.tenant_path(tenant)
        schema = self._schemas.get(tenant)
        if schema is None:
            store = Store.open(path)  # upgrades the file if needed and parses its schema
            with self._lock:
                self._schemas[tenant] = store.schema
        else:
            store = Store(connect(path), schema, path)
        # Sync requests sort and probe through small temporary tables (a batch at most): in
        # memory rather than in temporary files. Bundle exports open their own connections.
        store.conn.execute("PRAGMA temp_store=MEMORY")
        with self._lock:
            self._all.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            stores, self._all = self._all, []
        for store in stores:
            store.close()
        self._local = threading.local()
