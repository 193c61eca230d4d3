"""What read models need of a store (the adapters for SQLite and PostgreSQL live in `storage`).

Table names carry a generation (`rm_users_g3`), so a rebuild fills new tables beside the
live ones and then switches. Positions are per model and generation, advanced in the same
transaction as the rows (exactly once).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from projections.model import ReadModel
from projections.statements import Statement

BASE_DDL = [
    """CREATE TABLE IF NOT EXISTS rm_positions (
        model TEXT NOT NULL,
        generation INTEGER NOT NULL,
        position BIGINT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (model, generation)
    )""",
    """CREATE TABLE IF NOT EXISTS rm_active (
        model TEXT PRIMARY KEY,
        generation INTEGER NOT NULL
    )""",
]


class PositionMoved(Exception):
    """Another writer advanced this model first; the batch is rolled back and re-read."""


class Cursor(Protocol):
    rowcount: int

    def execute(self, sql: str, args: Sequence[Any] = ...) -> Any: ...

    def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> Any: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


IN_LIST_SIZE = 500  # keys per `IN (...)`: well under every store's parameter limit


def in_lists(keys: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
    """Many keys as a few `IN (...)` lists: (the placeholders, their keys) for each query."""
    ordered = sorted(keys)
    for start in range(0, len(ordered), IN_LIST_SIZE):
        chunk = ordered[start : start + IN_LIST_SIZE]
        yield ", ".join("?" * len(chunk)), chunk


def physical(logical: str, generation: int) -> str:
    return f"rm_{logical}_g{generation}"


def table_names(model: ReadModel, generation: int) -> dict[str, str]:
    return {logical: physical(logical, generation) for logical in model.tables}


# A 64-bit integer primary key. On SQLite the rowid itself: rows are stored in key order and
# no second index is kept (any other spelling, BIGINT included, makes one).
SQLITE_TYPES = {"int64_key": "INTEGER PRIMARY KEY"}
POSTGRES_TYPES = {"int64_key": "BIGINT PRIMARY KEY"}


COPY_FROM_ROWS = 50  # below this, COPY's extra round trips cost more than it saves


class Transaction:
    """A write transaction: statements with `{table}` names and `?` placeholders; DDL may
    name the store's own column types (`{int64_key}`)."""

    def __init__(self, cursor: Cursor, placeholder: str, types: dict[str, str]) -> None:
        self.cursor = cursor
        self._placeholder = placeholder
        self._types = types

    def sql(self, text: str, tables: dict[str, str] | None = None) -> str:
        text = text.format(**tables, **self._types) if tables else text
        return text.replace("?", self._placeholder) if self._placeholder != "?" else text

    def execute(
        self, text: str, args: Sequence[Any] = (), tables: dict[str, str] | None = None
    ) -> Cursor:
        self.cursor.execute(self.sql(text, tables), tuple(args))
        return self.cursor

    def apply(self, statements: list[Statement], tables: dict[str, str]) -> None:
        """Runs statements in order, batching runs of the same SQL into one executemany."""
        run: list[tuple[Any, ...]] = []
        current: str | None = None
        for statement in [*statements, None]:
            if statement is not None and statement.sql == current:
                run.append(statement.args)
                continue
            if current is not None:
                self.cursor.executemany(self.sql(current, tables), run)
            if statement is not None:
                current, run = statement.sql, [statement.args]

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Bulk insert: COPY on PostgreSQL (many times faster than INSERTs for a rebuild's
        batches; a live batch of a few rows is quicker as one pipelined INSERT), else
        executemany."""
        if not rows:
            return
        names = ", ".join(columns)
        copy = getattr(self.cursor, "copy", None)
        if copy is not None and len(rows) >= COPY_FROM_ROWS:
            with copy(f"COPY {table} ({names}) FROM STDIN") as out:
                for row in rows:
                    out.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        self.cursor.executemany(self.sql(f"INSERT INTO {table} ({names}) VALUES ({marks})"), rows)

    def advance(self, model: str, generation: int, expected: int, position: int, now: str) -> None:
        self.execute(
            "UPDATE rm_positions SET position = ?, updated_at = ? "
            "WHERE model = ? AND generation = ? AND position = ?",
            (position, now, model, generation, expected),
        )
        if self.cursor.rowcount != 1:
            raise PositionMoved(model)


class ReadStore(Protocol):
    kind: str

    @contextmanager
    def transaction(self) -> Iterator[Transaction]: ...

    def query(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def query_with_head(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]] | None:
        """One statement, in one round trip and on one snapshot of the read models, that may
        also read the event store's head (`FactSource.head_sql`). None when it could not run
        as written (a table it names was dropped by a rebuild, or the events are out of
        reach): the caller then takes the slow path."""
        ...

    def wipe_freed(self) -> None:
        """Makes sure bytes that were deleted or overwritten are gone from the files."""
        ...

    def close(self) -> None: ...
