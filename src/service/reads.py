"""Read use cases, served from the read models with the permissions of CONTRACTS §2."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import Forbidden, OrgNotFound, UserNotFound
from projections.queries import HistoryRow, ReadModels, UserRow
from service.context import AUDITOR, Actor
from service.core import Clock, utc_now
from service.results import Details, OrgView, UserView

MAX_FEED_LIMIT = 1000


@dataclass(frozen=True)
class HistoryItem:
    position: int
    sequence: int
    type: str
    occurred_at: datetime
    actor: str
    method: str | None
    dialect: str | None
    client: dict[str, Any]
    user_id: UUID | None
    org_id: UUID


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class ReadService:
    def __init__(self, models: ReadModels, clock: Clock = utc_now) -> None:
        self.models = models
        self.clock = clock

    def _user_row(self, actor: Actor, user_id: UUID) -> UserRow:
        row = self.models.fresh_user(str(user_id))
        if row is None or row.removed or not actor.reaches(UUID(row.org_id)):
            raise UserNotFound()
        if UUID(row.user_id) != actor.user_id and not actor.can_audit(UUID(row.org_id)):
            raise Forbidden()
        return row

    def get_user(self, actor: Actor, user_id: UUID) -> UserView:
        row = self._user_row(actor, user_id)
        locked_until = _time(row.locked_until) if row.locked else None
        locked = row.locked and (locked_until is None or self.clock() < locked_until)
        return UserView(
            user_id=UUID(row.user_id),
            org_id=UUID(row.org_id),
            username=row.username,
            login_name=f"{row.username}@{row.alias}",
            roles=row.roles,
            locked=locked,
            locked_until=locked_until,
            change_required=row.change_required,
            password_changed_at=_time(row.password_changed_at),
            failed_attempts=row.failed_attempts,
            email=row.email,
            full_name=row.full_name,
            numeric_id=row.numeric_id,
            details=Details(row.sequence, _time(row.change_date) or self.clock(), UUID(row.org_id)),
        )

    def get_org(self, actor: Actor, org_id: UUID) -> OrgView:
        if not actor.reaches(org_id):
            raise OrgNotFound()
        row = self.models.org(str(org_id), self.models.fresh_tables())
        if row is None:
            raise OrgNotFound()
        details = Details(row.sequence, _time(row.change_date) or self.clock(), org_id)
        return OrgView(org_id, row.name, row.alias, row.policy, details)

    def import_report(self, actor: Actor, org_id: UUID) -> dict[str, int]:
        """Users of the org still carrying an imported hash, by scheme."""
        if not actor.reaches(org_id):
            raise OrgNotFound()
        if not actor.can_audit(org_id):
            raise Forbidden()
        tables = self.models.fresh_tables()
        if self.models.org(str(org_id), tables) is None:
            raise OrgNotFound()
        return self.models.imported_schemes(str(org_id), tables)

    def history(self, actor: Actor, user_id: UUID) -> list[HistoryItem]:
        """Kept after removal: auditors still see a removed user's history."""
        tables = self.models.fresh_tables()
        row = self.models.user(str(user_id), tables)
        if row is None or not actor.reaches(UUID(row.org_id)):
            raise UserNotFound()
        if UUID(row.user_id) != actor.user_id and not actor.can_audit(UUID(row.org_id)):
            raise Forbidden()
        return [_item(r) for r in self.models.history(str(user_id), tables)]

    def feed(self, actor: Actor, after: int, limit: int) -> list[HistoryItem]:
        """Instance admins see every org; auditors their own (CONTRACTS §2: not plain admins)."""
        if not (actor.is_instance_admin or AUDITOR in actor.roles):
            raise Forbidden()
        tables = self.models.fresh_tables()
        org = None if actor.is_instance_admin else str(actor.org_id)
        limit = max(1, min(limit, MAX_FEED_LIMIT))
        return [_item(r) for r in self.models.feed(after, limit, org, tables)]


def _item(row: HistoryRow) -> HistoryItem:
    return HistoryItem(
        position=row.position,
        sequence=row.sequence,
        type=row.type,
        occurred_at=_time(row.occurred_at) or datetime.min,
        actor=row.actor,
        method=row.method,
        dialect=row.dialect,
        client=row.client,
        user_id=UUID(row.user_id) if row.user_id else None,
        org_id=UUID(row.org_id),
    )
