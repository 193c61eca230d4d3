"""Who runs the projection worker: exactly one process per deployment (CONTRACTS §8).

Every server process (and `credledger projections run`) asks; one holds a lock the store
releases by itself when its holder dies (a PostgreSQL session advisory lock, a file lock on
the embedded store), so a `kill -9` hands the work to a standby within a poll.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import psycopg

log = logging.getLogger("storage.leadership")

LIVENESS_CHECK_SECONDS = 1.0


def advisory_key(name: str) -> int:
    """A stable signed 64-bit lock key per schema (several deployments may share a DB)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)


class DatabaseLeadership:
    """A session advisory lock on a connection of its own, held while this process leads."""

    def __init__(self, conninfo: dict[str, Any], schema: str) -> None:
        self.conninfo = {**conninfo, "application_name": f"credledger-lead:{schema}"[:63]}
        self.key = advisory_key(f"credledger-projections:{schema}")
        self._conn: psycopg.Connection[Any] | None = None
        self._checked_at = 0.0

    def hold(self) -> bool:
        """True while this process holds the lock (taking it if it is free)."""
        try:
            if self._conn is not None:
                if time.monotonic() - self._checked_at >= LIVENESS_CHECK_SECONDS:
                    self._conn.execute("SELECT 1")  # a dead session has lost the lock
                    self._checked_at = time.monotonic()
                return True
            # The conninfo's statement timeout is harmless here: it cancels statements, and
            # an idle session holding the lock runs none (no idle_session_timeout is set).
            conn = psycopg.connect(**{"connect_timeout": 5, **self.conninfo}, autocommit=True)
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            if row and row[0]:
                self._conn, self._checked_at = conn, time.monotonic()
                log.info("this process now runs the projection worker")
                return True
            conn.close()
            return False
        except psycopg.Error as error:
            log.warning("projection leadership lost (%s)", type(error).__name__)
            self.release()
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # closing the session releases the lock
            finally:
                self._conn = None


class FileLeadership:
    """An exclusive `flock` on a file beside the embedded store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def hold(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        log.info("this process now runs the projection worker")
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
