"""Request and response bodies of the native API: camelCase JSON."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.timefmt import rfc3339
from service.reads import HistoryItem
from service.results import Details

# An abuse guard only: the org policy judges length (code points after NFC, ceiling 1024).
MAX_PASSWORD = 16 * 1024
# Positions, indexes and tree sizes are 64-bit integers in both stores; a larger number in a
# query would overflow the driver (a 500), so it is refused as invalid instead.
MAX_POSITION = 2**63 - 1


class Body(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True
    )


class DetailsOut(Body):
    sequence: str
    change_date: str
    resource_owner: str

    @classmethod
    def of(cls, details: Details) -> DetailsOut:
        return cls(
            sequence=str(details.sequence),
            change_date=rfc3339(details.change_date) or "",
            resource_owner=str(details.resource_owner),
        )


class DetailsReply(Body):
    details: DetailsOut


class SessionIn(Body):
    login_name: str = Field(min_length=1, max_length=300)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)


class SessionOut(Body):
    session_id: str
    token: str
    expires_at: str
    user_id: str
    org_id: str
    change_required: bool


class OrgIn(Body):
    name: str = Field(min_length=1, max_length=200)
    alias: str = Field(min_length=1, max_length=100)
    password_policy: dict[str, Any] | None = None


class CreatedOrgOut(Body):
    org_id: str
    details: DetailsOut


class OrgOut(Body):
    org_id: str
    name: str
    alias: str
    password_policy: dict[str, Any]
    details: DetailsOut


class UserIn(Body):
    username: str = Field(min_length=1, max_length=128)
    password: str | None = Field(default=None, min_length=1, max_length=MAX_PASSWORD)
    email: str | None = Field(default=None, max_length=254)
    full_name: str | None = Field(default=None, max_length=200)
    roles: list[Literal["admin", "auditor"]] = Field(default_factory=list)
    change_required: bool = False


class CreatedUserOut(Body):
    user_id: str
    details: DetailsOut


class UserOut(Body):
    user_id: str
    org_id: str
    username: str
    login_name: str
    roles: list[str]
    state: Literal["active", "locked"]
    locked_until: str | None
    change_required: bool
    password_changed_at: str | None
    failed_attempts: int
    details: DetailsOut


class PasswordIn(Body):
    """Self-service (currentPassword), admin set (neither), or a reset (code or token)."""

    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    current_password: str | None = Field(default=None, min_length=1, max_length=MAX_PASSWORD)
    change_required: bool = False
    verification_code: str | None = Field(default=None, min_length=1, max_length=20)
    reset_token: str | None = Field(default=None, min_length=1, max_length=4096)


class ResetIn(Body):
    delivery: Literal["return", "email"] = "return"


class ResetOut(Body):
    code: str | None
    code_expires_at: str
    token: str | None
    token_expires_at: str
    details: DetailsOut


class HistoryItemOut(Body):
    position: int
    sequence: str
    type: str
    occurred_at: str
    actor: str
    method: str | None
    dialect: str | None
    client: dict[str, Any]


class FeedItemOut(HistoryItemOut):
    user_id: str | None  # null for organization events
    org_id: str


class HistoryOut(Body):
    events: list[HistoryItemOut]


class FeedOut(Body):
    events: list[FeedItemOut]
    next_after: int


def history_item(item: HistoryItem) -> HistoryItemOut:
    return HistoryItemOut(
        position=item.position,
        sequence=str(item.sequence),
        type=item.type,
        occurred_at=rfc3339(item.occurred_at) or "",
        actor=item.actor,
        method=item.method,
        dialect=item.dialect,
        client=item.client,
    )


def feed_item(item: HistoryItem) -> FeedItemOut:
    return FeedItemOut(
        **history_item(item).model_dump(),
        user_id=str(item.user_id) if item.user_id else None,
        org_id=str(item.org_id),
    )
