"""The read models' view of the event store: stored rows turned into facts, nothing more.

Reads the events table with one lean query (ids as text, no notification objects) and decodes
each relevant event's JSON with orjson. Only the sealed fields a read model keeps (a user's
username, email and full name, on registration; an imported hash's scheme, for the import
report) are opened here; client metadata stays sealed until a history row is read, and hashes
and reset digests are never opened at all (no read model needs them).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic
from psycopg import sql

from domain.personal import CLIENT, read_model_fields
from projections.facts import Batch, Fact, sealed_blob, stored_moment, uuid_text
from projections.projector import RELEVANT_TOPICS
from service.sealing import Sealed
from service.store import EventStore
from storage.events_table import (
    ATTACHED_EVENTS,
    postgres_rows,
    postgres_table,
    sqlite_rows,
    sqlite_table,
)

Row = tuple[int, str, int, str, bytes]  # position, originator id, version, topic, state


class StoredFacts:
    def __init__(self, store: EventStore) -> None:
        self.store = store
        # topic -> (event class, the sealed fields models read); None for events no model reads
        self._kinds: dict[str, tuple[type, tuple[str, ...]] | None] = {}
        mapper = store.mapper
        self._transformed = mapper.cipher is not None or mapper.compressor is not None
        table = postgres_table(store)
        if table is not None:
            self._select = self._postgres
            # The same schema as the read models: their statements can read it directly.
            self._head_sql = (
                sql.SQL("(SELECT COALESCE(MAX(notification_id), 0) FROM {table})")
                .format(table=table)
                .as_string(None)
            )
            self._query = sql.SQL(
                "SELECT notification_id, originator_id::text, originator_version, topic, state "
                "FROM {table} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            ).format(table=table)
        else:
            self._select = self._sqlite
            self._text = (
                "SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {sqlite_table(store)} WHERE rowid > ? ORDER BY rowid LIMIT ?"
            )
            # A file of its own, which the read store attaches (`SqliteReadStore.attach_events`).
            self._head_sql = (
                f"(SELECT COALESCE(MAX(rowid), 0) FROM {ATTACHED_EVENTS}.{sqlite_table(store)})"
            )

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def head_sql(self) -> str:
        """What `head` reads (the library's own query: the highest notification id), as an
        expression for a read model's statement."""
        return self._head_sql

    def batch_after(self, position: int, limit: int) -> Batch | None:
        return self.decode(self.read_after(position, limit))

    def read_after(self, position: int, limit: int) -> list[Row]:
        return self._select(position, limit)

    def decode(self, rows: list[Row]) -> Batch | None:
        if not rows:
            return None
        facts, personal = [], []
        for row in rows:
            fact = self._fact(row)
            if fact is not None:
                facts.append(fact)
                if fact.personal:
                    personal.append(fact)
        if personal:
            self._open_personal(personal)
        return Batch(facts, int(rows[-1][0]), len(rows))

    def open_client(self, subject: str, blob: str) -> dict[str, Any]:
        return self.store.data_keys.open(UUID(subject), CLIENT, Sealed(blob)) or {}

    # --- reading ---

    def _sqlite(self, position: int, limit: int) -> list[Row]:
        return sqlite_rows(self.store, self._text, (position, limit))

    def _postgres(self, position: int, limit: int) -> list[Row]:
        return postgres_rows(self.store, self._query, (position, limit))

    # --- decoding ---

    def _fact(self, row: Row) -> Fact | None:
        position, subject, version, topic, state = row
        known = self._kind(topic)
        if known is None:
            return None
        kind, personal = known
        fields = orjson.loads(self._plain(state) if self._transformed else state)
        at = stored_moment(fields["timestamp"]) or ""
        return Fact(position, kind, uuid_text(subject), version, at, fields, personal)

    def _open_personal(self, facts: list[Fact]) -> None:
        """Opens the sealed fields read models keep, with one key query for the batch; they
        read as None once the person is erased."""
        keys = self.store.data_keys
        keys.warm({UUID(f.subject) for f in facts})
        for fact in facts:
            for name in fact.personal:
                blob = sealed_blob(fact.fields.get(name))
                if blob is not None:
                    fact.fields[name] = keys.open(UUID(fact.subject), name, Sealed(blob))

    def _kind(self, topic: str) -> tuple[type, tuple[str, ...]] | None:
        try:
            return self._kinds[topic]
        except KeyError:
            kind = resolve_topic(topic) if topic.startswith(RELEVANT_TOPICS) else None
            known = self._kinds[topic] = None if kind is None else (kind, read_model_fields(kind))
            return known

    def _plain(self, state: bytes) -> bytes:
        """The stored JSON, undoing what the mapper did after encoding it (in its order)."""
        mapper = self.store.mapper
        if mapper.cipher is not None:
            state = mapper.cipher.decrypt(state)
        if mapper.compressor is not None:
            state = mapper.compressor.decompress(state)
        return state
