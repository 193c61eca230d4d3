"""Rebuild a read model from the event store beside the live one, then switch.

The new generation's tables fill in large batches while the API keeps reading the current
generation; the switch is one row update. A rebuild that was killed resumes from its own
recorded position. The generation before the current one is kept until the next rebuild, so
reads in flight during the switch still find their tables.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from projections.projector import Cursor, Projector
from projections.readstore import table_names

Progress = Callable[[int, int], None]  # (position, head)


@dataclass(frozen=True)
class RebuildReport:
    model: str
    generation: int
    events: int
    seconds: float
    resumed: bool


def rebuild(
    projector: Projector,
    names: list[str],
    batch_size: int = 5000,
    progress: Progress | None = None,
    switch: bool = True,
) -> RebuildReport:
    """Rebuild the named models in one pass over the event store (each event decoded once)."""
    opened = [_open_generation(projector, name) for name in names]
    cursors = [cursor for cursor, _ in opened]
    started, consumed = time.perf_counter(), 0
    head = projector.head()
    read, decode = projector.facts.read_after, projector.facts.decode
    # The next batch is read while this one is written: reading waits on the store (a socket
    # or a file), and that wait overlaps with the decoding and writing here.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-read") as reader, _no_gc():
        upcoming = reader.submit(read, min(c.position for c in cursors), batch_size)
        while (batch := decode(upcoming.result())) is not None:
            upcoming = reader.submit(read, batch.last, batch_size)
            position = projector.apply(cursors, batch)
            consumed += batch.count
            cursors = [Cursor(c.model, c.generation, max(c.position, position)) for c in cursors]
            head = max(head, position)
            if progress:
                progress(position, head)
    if switch:
        for cursor in cursors:
            _switch(projector, cursor.model.name, cursor.generation)
    return RebuildReport(
        ",".join(names),
        max(c.generation for c in cursors),
        consumed,
        time.perf_counter() - started,
        any(resumed for _, resumed in opened),
    )


@contextmanager
def _no_gc() -> Iterator[None]:
    """Decoding makes millions of short-lived containers, none of them cyclic: the cycle
    collector ran again and again over them (a fifth of a rebuild's time, profiled)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _open_generation(projector: Projector, name: str) -> tuple[Cursor, bool]:
    """The unfinished generation of an interrupted rebuild, or a new one."""
    model = projector.models[name]
    active = {c.model.name: c.generation for c in projector.active()}[name]
    rows = projector.reads.query(
        "SELECT generation, position FROM rm_positions WHERE model = ? AND generation > ? "
        "ORDER BY generation DESC",
        (name, active),
    )
    if rows:
        return Cursor(model, int(rows[0][0]), int(rows[0][1])), True
    generation = max(active, _highest_generation(projector, name)) + 1
    with projector.reads.transaction() as tx:
        for table in table_names(model, generation).values():
            tx.execute(f"DROP TABLE IF EXISTS {table}")
        projector.create_generation(tx, model, generation, indexes=False)
    return Cursor(model, generation, 0), False


def _highest_generation(projector: Projector, name: str) -> int:
    rows = projector.reads.query(
        "SELECT MAX(generation) FROM rm_positions WHERE model = ?", (name,)
    )
    return int(rows[0][0] or 0)


def _switch(projector: Projector, name: str, generation: int) -> None:
    model = projector.models[name]
    with projector.reads.transaction() as tx:
        projector.add_indexes(tx, model, generation)  # left out while the rows poured in
        tx.execute("UPDATE rm_active SET generation = ? WHERE model = ?", (generation, name))
        # The generation just replaced stays for reads in flight; older ones go.
        projector.drop_generations_before(tx, model, generation - 1)
