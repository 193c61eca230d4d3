"""The event store: one eventsourcing Application for every aggregate of the instance."""

from __future__ import annotations

from collections.abc import Callable
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

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        self.after_save: list[Callable[[], None]] = []  # e.g. wake the projection worker

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        for listener in self.after_save:
            listener()
        return recordings

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PendingResetAsDict())
