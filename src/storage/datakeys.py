"""Where the wrapped personal data keys live (CONTRACTS §6): never in the event store.

SQLite: a file of its own beside the events (`credledger-keys.db`), so rebuilding or deleting
the read models can never erase anyone. PostgreSQL: the `data_keys` table of migration 0004.
"""

from __future__ import annotations

from uuid import UUID

from projections.event_types import iso
from projections.readstore import ReadStore, in_lists
from service.core import utc_now

SQLITE_DDL = (
    """CREATE TABLE IF NOT EXISTS data_keys (
        subject TEXT PRIMARY KEY,
        wrapped_key BLOB,
        created_at TEXT NOT NULL,
        destroyed_at TEXT
    )""",
)


class SqlDataKeyTable:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def fetch(self, subject: UUID) -> tuple[bytes | None] | None:
        rows = self.store.query(
            "SELECT wrapped_key FROM data_keys WHERE subject = ?", (str(subject),)
        )
        return (None if rows[0][0] is None else bytes(rows[0][0]),) if rows else None

    def fetch_many(self, subjects: list[UUID]) -> dict[UUID, tuple[bytes | None]]:
        found: dict[UUID, tuple[bytes | None]] = {}
        for marks, chunk in in_lists([str(s) for s in subjects]):
            rows = self.store.query(
                f"SELECT subject, wrapped_key FROM data_keys WHERE subject IN ({marks})", chunk
            )
            for subject, wrapped in rows:
                found[UUID(subject)] = (None if wrapped is None else bytes(wrapped),)
        return found

    def insert(self, subject: UUID, wrapped: bytes) -> None:
        self.insert_many([(subject, wrapped)])

    def insert_many(self, rows: list[tuple[UUID, bytes]]) -> None:
        now = iso(utc_now())
        with self.store.transaction() as tx:
            tx.cursor.executemany(
                tx.sql(
                    "INSERT INTO data_keys (subject, wrapped_key, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (subject) DO NOTHING"
                ),
                [(str(subject), wrapped, now) for subject, wrapped in rows],
            )

    def destroy(self, subject: UUID) -> None:
        now = iso(utc_now())
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO data_keys (subject, wrapped_key, created_at, destroyed_at) "
                "VALUES (?, NULL, ?, ?) ON CONFLICT (subject) DO UPDATE "
                "SET wrapped_key = NULL, destroyed_at = excluded.destroyed_at",
                (str(subject), now, now),
            )
        self.store.wipe_freed()

    def close(self) -> None:
        self.store.close()
