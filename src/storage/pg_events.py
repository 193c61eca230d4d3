"""The event store on PostgreSQL: the library's recorders with retries that fit a request,
over a `GuardedPool` (storage.pg_connections).

The library retries every recorder call 10 times on any operational error, each try waiting
for a pooled connection: during an outage one call could hold a request for minutes, a
statement timeout was run again and again, and a write whose commit was in flight when the
connection broke was written again (answered as a conflict, the command re-ran: applied
twice). Here a call is retried only while it is worth it: not once the pool knows the server
is gone, not after the server cancelled the statement, a write only when it never reached the
server, and never past the request's deadline.

Selected by `PERSISTENCE_MODULE=storage.pg_events:GuardedPostgresFactory` (credledger.wiring).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.utils import Environment, EnvType
from psycopg.errors import QueryCanceled
from psycopg_pool import PoolTimeout

from service import deadline
from storage.pg_connections import GuardedPool, PgTimeouts, StoreUnreachable

RETRY_ATTEMPTS = 5
RETRY_WAIT_SECONDS = 0.2


def _worth_retrying(error: Exception, writes: bool) -> bool:
    cause = error.__cause__  # the library raises its own errors from psycopg's
    if isinstance(cause, StoreUnreachable | QueryCanceled):
        return False
    # A write that got no connection was never sent; any other failure may have come after
    # the commit reached the server, and writing it again would apply it twice.
    return not writes or isinstance(cause, PoolTimeout)


def bounded_retry(library_method: Callable[..., Any], *, writes: bool) -> Callable[..., Any]:
    """The library's method without its own retry decorator, retried as described above."""
    func: Callable[..., Any] = library_method.__wrapped__  # type: ignore[attr-defined]

    @wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except (InterfaceError, OperationalError) as error:
                left = deadline.remaining()
                out_of_time = left is not None and left < RETRY_WAIT_SECONDS
                if attempt == RETRY_ATTEMPTS or out_of_time or not _worth_retrying(error, writes):
                    raise
            time.sleep(RETRY_WAIT_SECONDS)
        raise AssertionError("unreachable")  # pragma: no cover

    return call


class GuardedAggregateRecorder(PostgresAggregateRecorder):
    """Snapshots."""

    insert_events = bounded_retry(PostgresAggregateRecorder.insert_events, writes=True)
    select_events = bounded_retry(PostgresAggregateRecorder.select_events, writes=False)


class GuardedApplicationRecorder(PostgresApplicationRecorder):
    """Events and notifications."""

    insert_events = bounded_retry(PostgresApplicationRecorder.insert_events, writes=True)
    select_events = bounded_retry(PostgresApplicationRecorder.select_events, writes=False)
    select_notifications = bounded_retry(
        PostgresApplicationRecorder.select_notifications, writes=False
    )
    max_notification_id = bounded_retry(
        PostgresApplicationRecorder.max_notification_id, writes=False
    )


class GuardedPostgresFactory(PostgresFactory):
    aggregate_recorder_class = GuardedAggregateRecorder
    application_recorder_class = GuardedApplicationRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        # The library builds its pool itself (never opened yet); the same pool, guarded,
        # with timeouts on every connection, takes its place.
        timeouts = PgTimeouts.from_env(self.env)
        library = self.datastore.pool
        self.datastore.pool = GuardedPool(
            kwargs={**(library.kwargs or {}), **timeouts.connection_kwargs()},  # type: ignore[dict-item]
            connection_class=library.connection_class,
            min_size=library.min_size,
            max_size=library.max_size,
            open=False,
            configure=self.datastore.after_connect_func(),
            timeout=timeouts.pool_wait,
            max_waiting=library.max_waiting,
            max_lifetime=library.max_lifetime,
            name="credledger-events",
        )
