"""The event store: one eventsourcing Application for every aggregate of the instance.

Personal data and secrets (password hashes, reset digests) are sealed by its mapper before
anything is written (`service.sealing`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, Transcoding
from eventsourcing.utils import Environment

from domain.user import PendingReset, User
from service.sealing import DataKeys, SealedAsText, SealingMapper


class PendingResetAsDict(Transcoding):
    type = PendingReset
    name = "pending_reset"  # persisted in snapshots: never rename

    def encode(self, obj: PendingReset) -> dict[str, Any]:
        return dict(vars(obj))

    def decode(self, data: dict[str, Any]) -> PendingReset:
        return PendingReset(**data)


class Originators(Protocol):
    def existing(self, ids: Sequence[UUID]) -> set[UUID]:
        """Those of `ids` that have stored events."""
        ...


class EventStore(Application):
    name = "credledger"  # table prefix on PostgreSQL: credledger_events, credledger_snapshots
    # Users collect check/lock events; snapshots keep their replay short.
    snapshotting_intervals = {User: 50}  # noqa: RUF012

    def __init__(
        self,
        data_keys: DataKeys,
        env: dict[str, str] | None = None,
        *,
        seal_secrets: bool = True,
    ) -> None:
        """`seal_secrets=False` writes hashes and digests readable, as stores did before they
        were sealed: for tests and benchmarks only, so it is no setting an operator has."""
        self.data_keys = data_keys  # the mapper, built by the base class, seals with these
        self.seal_secrets = seal_secrets
        super().__init__(env=env)
        self.after_save: list[Callable[[], None]] = []  # e.g. wake the projection worker
        self.originators: Originators | None = None  # a bulk lookup, when the store has one

    def existing(self, ids: Sequence[UUID]) -> set[UUID]:
        """Those of `ids` that have stored events; without a bulk lookup, all of them
        (the caller then loads each, as it would anyway)."""
        return set(ids) if self.originators is None else self.originators.existing(ids)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        for listener in self.after_save:
            listener()
        return recordings

    def close(self) -> None:
        super().close()
        self.data_keys.close()

    def construct_env(self, name: str, env: dict[str, str] | None = None) -> Environment:
        """Only what wiring passes, not the process environment as well: the library looks
        up `CREDLEDGER_<KEY>` before `<KEY>`, so it would take our own `CREDLEDGER_CIPHER_KEY`
        (or a stray `CREDLEDGER_POSTGRES_*`) over the validated settings."""
        values = dict(type(self).env)
        if type(self).snapshotting_intervals:
            values["IS_SNAPSHOTTING_ENABLED"] = "y"
        values.update(env or {})
        return Environment(name, values)

    def construct_mapper(self) -> Mapper:
        return SealingMapper(super().construct_mapper(), self.data_keys, self.seal_secrets)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PendingResetAsDict())
        transcoder.register(SealedAsText())
