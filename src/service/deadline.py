"""How long the work in hand may still wait on the store: a request's answer must not wait
on an unreachable database for longer than the client is promised (CONTRACTS §12).

The transport opens a deadline per request; store adapters shorten their waits (a pooled
connection, a retry) to what is left. Work outside a request (the projection worker, the
CLI) has no deadline and waits as its adapters are configured.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Monotonic time by which the current request must stop waiting on the store. A context
# variable, so each request has its own and worker threads started for it inherit it.
_deadline: ContextVar[float | None] = ContextVar("store_deadline", default=None)


@contextmanager
def store_deadline(seconds: float) -> Iterator[None]:
    """Waits on the store inside this block end `seconds` from now (or at an outer,
    earlier deadline)."""
    until = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(until if outer is None else min(outer, until))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the deadline (negative once past); None without one."""
    until = _deadline.get()
    return None if until is None else until - time.monotonic()
