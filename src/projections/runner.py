"""The projection worker: a thread that keeps read models caught up.

It wakes on a local write (in-process), on PostgreSQL notifications from the event store's
inserts, or on a short poll, and it survives a dropped connection by backing off and
resuming from the positions recorded with the rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg
from psycopg import sql

log = logging.getLogger("credledger.projections")

POLL_SECONDS = 0.5
STANDBY_SECONDS = 1.0  # how soon a standby takes over from a leader that died
MAX_BACKOFF_SECONDS = 10.0


class Listener:
    """Blocks until the event store announces an insert (PostgreSQL LISTEN), or a timeout."""

    def __init__(self, conninfo: dict[str, Any], channel: str) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self._conn: psycopg.Connection[Any] | None = None

    def wait(self, timeout: float) -> bool:
        try:
            conn = self._connect()
            return any(True for _ in conn.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error as error:
            log.warning("listen connection lost (%s); reconnecting", type(error).__name__)
            self.close()
            # The wait still lasts: a server that refuses at once must not spin the worker.
            time.sleep(timeout)
            return False

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(**{"connect_timeout": 5, **self.conninfo}, autocommit=True)
            self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Follower(Protocol):
    """Something that follows the event store: the read models, the ledger."""

    def catch_up(self) -> int: ...


class Leadership(Protocol):
    """Exactly one worker per deployment: only the holder projects; the others stand by."""

    def hold(self) -> bool:
        """True while this process leads (taking the lead if it is free)."""

    def release(self) -> None: ...


class ProjectionWorker:
    def __init__(
        self,
        followers: Sequence[Follower],
        listener: Listener | None = None,
        leadership: Leadership | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.followers = list(followers)
        self.listener = listener
        self.leadership = leadership
        self.poll_seconds = poll_seconds
        # Without a leadership to ask, this worker is the deployment's only one.
        self.leading = leadership is None
        self._running = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def standing_by(self) -> bool:
        """Running, while another process runs the deployment's worker."""
        return self._running and not self.leading

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self.run, name="projections", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.listener is not None:
            self.listener.close()

    def run(self) -> None:
        try:
            self._follow()
        finally:
            self._running = False
            self.leading = self.leadership is None
            if self.leadership is not None:
                self.leadership.release()

    def _follow(self) -> None:
        # Each follower backs off on its own: a broken ledger must not stall the read models.
        backoff = [0.0] * len(self.followers)
        retry_at = [0.0] * len(self.followers)
        while not self._stop.is_set():
            if self.leadership is not None:
                was_leading, self.leading = self.leading, self.leadership.hold()
                if self.leading and not was_leading:
                    # A new lock session: the store answers, so whatever failed during an
                    # outage is tried at once, not after the backoff it had grown.
                    backoff = [0.0] * len(self.followers)
                    retry_at = [0.0] * len(self.followers)
                if not self.leading:
                    self._stop.wait(STANDBY_SECONDS)
                    continue
            for i, follower in enumerate(self.followers):
                if time.monotonic() < retry_at[i]:
                    continue
                try:
                    follower.catch_up()
                    backoff[i] = 0.0
                except Exception as error:  # a dropped connection must not end the worker
                    backoff[i] = min(MAX_BACKOFF_SECONDS, max(0.2, backoff[i] * 2))
                    retry_at[i] = time.monotonic() + backoff[i]
                    name = type(follower).__name__
                    log.warning("%s failed (%s); retrying in %.1fs", name, error, backoff[i])
            self._idle()

    def _idle(self) -> None:
        if self.listener is not None and not self._wake.is_set():
            self.listener.wait(self.poll_seconds)
        else:
            self._wake.wait(self.poll_seconds)
        self._wake.clear()
