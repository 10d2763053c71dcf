"""The cloud's HTTP API: FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from cloud.api import errors, routes_data, routes_sync, routes_workstations
from cloud.api.heads import Heads
from cloud.api.models import Health
from cloud.api.responses import JSONOut
from cloud.api.stores import TenantStores
from cloud.registry import Registry
from core.version import __version__

API = "/api/v1"


def create_app(data_dir: Path | str, *, registry: Registry | None = None) -> FastAPI:
    """The API over the cloud data folder `data_dir` (or over an open `registry`)."""
    reg = registry if registry is not None else Registry.open(Path(data_dir))
    stores = TenantStores(reg)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The OpenAPI document built before the first request rather than by it: building it
        # prepares every route (FastAPI does that lazily), which the first sync after a start
        # would otherwise wait for (35-45 ms, docs/performance.md).
        app.openapi()
        yield
        stores.close()
        if registry is None:
            reg.close()

    app = FastAPI(
        title="Outpost cloud", version=__version__, lifespan=lifespan,
        description="Tenants' data and workstations. Every error is "
                    '`{"error": code, "message": "..."}`.',
        openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
        default_response_class=JSONOut,
    )
    app.state.registry = reg
    app.state.stores = stores

    async def read_head(tenant: str) -> int:
        return await run_in_threadpool(lambda: stores.get(tenant).head())

    app.state.heads = Heads(read_head)
    errors.install(app)

    @app.get(f"{API}/health", tags=["service"], responses={200: {"model": Health}})
    def health() -> Response:
        """Is the service up (no authentication)."""
        return JSONOut({"status": "ok", "version": __version__})

    # Routes match in the order they are added, and sync calls are most of the traffic (every
    # workstation, every few minutes or seconds): their router comes first. The prefixes do not
    # overlap, so the order changes nothing else.
    app.include_router(routes_sync.router)
    app.include_router(routes_data.router)
    app.include_router(routes_workstations.router)
    return app
