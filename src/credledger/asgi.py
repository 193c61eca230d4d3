"""The application each server process builds from its environment (`serve --workers N`).

Every process serves the same store; each starts a projection worker that stands by unless
it holds the deployment's leadership (`storage.leadership`), so exactly one projects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.app import create_app
from credledger import configure_logging
from credledger.settings import Settings
from credledger.wiring import build_runtime


def application() -> FastAPI:
    configure_logging()  # a process of its own (spawned by `serve --workers N`)
    settings = Settings()
    runtime = build_runtime(settings)
    worker = runtime.worker() if settings.projections == "inprocess" else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            runtime.close()

    return create_app(
        runtime.service,
        runtime.reads,
        runtime.rate_limiter(),
        runtime.ledger,
        lifespan,
        trusted_proxies=settings.trusted_networks,
    )
