"""Where a caller-supplied reset link may point (CONTRACTS §14).

A reset link carries a live reset token, so a link to a host the operator does not control
hands that host the account. Links are compared with the allowed prefixes as parsed URLs
(scheme, host, port, path below the prefix's path), never as raw strings:
`https://good.example.evil.example/` does not start with the host `good.example`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from domain.errors import InvalidArgument

MAX_PREFIXES = 20
MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
# Whitespace, controls and backslashes: browsers strip or reinterpret them (`\` as `/`), so a
# link holding one may not go where its text seems to say.
_AMBIGUOUS = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class UrlPrefix:
    scheme: str
    host: str
    port: int
    path: str  # always ends with "/": a prefix covers whole path segments


def parse_prefix(text: str) -> UrlPrefix:
    """An allowed prefix: an absolute http(s) URL without credentials, query or fragment."""
    parts = _parsed(text)
    if parts is None or parts.query or parts.fragment or "%" in parts.path:
        raise InvalidArgument(
            "resetUrlPrefixes",
            f"{text[:100]!r} is not an absolute http(s) URL without query or fragment",
        )
    path = _without_dot_segments(parts.path or "/")
    if path is None:
        raise InvalidArgument("resetUrlPrefixes", f"{text[:100]!r} has '.' or '..' segments")
    return UrlPrefix(parts.scheme, parts.host, parts.port, path.rstrip("/") + "/")


def is_allowed(link: str, prefixes: tuple[UrlPrefix, ...]) -> bool:
    """True when `link` (a URL template, placeholders and all) lies below one of `prefixes`."""
    parts = _parsed(link)
    if parts is None:
        return False
    path = _without_dot_segments(parts.path or "/")
    if path is None:
        return False
    return any(
        (parts.scheme, parts.host, parts.port) == (p.scheme, p.host, p.port)
        and (path + "/").startswith(p.path)
        for p in prefixes
    )


@dataclass(frozen=True)
class _Parts:
    scheme: str
    host: str
    port: int
    path: str
    query: str
    fragment: str


def _parsed(text: str) -> _Parts | None:
    if not text or len(text) > MAX_URL_LENGTH or _AMBIGUOUS.search(text):
        return None
    try:
        split = urlsplit(text)
        port = split.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    scheme = split.scheme.lower()
    host = (split.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host or "@" in split.netloc:
        return None  # `https://good.example@evil.example/` names evil.example: refused outright
    return _Parts(
        scheme, host, port or DEFAULT_PORTS[scheme], split.path, split.query, split.fragment
    )


def _without_dot_segments(path: str) -> str | None:
    """None when any segment is `.` or `..`, also percent-encoded (`%2e%2E`): browsers resolve
    them, so `/ui/../steal` would leave the prefix."""
    segments = path.split("/")
    if any(unquote(segment) in (".", "..") for segment in segments):
        return None
    return path
