"""What use cases return: plain values, never aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate


@dataclass(frozen=True)
class Details:
    """ZITADEL-style object details: per-aggregate sequence, event time, owning org."""

    sequence: int
    change_date: datetime
    resource_owner: UUID

    @classmethod
    def of(cls, aggregate: Aggregate, resource_owner: UUID) -> Details:
        return cls(aggregate.version, aggregate.modified_on, resource_owner)


@dataclass(frozen=True)
class Created:
    id: UUID
    details: Details


@dataclass(frozen=True)
class SessionGrant:
    session_id: str
    token: str
    expires_at: datetime
    user_id: UUID
    org_id: UUID
    change_required: bool


@dataclass(frozen=True)
class ResetGrant:
    code: str | None
    code_expires_at: datetime
    token: str | None
    token_expires_at: datetime
    details: Details


@dataclass(frozen=True)
class UserView:
    user_id: UUID
    org_id: UUID
    username: str
    login_name: str
    roles: list[str]
    locked: bool
    locked_until: datetime | None
    change_required: bool
    password_changed_at: datetime | None
    failed_attempts: int
    email: str | None
    full_name: str | None
    numeric_id: int
    details: Details


@dataclass(frozen=True)
class OrgView:
    org_id: UUID
    name: str
    alias: str
    password_policy: dict[str, Any]
    details: Details
