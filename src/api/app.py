"""The FastAPI application: routers, dialect error handlers, middleware."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from starlette.types import ASGIApp

from api import answers, assure, health, horizon, kendox, lifepos, zitadel, zitadel_connect
from api.deadline import RequestDeadline
from api.dialects import Dialect, DialectRegistry, install_error_handlers
from api.docs import ASSETS, documented_app
from api.limits import BodySizeLimit
from api.metrics import MetricsMiddleware
from api.native import errors, events, imports, ledger, orgs, reset_requests, sessions, users
from api.native.errors import render_native
from api.proxies import ForwardedClient, Network
from api.ratelimit import RateLimiter, RateLimits
from api.security_headers import SecurityHeaders
from service.credentials import CredentialService
from service.ledger import LedgerService
from service.reads import ReadService

NATIVE = Dialect("native", ("/v1",), render_native, errors.ProblemOut)
# Routes whose bodies may exceed the default limit: an import carries up to 1000 users.
LARGER_BODIES = {imports.IMPORT_PATH: imports.MAX_IMPORT_BYTES}
# The HTML pages fastapi-offline serves (its defaults; `app.docs_url` stays None there).
DOC_PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")


def create_app(
    service: CredentialService,
    reads: ReadService,
    rate_limiter: RateLimits | None = None,
    ledger_service: LedgerService | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    trusted_proxies: Sequence[Network] = (),
) -> FastAPI:
    """`trusted_proxies`: networks whose `X-Forwarded-For`/`Forwarded` name the client
    (`api.proxies`); from any other peer those headers are ignored."""
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
    app.add_middleware(RequestDeadline)
    native = (
        health.router,
        sessions.router,
        reset_requests.router,
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
    _wrap_outermost(app, trusted_proxies)
    return app


def _wrap_outermost(app: FastAPI, trusted_proxies: Sequence[Network]) -> None:
    """Middleware outside Starlette's whole stack: `add_middleware` would put it inside
    ServerErrorMiddleware, which sends the 500 answers, and the client must be known before
    any other middleware (metrics, limits) looks at it."""
    build = app.build_middleware_stack

    def build_wrapped() -> ASGIApp:
        inner: ASGIApp = build()
        if trusted_proxies:
            inner = ForwardedClient(inner, trusted_proxies)
        return SecurityHeaders(inner, pages=DOC_PAGES, cacheable_prefix=ASSETS)

    app.build_middleware_stack = build_wrapped  # type: ignore[method-assign]
