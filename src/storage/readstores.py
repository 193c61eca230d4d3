"""Where read models live: SQLite (a file of its own) or PostgreSQL (the events' schema)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from psycopg import errors

from projections.readstore import BASE_DDL, POSTGRES_TYPES, SQLITE_TYPES, Transaction
from storage.events_table import ATTACHED_EVENTS
from storage.pg_connections import GuardedPool, PgTimeouts


class SqliteReadStore:
    kind = "sqlite"

    def __init__(
        self, path: Path, ddl: Sequence[str] = tuple(BASE_DDL), synchronous: str = "NORMAL"
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self.events_path: Path | None = None  # see `attach_events`
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

    def attach_events(self, path: Path) -> None:
        """The event store's file, which `query_with_head` reads beside the read models."""
        self.events_path = path

    def query_with_head(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]] | None:
        """On a connection of its own that only ever reads, with the events file attached:
        the read models' write transactions (BEGIN IMMEDIATE) would otherwise take the
        events file's write lock too. One statement reads each file at one snapshot."""
        if self.events_path is None:
            return None
        conn = getattr(self._local, "joined", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA query_only=ON")
            conn.execute(f"ATTACH DATABASE ? AS {ATTACHED_EVENTS}", (str(self.events_path),))
            self._local.joined = conn
        try:
            return conn.execute(text, tuple(args)).fetchall()
        except sqlite3.OperationalError:  # no such table (a dropped generation), busy, ...
            return None

    def wipe_freed(self) -> None:
        """Older page images stay in the write-ahead log until it is checkpointed and cut."""
        with self._lock:
            self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        for name in ("conn", "joined"):
            conn = getattr(self._local, name, None)
            if conn is not None:
                conn.close()
                setattr(self._local, name, None)


class PostgresReadStore:
    kind = "postgres"

    def __init__(
        self,
        conninfo: dict[str, str],
        schema: str,
        max_size: int = 10,
        timeouts: PgTimeouts | None = None,
    ) -> None:
        timeouts = timeouts or PgTimeouts()
        # Named, so operators (and tests) can tell these connections apart.
        kwargs = {
            **conninfo,
            **timeouts.connection_kwargs(options=f"-c search_path={schema}"),
            "application_name": f"credledger-reads:{schema}"[:63],
        }
        # Fails at once while the server is unreachable, within the request's deadline
        # (storage.pg_connections), and checks each connection before handing it out.
        self.pool = GuardedPool(
            kwargs=kwargs,
            min_size=1,
            max_size=max_size,
            timeout=timeouts.pool_wait,
            open=True,
            name=f"credledger-reads:{schema}",
        )

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield Transaction(cursor, "%s", POSTGRES_TYPES)

    def query(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            return conn.execute(text.replace("?", "%s"), tuple(args)).fetchall()

    def query_with_head(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]] | None:
        """In autocommit: a single statement is its own snapshot, and BEGIN and COMMIT would
        be two more round trips. Prepared on each connection at its first run."""
        with self.pool.connection() as conn:
            conn.autocommit = True
            try:
                return conn.execute(text.replace("?", "%s"), tuple(args), prepare=True).fetchall()
            except errors.UndefinedTable:  # a generation a rebuild dropped meanwhile
                return None
            finally:
                if not conn.closed:
                    conn.autocommit = False  # as the pool's other users expect it

    def wipe_freed(self) -> None:
        """Nothing to do from here: dead row versions go at VACUUM (see the README)."""

    def close(self) -> None:
        self.pool.close()
