"""What is personal data, and whose (CONTRACTS §6).

The store seals exactly these fields under the data subject's key before anything is written,
so erasing a person means destroying one key, never rewriting an event. Everything else in an
event (ids, times, hashes, actor ids, method, dialect) stays readable for auditors.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.session import Session
from domain.user import User

# Personal attributes of the user aggregate: on its registration event and in its snapshots.
USER_PERSONAL_FIELDS = ("username", "email", "full_name")
# Every event's `audit` may carry client metadata: remote address, user agent, X-LP-* headers.
CLIENT = "client"
# Topic of the user aggregate inside a snapshot.
USER_TOPIC = f"{User.__module__}:{User.__qualname__}"


def data_subject(event: Any) -> UUID | None:
    """The person an event's personal data belongs to; None for events that hold none."""
    if isinstance(event, User.Event):
        return event.originator_id
    if isinstance(event, Session.Started | Session.Ended):
        return getattr(event, "user_id", None)  # None: a session ended before §6 existed
    return None


def personal_fields(kind: type) -> tuple[str, ...]:
    """Top-level fields of events of this class that are personal."""
    return USER_PERSONAL_FIELDS if issubclass(kind, User.Registered) else ()
