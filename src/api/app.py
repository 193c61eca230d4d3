"""The FastAPI application: routers, dialect error handlers, middleware."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from api import answers, assure, health, horizon, kendox, lifepos, zitadel, zitadel_connect
from api.dialects import Dialect, DialectRegistry, install_error_handlers
from api.docs import documented_app
from api.limits import BodySizeLimit
from api.metrics import MetricsMiddleware
from api.native import errors, events, imports, ledger, orgs, sessions, users
from api.native.errors import render_native
from api.ratelimit import RateLimiter, RateLimits
from service.credentials import CredentialService
from service.ledger import LedgerService
from service.reads import ReadService

NATIVE = Dialect("native", ("/v1",), render_native, errors.ProblemOut)
# Routes whose bodies may exceed the default limit: an import carries up to 1000 users.
LARGER_BODIES = {imports.IMPORT_PATH: imports.MAX_IMPORT_BYTES}


def create_app(
    service: CredentialService,
    reads: ReadService,
    rate_limiter: RateLimits | None = None,
    ledger_service: LedgerService | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    app = documented_app(
        lifespan=lifespan,
        title="credledger",
        version="0.1.0",
        summary="Event-sourced credential store speaking five vendors' password APIs",
    )
    app.state.service = service
    app.state.reads = reads
    app.state.rate_limiter = rate_limiter or RateLimiter(30)
    app.state.ledger = ledger_service
    registry = DialectRegistry(default=NATIVE)
    vendors = (lifepos, assure, kendox, horizon, zitadel, zitadel_connect)
    for vendor in vendors:
        registry.add(vendor.DIALECT)
    install_error_handlers(app, registry)
    app.add_middleware(BodySizeLimit, registry=registry, larger=LARGER_BODIES)
    app.add_middleware(MetricsMiddleware)
    native = (
        health.router,
        sessions.router,
        orgs.router,
        imports.router,
        users.router,
        events.router,
    )
    for router in native:
        app.include_router(router)
    if ledger_service is not None:
        app.include_router(ledger.router)
    for vendor in vendors:
        app.include_router(vendor.router)
    answers.install(app, registry)
    return app
