"""Stable names of credential events, whatever the internal classes are called (CONTRACTS §2).

Session and index events are not credential events and appear in no history.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from eventsourcing.domain import DomainEvent

from domain.organization import Organization
from domain.user import User

STABLE_TYPES: dict[type, str] = {
    User.Registered: "user.registered",
    User.PasswordSet: "user.password.set",
    User.PasswordChanged: "user.password.changed",
    User.PasswordImported: "user.password.imported",
    User.PasswordResetRequested: "user.password.reset.requested",
    User.PasswordResetCompleted: "user.password.reset.completed",
    User.PasswordResetFailed: "user.password.reset.failed",
    User.PasswordCheckFailed: "user.password.check.failed",
    # Not in the contract's list: recorded only when a success clears failures or a lock.
    User.PasswordCheckSucceeded: "user.password.check.succeeded",
    User.Removed: "user.removed",
    User.Erased: "user.erased",
    User.HashUpgraded: "user.password.hash.upgraded",
    User.Locked: "user.locked",
    User.Unlocked: "user.unlocked",
    User.SessionsRevoked: "user.sessions.revoked",
    User.RolesChanged: "user.roles.changed",
    Organization.Registered: "org.registered",
    Organization.PolicyChanged: "org.policy.changed",
}


def stable_type(event: DomainEvent) -> str | None:
    return STABLE_TYPES.get(type(event))


def iso(moment: datetime | None) -> str | None:
    """Stored timestamps: RFC 3339 UTC with `Z`, microseconds, so text order is time order."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"  # drop "+00:00"


def audit_of(event: DomainEvent) -> dict[str, Any]:
    """Who/how/through which API; events without an audit (hash upgrades) are the system's."""
    audit = getattr(event, "audit", None) or {}
    return {
        "actor": audit.get("actor") or "system",
        "method": audit.get("method"),
        "dialect": audit.get("dialect"),
        "client": audit.get("client") or {},
    }


# One encoder, built once: `json.dumps` with options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _nested_events(aggregate: type) -> tuple[type, ...]:
    return tuple(
        v for v in vars(aggregate).values() if isinstance(v, type) and issubclass(v, DomainEvent)
    )


USER_EVENTS = _nested_events(User)
ORG_EVENTS = _nested_events(Organization)
