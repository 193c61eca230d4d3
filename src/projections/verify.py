"""Replays every aggregate from the event store and diffs it against the read models."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.organization import Organization
from domain.user import User
from projections.audit import audit_entry
from projections.event_types import STABLE_TYPES, iso
from projections.projector import Projector
from projections.queries import ReadModels

PAGE = 5000
CREDENTIAL_TOPICS = {f"{cls.__module__}:{cls.__qualname__}" for cls in STABLE_TYPES}
USER_PREFIX, ORG_PREFIX = "domain.user:User.", "domain.organization:Organization."


@dataclass
class VerifyReport:
    users: int = 0
    orgs: int = 0
    history_rows: int = 0
    drift: list[str] = field(default_factory=list)


def _scan(projector: Projector, head: int) -> Iterator[Notification]:
    after = 0
    while after < head:
        page = projector.read_batch(after, PAGE)
        if not page:
            return
        yield from (n for n in page if n.id <= head)
        after = page[-1].id


def verify(projector: Projector, models: ReadModels) -> VerifyReport:
    head = projector.head()
    models.fresh(timeout=60)
    users: set[UUID] = set()
    orgs: set[UUID] = set()
    history: dict[str, list[int]] = defaultdict(list)
    contents: dict[int, tuple[Any, ...]] = {}
    for n in _scan(projector, head):
        if n.topic.startswith(USER_PREFIX):
            users.add(n.originator_id)
        elif n.topic.startswith(ORG_PREFIX):
            orgs.add(n.originator_id)
        if n.topic in CREDENTIAL_TOPICS:
            history[str(n.originator_id)].append(n.id)
            contents[n.id] = _history_content(projector.events.mapper.to_domain_event(n))
    report = VerifyReport(users=len(users), orgs=len(orgs))
    repository = projector.events.repository
    imported = models.imported_by_user()
    for user_id in sorted(users, key=str):
        user = repository.get(user_id)
        report.drift += _user_drift(user, models) + _import_drift(user, imported)
    for org_id in sorted(orgs, key=str):
        report.drift += _org_drift(repository.get(org_id), models)
    report.drift += _history_drift(history, contents, models, report, head)
    return report


def _user_drift(user: User, models: ReadModels) -> list[str]:
    row = models.user(str(user.id))
    if row is None:
        return [f"user {user.id}: missing from the users read model"]
    expected = {
        "org_id": str(user.org_id),
        "username": user.username,
        "roles": list(user.roles),
        "email": user.email,
        "full_name": user.full_name,
        "numeric_id": user.numeric_id,
        "change_required": user.change_required,
        "password_changed_at": iso(user.password_changed_at),
        "failed_attempts": user.failed_attempts,
        "locked": user.locked,
        "locked_until": iso(user.locked_until) if user.locked else None,
        "removed": user.removed,
        "sequence": user.version,
        "change_date": iso(user.modified_on),
    }
    actual = {name: getattr(row, name) for name in expected}
    if not row.locked:
        actual["locked_until"] = None
    return [
        f"user {user.id}: {name} is {actual[name]!r}, replay says {value!r}"
        for name, value in expected.items()
        if actual[name] != value
    ]


def _import_drift(user: User, imported: dict[str, str]) -> list[str]:
    expected = None if user.removed else user.legacy_scheme
    actual = imported.get(str(user.id))
    if actual == expected:
        return []
    return [f"user {user.id}: imported scheme is {actual!r}, replay says {expected!r}"]


def _org_drift(org: Organization, models: ReadModels) -> list[str]:
    row = models.org(str(org.id))
    if row is None:
        return [f"org {org.id}: missing from the organizations read model"]
    expected = {
        "name": org.name,
        "alias": org.alias,
        "policy": org.policy.to_camel(),
        "sequence": org.version,
        "change_date": iso(org.modified_on),
    }
    return [
        f"org {org.id}: {name} is {getattr(row, name)!r}, replay says {value!r}"
        for name, value in expected.items()
        if getattr(row, name) != value
    ]


HISTORY_FIELDS = ("sequence", "type", "occurred_at", "actor", "method", "dialect", "client")


def _history_content(event: Any) -> tuple[Any, ...]:
    entry = audit_entry(event)
    return tuple(getattr(entry, name) for name in HISTORY_FIELDS)


def _history_drift(
    expected: dict[str, list[int]],
    contents: dict[int, tuple[Any, ...]],
    models: ReadModels,
    report: VerifyReport,
    head: int,
) -> list[str]:
    actual: dict[str, list[int]] = defaultdict(list)
    drift = []
    after = 0
    while page := models.feed(after, PAGE):
        for row in page:
            if row.position <= head:
                actual[row.user_id or row.org_id].append(row.position)
                report.history_rows += 1
                event = contents.get(row.position)
                if event is not None:
                    drift += [
                        f"history row {row.position}: {name} is {getattr(row, name)!r}, "
                        f"the event says {value!r}"
                        for name, value in zip(HISTORY_FIELDS, event, strict=True)
                        if getattr(row, name) != value
                    ]
        after = page[-1].position
    for subject in sorted(set(expected) | set(actual)):
        if expected.get(subject, []) != actual.get(subject, []):
            drift.append(
                f"history of {subject}: positions {actual.get(subject, [])} in the read model, "
                f"{expected.get(subject, [])} in the event store"
            )
    return drift
