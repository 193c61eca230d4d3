"""Follows the event store and feeds each read model its facts in batches.

One batch = one read-store transaction: the position guard is checked first (so a model
switched to a new generation meanwhile is simply re-read), then the rows are written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.user import User
from projections.event_types import iso
from projections.facts import Batch, FactSource
from projections.model import ReadModel
from projections.readstore import PositionMoved, ReadStore, Transaction, table_names

# Only these aggregates feed read models; other notifications just move positions.
RELEVANT_TOPICS = ("domain.user:User.", "domain.organization:Organization.")


@dataclass(frozen=True)
class Cursor:
    """Where one model stands: which generation of its tables, up to which position."""

    model: ReadModel
    generation: int
    position: int


def now_text() -> str:
    return iso(datetime.now(UTC)) or ""


class Projector:
    def __init__(
        self,
        events: Application,
        facts: FactSource,
        reads: ReadStore,
        models: Sequence[ReadModel],
        batch_size: int = 1000,
    ) -> None:
        self.events = events
        self.facts = facts
        self.reads = reads
        self.models = {model.name: model for model in models}
        self.batch_size = batch_size
        self._lock = threading.Lock()  # one batch at a time from this process
        self.ensure_tables()

    # --- tables and positions ---

    def ensure_tables(self) -> None:
        with self.reads.transaction() as tx:
            active = dict(tx.execute("SELECT model, generation FROM rm_active").fetchall())
            for name, model in self.models.items():
                if name not in active:
                    self.create_generation(tx, model, 1)
                    tx.execute("INSERT INTO rm_active (model, generation) VALUES (?, ?)", (name, 1))

    @staticmethod
    def create_generation(
        tx: Transaction, model: ReadModel, generation: int, indexes: bool = True
    ) -> None:
        """The model's tables for `generation`; a rebuild leaves out the indexes that only
        reads need until its bulk load is done (`add_indexes`)."""
        for ddl in model.ddl():
            tx.execute(ddl, tables=table_names(model, generation))
        if indexes:
            Projector.add_indexes(tx, model, generation)
        tx.execute(
            "INSERT INTO rm_positions (model, generation, position, updated_at) "
            "VALUES (?, ?, 0, ?)",
            (model.name, generation, now_text()),
        )

    @staticmethod
    def add_indexes(tx: Transaction, model: ReadModel, generation: int) -> None:
        for ddl in model.indexes():
            tx.execute(ddl, tables=table_names(model, generation))

    def active(self) -> list[Cursor]:
        rows = self.reads.query(
            "SELECT a.model, a.generation, p.position FROM rm_active a "
            "JOIN rm_positions p ON p.model = a.model AND p.generation = a.generation"
        )
        return [Cursor(self.models[m], g, p) for m, g, p in rows if m in self.models]

    def position(self) -> int:
        """The position every read model has reached (the slowest one)."""
        cursors = self.active()
        return min((c.position for c in cursors), default=0)

    def reached(self, target: int) -> list[Cursor] | None:
        """The live cursors if every model has reached `target` (their tables serve a read
        that must see it), else None."""
        cursors = self.active()
        return cursors if min((c.position for c in cursors), default=0) >= target else None

    @staticmethod
    def drop_generations_before(tx: Transaction, model: ReadModel, generation: int) -> int:
        """Drops the model's tables of every generation older than `generation`."""
        stale = tx.execute(
            "SELECT generation FROM rm_positions WHERE model = ? AND generation < ?",
            (model.name, generation),
        ).fetchall()
        for (old,) in stale:
            for table in table_names(model, int(old)).values():
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            tx.execute(
                "DELETE FROM rm_positions WHERE model = ? AND generation = ?",
                (model.name, int(old)),
            )
        return len(stale)

    # --- processing ---

    def read_batch(self, after: int, limit: int) -> list[Notification]:
        """Stored events as they are, for checks that replay them whole."""
        return self.events.recorder.select_notifications(
            start=after or None, limit=limit, inclusive_of_start=False
        )

    def apply(self, cursors: Sequence[Cursor], batch: Batch) -> int:
        """Project one batch into the given cursors' tables; returns the new position."""
        stamp = now_text()
        with self.reads.transaction() as tx:
            for cursor in cursors:
                if batch.last <= cursor.position:
                    continue
                tx.advance(cursor.model.name, cursor.generation, cursor.position, batch.last, stamp)
                facts = batch.facts
                if facts and facts[0].position <= cursor.position:  # a model that was ahead
                    facts = [f for f in facts if f.position > cursor.position]
                cursor.model.write(facts, tx, table_names(cursor.model, cursor.generation))
        if any(f.kind is User.Erased for f in batch.facts):
            # The bytes the models overwrote must leave the files too (CONTRACTS §6).
            self.reads.wipe_freed()
        return batch.last

    def step(self) -> int:
        """One batch for the live generations; returns how many notifications it consumed."""
        with self._lock:
            cursors = self.active()
            if not cursors:
                return 0
            start = min(c.position for c in cursors)
            batch = self.facts.batch_after(start, self.batch_size)
            if batch is None:
                return 0
            try:
                self.apply(cursors, batch)
            except PositionMoved:
                return 1  # someone else advanced (or a rebuild switched): re-read and go on
            if any(f.kind is User.Erased for f in batch.facts):
                self._drop_kept_generations(cursors)
            return batch.count

    def _drop_kept_generations(self, cursors: Sequence[Cursor]) -> None:
        """The generation a rebuild kept for reads in flight no longer follows the events:
        once someone is erased it would be the last place holding them (CONTRACTS §6)."""
        with self.reads.transaction() as tx:
            dropped = sum(self.drop_generations_before(tx, c.model, c.generation) for c in cursors)
        if dropped:
            self.reads.wipe_freed()

    def catch_up(self) -> int:
        done = 0
        while consumed := self.step():
            done += consumed
        return done

    def catch_up_to(self, target: int, timeout: float) -> list[Cursor] | None:
        """Read-your-writes: make sure every model has reached `target`; returns the live
        cursors seen then (their tables serve the read), or None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            cursors = self.reached(target)
            if cursors is not None:
                return cursors
            if self.step():
                continue
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)

    def head(self) -> int:
        return self.facts.head()
