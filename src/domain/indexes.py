"""Index aggregates that make names unique.

Their ids are derived from the normalised name with a keyed hash (computed by the service),
so two registrations of one name collide on the same aggregate id and version, and the ids
reveal nothing to someone reading the store.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event


class AliasIndex(Aggregate):
    """Organization alias → organization id. Aliases are never released."""

    id: UUID

    class Claimed(Aggregate.Created):
        org_id: UUID

    @event(Claimed)
    def __init__(self, org_id: UUID) -> None:
        self.org_id = org_id


class UsernameIndex(Aggregate):
    """(org, username key) → user id; released when the user is removed."""

    id: UUID

    class Claimed(Aggregate.Created):
        user_id: UUID

    @event(Claimed)
    def __init__(self, user_id: UUID) -> None:
        self.user_id: UUID | None = user_id

    class Reclaimed(Aggregate.Event):
        user_id: UUID

        def apply(self, index: UsernameIndex) -> None:
            index.user_id = self.user_id

    class Released(Aggregate.Event):
        def apply(self, index: UsernameIndex) -> None:
            index.user_id = None

    def reclaim(self, user_id: UUID) -> None:
        self.trigger_event(self.Reclaimed, user_id=user_id)

    def release(self) -> None:
        self.trigger_event(self.Released)


class Instance(Aggregate):
    """The one-per-installation bootstrap record: which org is the default."""

    id: UUID

    class Initialized(Aggregate.Created):
        default_org_id: UUID
        admin_user_id: UUID

    @event(Initialized)
    def __init__(self, default_org_id: UUID, admin_user_id: UUID) -> None:
        self.default_org_id = default_org_id
        self.admin_user_id = admin_user_id
