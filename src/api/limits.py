"""Refuses oversized request bodies early, in the dialect of the path (413)."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.dialects import DialectRegistry
from api.problems import Problem
from domain.errors import Kind

MAX_BODY_BYTES = 64 * 1024  # a password request is tiny; anything near this is abuse


class BodySizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        registry: DialectRegistry,
        max_bytes: int = MAX_BODY_BYTES,
        larger: dict[str, int] | None = None,
    ) -> None:
        """`larger`: route path templates (`/v1/orgs/{org_id}/...`) with limits of their own."""
        self.app = app
        self.registry = registry
        self.default_bytes = max_bytes
        self.larger = [(_template(path), limit) for path, limit in (larger or {}).items()]

    def limit_for(self, path: str) -> int:
        return next(
            (n for pattern, n in self.larger if pattern.fullmatch(path)), self.default_bytes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await self._refuse(scope, receive, send, max_bytes)
            return
        # Without a declared length (chunked), buffer up to the limit, then replay.
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > max_bytes:
                await self._refuse(scope, receive, send, max_bytes)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        problem = Problem(
            Kind.INVALID_ARGUMENT,
            "request_too_large",
            f"Request body larger than {max_bytes} bytes",
            http_status=413,
        )
        response = self.registry.for_path(scope["path"]).render(problem)
        await response(scope, receive, send)


def _template(path: str) -> re.Pattern[str]:
    """A route template as a pattern: each `{param}` matches one path segment."""
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)))
