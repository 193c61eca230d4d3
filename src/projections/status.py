"""Where each read model stands: position, lag in events and in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from projections.ledger import LedgerLog
from projections.projector import RELEVANT_TOPICS, Projector

COUNT_PAGE = 10_000


@dataclass(frozen=True)
class ModelStatus:
    model: str
    generation: int
    position: int
    head: int
    lag_events: int
    lag_seconds: float


def status(projector: Projector, ledger: LedgerLog | None = None) -> list[ModelStatus]:
    """Every live read model, and the ledger (generation 0: it has none) when given."""
    head = projector.head()
    followers = [(c.model.name, c.generation, c.position) for c in projector.active()]
    if ledger is not None:
        followers.append(("ledger", 0, ledger.head().position))
    out = []
    for name, generation, position in followers:
        lag_events, oldest = _behind(projector, position)
        lag_seconds = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        out.append(ModelStatus(name, generation, position, head, lag_events, max(0.0, lag_seconds)))
    return out


def _behind(projector: Projector, position: int) -> tuple[int, datetime | None]:
    """Events after `position` (counted, since ids have gaps) and the oldest one's time."""
    count, oldest, after = 0, None, position
    while page := projector.read_batch(after, COUNT_PAGE):
        count += len(page)
        if oldest is None:
            first = next((n for n in page if n.topic.startswith(RELEVANT_TOPICS)), page[0])
            oldest = projector.events.mapper.to_domain_event(first).timestamp
        after = page[-1].id
    return count, oldest


def oldest_unprocessed_age(projector: Projector) -> float:
    """Seconds since the oldest event no read model has reduced yet (0 when caught up)."""
    page = projector.read_batch(projector.position(), 1)
    if not page:
        return 0.0
    event = projector.events.mapper.to_domain_event(page[0])
    return max(0.0, (datetime.now(UTC) - event.timestamp).total_seconds())
