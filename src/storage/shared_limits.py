"""Rate limits counted in PostgreSQL, so they hold across every process and node (§8).

One statement per request: an upsert of each key's fixed window that returns the window's
count and how long it has left, using the database's clock (nodes' clocks may differ).
Keys are stored as keyed digests: the table holds no client address and no login.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import psycopg
from eventsourcing.persistence import OperationalError
from psycopg_pool import PoolTimeout

from domain.errors import RateLimited
from storage.readstores import PostgresReadStore

# Limits are per minute: one fixed window of a minute, as the in-process limiter counts.
WINDOW_SECONDS = 60.0

COUNT = f"""
INSERT INTO rate_limits AS r (key, window_start, hits)
SELECT k, now(), 1 FROM unnest(%s::text[]) AS k
ON CONFLICT (key) DO UPDATE SET
    window_start = CASE WHEN r.window_start <= now() - interval '{WINDOW_SECONDS:g} seconds'
                   THEN now() ELSE r.window_start END,
    hits = CASE WHEN r.window_start <= now() - interval '{WINDOW_SECONDS:g} seconds'
           THEN 1 ELSE r.hits + 1 END
RETURNING hits, extract(epoch FROM r.window_start + interval '{WINDOW_SECONDS:g} seconds' - now())
"""

FORGET_EXPIRED = (
    f"DELETE FROM rate_limits WHERE window_start < now() - interval '{WINDOW_SECONDS:g} seconds'"
)
FORGET_EVERY_SECONDS = 60.0


class DatabaseRateLimiter:
    def __init__(
        self, store: PostgresReadStore, per_minute: int, digest: Callable[[str], str]
    ) -> None:
        self.per_minute = per_minute
        self._store = store
        self._digest = digest
        self._forget_at = time.monotonic() + FORGET_EVERY_SECONDS

    def check(self, *keys: str) -> None:
        if self.per_minute <= 0 or not keys:
            return
        # Sorted, so two requests locking the same rows take them in one order (no deadlock).
        digests = sorted({self._digest(key) for key in keys})
        try:
            with self._store.pool.connection() as conn:
                counts = conn.execute(COUNT, (digests,)).fetchall()
                if time.monotonic() >= self._forget_at:
                    self._forget_at = time.monotonic() + FORGET_EVERY_SECONDS
                    conn.execute(FORGET_EXPIRED)
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise OperationalError(str(error)) from error  # answered as "store unavailable"
        waits = [float(left) for hits, left in counts if hits > self.per_minute]
        if waits:
            raise RateLimited(max(1, math.ceil(max(waits))))
