"""The event store: one eventsourcing Application for every aggregate of the instance."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.user import PendingReset, User


class PendingResetAsDict(Transcoding):
    type = PendingReset
    name = "pending_reset"  # persisted in snapshots: never rename

    def encode(self, obj: PendingReset) -> dict[str, Any]:
        return dict(vars(obj))

    def decode(self, data: dict[str, Any]) -> PendingReset:
        return PendingReset(**data)


class EventStore(Application):
    name = "credledger"  # table prefix on PostgreSQL: credledger_events, credledger_snapshots
    # Users collect check/lock events; snapshots keep their replay short.
    snapshotting_intervals = {User: 50}  # noqa: RUF012

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PendingResetAsDict())
