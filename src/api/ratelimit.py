"""Fixed-window rate limits per client address and per account.

`RateLimiter` counts in this process's memory (the embedded store: one process); a shared
store's limiter counts in the database so the limit holds across processes and nodes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from domain.errors import RateLimited

WINDOW_SECONDS = 60.0


class RateLimits(Protocol):
    per_minute: int

    def check(self, *keys: str) -> None:
        """Count one request against every key; raise `RateLimited` if any is over."""


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        """Count one request against every key; raise if any is over its limit."""
        if self.per_minute <= 0:
            return
        now = self._clock()
        with self._lock:
            if len(self._windows) > 100_000:  # drop expired windows so memory stays bounded
                self._windows = {
                    k: w for k, w in self._windows.items() if now - w[0] < WINDOW_SECONDS
                }
            waits = [self._hit(key, now) for key in keys]
        worst = max(waits, default=0.0)
        if worst > 0:
            raise RateLimited(max(1, math.ceil(worst)))

    def _hit(self, key: str, now: float) -> float:
        start, count = self._windows.get(key, (now, 0))
        if now - start >= WINDOW_SECONDS:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        return WINDOW_SECONDS - (now - start) if count > self.per_minute else 0.0
