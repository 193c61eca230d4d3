"""Lean reads of the library's events table, for what its API does one row at a time: the
read models' batches (`event_facts`) and bulk existence checks (`originators`)."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg.rows import tuple_row

from service.store import EventStore

# What the SQLite read store calls the events file it attaches for `query_with_head`.
ATTACHED_EVENTS = "events"


def postgres_table(store: EventStore) -> sql.Composed | None:
    """The schema-qualified events table on PostgreSQL; None on SQLite."""
    recorder = store.recorder
    schema = getattr(recorder.datastore, "schema", None)  # type: ignore[attr-defined]
    if schema is None:
        return None
    table = recorder.events_table_name  # type: ignore[attr-defined]
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def sqlite_table(store: EventStore) -> str:
    return store.recorder.events_table_name  # type: ignore[attr-defined]


def sqlite_rows(store: EventStore, text: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    datastore = store.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as cursor:
        raw = cursor.sqlite_cursor
        raw.row_factory = None  # plain tuples: the library's rows are dict-like
        raw.execute(text, args)
        return raw.fetchall()


def postgres_rows(
    store: EventStore, query: sql.Composable, args: tuple[Any, ...]
) -> list[tuple[Any, ...]]:
    datastore = store.recorder.datastore  # type: ignore[attr-defined]
    with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(query, args, prepare=True)
        return cursor.fetchall()
