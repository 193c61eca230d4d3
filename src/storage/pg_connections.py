"""How this process connects to PostgreSQL: timeouts on every connection, and pools that
fail at once while the server is unreachable instead of holding requests (CONTRACTS §12).

Every connection the process opens (the event store's pool, the read store's, the data keys',
the leader's lock session, the LISTEN session) takes its options from `PgTimeouts`: a
server-side statement timeout, a connect timeout for each attempt, and TCP keepalives plus
a user timeout so a server that vanished without closing its sockets is noticed within
seconds rather than the kernel's quarter of an hour.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg_pool import ConnectionPool, PoolTimeout

from service import deadline

# While the server is unreachable, one checkout per PROBE_SECONDS may wait (briefly) for the
# pool to reconnect; every other fails at once, so an outage answers in milliseconds and a
# server that is back is found within a probe.
PROBE_SECONDS = 0.5
PROBE_WAIT_SECONDS = 1.0
# What a request past its deadline may still wait for a connection: a healthy pool hands one
# over at once, so a long request (an import) is not failed for having run long.
DEADLINE_GRACE_SECONDS = 0.25
# How long the pool keeps trying to replace a lost connection before it gives up (a waiting
# checkout starts a new attempt). psycopg_pool's default is 5 minutes with doubling pauses,
# which could find a returned server only many seconds late.
RECONNECT_SECONDS = 3.0


@dataclass(frozen=True)
class PgTimeouts:
    """Seconds. `statement`: the server cancels any statement running longer;
    `connect`: one connection attempt (libpq, whole seconds, at least 2);
    `pool_wait`: a checkout waits this long for a pooled connection."""

    statement: float = 5.0
    connect: int = 3
    pool_wait: float = 2.0

    # Keys of the event store's environment (`GuardedPostgresFactory` reads them back).
    ENV_KEYS = ("POSTGRES_STATEMENT_TIMEOUT", "POSTGRES_ATTEMPT_TIMEOUT", "POSTGRES_POOL_WAIT")

    @property
    def options(self) -> str:
        """libpq `options`: session settings sent with the startup packet (no round trip)."""
        return f"-c statement_timeout={math.ceil(self.statement * 1000)}"

    def connection_kwargs(self, options: str = "") -> dict[str, Any]:
        """What psycopg.connect needs, on top of host, user and database; `options` adds
        session settings of the caller's own (e.g. a search_path)."""
        return {
            "connect_timeout": max(2, self.connect),
            "options": f"{options} {self.options}".strip(),
            # An idle session to a vanished server is probed after 5 s and dropped after
            # about 10; data the server never acknowledges ends the session after `connect`.
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 2,
            "tcp_user_timeout": max(2, self.connect) * 1000,
        }

    def to_env(self) -> dict[str, str]:
        values = (self.statement, self.connect, self.pool_wait)
        return {key: str(value) for key, value in zip(self.ENV_KEYS, values, strict=True)}

    @classmethod
    def from_env(cls, get: Mapping[str, str] | Any) -> PgTimeouts:
        """From `to_env`'s keys (any object with `get`, e.g. the library's Environment)."""
        statement, connect, pool_wait = (get.get(key) for key in cls.ENV_KEYS)
        default = cls()
        return cls(
            float(statement) if statement else default.statement,
            int(connect) if connect else default.connect,
            float(pool_wait) if pool_wait else default.pool_wait,
        )


class StoreUnreachable(PoolTimeout):
    """No connection, at once: the server refused this process's last attempt to connect
    (or the request's time is up). Not worth retrying within the request."""


class GuardedPool(ConnectionPool[Any]):
    """A psycopg pool whose checkouts wait no longer than the request has left, fail at once
    while the server is known to be unreachable (one probe per PROBE_SECONDS excepted), and
    check every connection before handing it out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("check", ConnectionPool.check_connection)
        kwargs.setdefault("reconnect_timeout", RECONNECT_SECONDS)
        super().__init__(*args, **kwargs)
        self._unreachable = False
        self._next_probe = 0.0
        self._probe_lock = threading.Lock()

    @property
    def unreachable(self) -> bool:
        """The last attempt to connect failed and no checkout has succeeded since."""
        return self._unreachable

    def getconn(self, timeout: float | None = None) -> Any:
        wait = self.timeout if timeout is None else timeout
        left = deadline.remaining()
        if left is not None:
            wait = min(wait, max(left, DEADLINE_GRACE_SECONDS))
        if self._unreachable and not self.get_stats().get("pool_available"):
            if (left is not None and left <= 0) or not self._probe_turn():
                raise StoreUnreachable(f"the database is unreachable (pool {self.name})")
            wait = min(wait, PROBE_WAIT_SECONDS)
        conn = super().getconn(wait)
        self._unreachable = False  # a checked connection: the server answers again
        return conn

    def _probe_turn(self) -> bool:
        with self._probe_lock:
            now = time.monotonic()
            if now < self._next_probe:
                return False
            self._next_probe = now + PROBE_SECONDS
            return True

    def _connect(self, timeout: float | None = None) -> Any:
        # The pool's own hook for every new connection (eventsourcing overrides it too).
        try:
            conn = super()._connect(timeout)
        except Exception as error:
            # A server out of connection slots is there, only busy: checkouts wait for a
            # connection to come back rather than fail at once.
            self._unreachable = not _server_full(error)
            raise
        self._unreachable = False
        return conn


def _server_full(error: Exception) -> bool:
    """SQLSTATE 53300 at connection time, which psycopg reports by its message only."""
    text = str(error)
    return "too many clients" in text or "connection slots are reserved" in text
