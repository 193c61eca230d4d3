"""Headers every answer carries, whoever produced it (a route, a dialect's error handler, the
body size limit, the 500 handler): the app wraps this outside Starlette's whole stack.

- `X-Content-Type-Options: nosniff` everywhere: a browser never guesses a type we did not send.
- `Cache-Control: no-store` on every answer that does not choose its own caching: session
  tokens, reset codes and secrets must never land in a browser or proxy cache, and a rule
  for all answers cannot miss a new route. The static assets of the docs keep their caching.
- A Content-Security-Policy on the documentation pages: only this server's scripts, plus the
  page's own inline scripts by their sha256 (computed from the body actually sent, so a
  changed title, root path or library version cannot break it), never `unsafe-eval`, and
  never framed (clickjacking).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")
# An inline script: a <script> element without a src attribute. The hash covers exactly the
# text between the tags, as the browser sees it (CSP3 §8.4).
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.S | re.I)
# What the two pages need, as found in Chromium with each allowance taken away in turn:
# ReDoc styles its widgets with styles it writes at run time (which cannot be hashed ahead,
# so styles, never scripts, may be inline), runs its search in a blob: worker, and both draw
# data: icons. ReDoc's footer logo from cdn.redoc.ly is blocked on purpose (it hides itself).
DOCS_POLICY = (
    "default-src 'none'",
    "script-src {scripts}",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "worker-src blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP source expressions (`'sha256-…'`) for each inline script of `html`, in order."""
    found = []
    for body in _INLINE_SCRIPT.findall(html):
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if (source := f"'sha256-{digest}'") not in found:
            found.append(source)
    return found


def docs_policy(html: bytes) -> str:
    scripts = " ".join(["'self'", *inline_script_hashes(html)])
    return "; ".join(DOCS_POLICY).format(scripts=scripts)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, pages: Collection[str], cacheable_prefix: str) -> None:
        """`pages`: paths of HTML pages that get the CSP; `cacheable_prefix`: static files."""
        self.app = app
        self.pages = frozenset(pages)
        self.cacheable = cacheable_prefix.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        cacheable = path.startswith(self.cacheable)
        if path in self.pages:
            await self.app(scope, receive, _PageWithPolicy(send))
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _completed(message.get("headers", []), cacheable)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _PageWithPolicy:
    """Holds a page back until its body is complete, to hash its inline scripts."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.body += message.get("body", b"")
        if message.get("more_body", False):
            return
        headers = _completed(self.start.get("headers", []), cacheable=False)
        content_type = dict(headers).get(b"content-type", b"")
        if content_type.startswith(b"text/html"):
            headers.append((b"content-security-policy", docs_policy(self.body).encode()))
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": self.body, "more_body": False})


def _completed(headers: list[tuple[bytes, bytes]], cacheable: bool) -> list[tuple[bytes, bytes]]:
    """`headers` plus nosniff, plus no-store unless cacheable or the answer chose its own."""
    headers = [(name.lower(), value) for name, value in headers]
    names = {name for name, _ in headers}
    if NOSNIFF[0] not in names:
        headers.append(NOSNIFF)
    if not cacheable and NO_STORE[0] not in names:
        headers.append(NO_STORE)
    return headers


def _route_path(scope: Scope) -> str:
    """The path inside the app: without the root path a proxy mounts it under."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
