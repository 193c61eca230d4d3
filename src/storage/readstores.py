"""Where read models live: SQLite (a file of its own) or PostgreSQL (the events' schema)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from psycopg_pool import ConnectionPool

from projections.readstore import BASE_DDL, POSTGRES_TYPES, SQLITE_TYPES, Transaction


class SqliteReadStore:
    kind = "sqlite"

    def __init__(
        self, path: Path, ddl: Sequence[str] = tuple(BASE_DDL), synchronous: str = "NORMAL"
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()  # one writer at a time in this process
        with self.transaction() as tx:
            for statement in ddl:
                tx.execute(statement)

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            # Deleted and overwritten rows are zeroed, so an erased person's plaintext does
            # not linger in free pages (CONTRACTS §6).
            conn.execute("PRAGMA secure_delete=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        conn = self._connection()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(conn.cursor(), "?", SQLITE_TYPES)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def query(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._connection().execute(text, tuple(args)).fetchall()

    def wipe_freed(self) -> None:
        """Older page images stay in the write-ahead log until it is checkpointed and cut."""
        with self._lock:
            self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class PostgresReadStore:
    kind = "postgres"

    def __init__(self, conninfo: dict[str, str], schema: str, max_size: int = 10) -> None:
        # Named, so operators (and tests) can tell these connections apart.
        kwargs = {
            **conninfo,
            "options": f"-c search_path={schema}",
            "application_name": f"credledger-reads:{schema}"[:63],
        }
        self.pool = ConnectionPool(
            kwargs=kwargs,
            min_size=1,
            max_size=max_size,
            timeout=5,
            open=True,
            check=ConnectionPool.check_connection,
        )

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield Transaction(cursor, "%s", POSTGRES_TYPES)

    def query(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            return conn.execute(text.replace("?", "%s"), tuple(args)).fetchall()

    def wipe_freed(self) -> None:
        """Nothing to do from here: dead row versions go at VACUUM (see the README)."""

    def close(self) -> None:
        self.pool.close()
