"""A login session. Its id is a keyed hash of the bearer token, which is never stored."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.user import Audit


class Session(Aggregate):
    id: UUID

    class Started(Aggregate.Created):
        user_id: UUID
        org_id: UUID
        generation: int  # the user's session generation; a revocation bumps it
        expires_at: datetime
        audit: Audit

    @event(Started)
    def __init__(
        self, user_id: UUID, org_id: UUID, generation: int, expires_at: datetime, audit: Audit
    ) -> None:
        self.user_id = user_id
        self.org_id = org_id
        self.generation = generation
        self.expires_at = expires_at
        self.ended = False

    class Ended(Aggregate.Event):
        audit: Audit
        # Whose client metadata `audit` holds (CONTRACTS §6); absent from older events.
        user_id: UUID | None = None

        def apply(self, session: Session) -> None:
            session.ended = True

    def end(self, audit: Audit) -> None:
        self.trigger_event(self.Ended, audit=audit, user_id=self.user_id)

    def is_active(self, now: datetime) -> bool:
        return not self.ended and now < self.expires_at
