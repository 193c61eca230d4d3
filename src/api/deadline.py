"""Each request's deadline for waiting on the store (service.deadline): while the database is
unreachable a request is answered 503 within 5 s (CONTRACTS §12), never held for the outage."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from service.deadline import store_deadline

# Waits on the store (a pooled connection, a retry) end this long after the request arrived;
# the rest of the 5 s is for hashing and the answer itself.
REQUEST_STORE_SECONDS = 4.0


class RequestDeadline:
    def __init__(self, app: ASGIApp, seconds: float = REQUEST_STORE_SECONDS) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A context variable: the worker threads that run the handlers inherit it.
        with store_deadline(self.seconds):
            await self.app(scope, receive, send)
