"""What is personal data or a secret, and whose (CONTRACTS §6).

The store seals exactly these fields under the data subject's key before anything is written,
so erasing a person means destroying one key, never rewriting an event. Two kinds:

- personal fields (username, email, full name, client metadata): opened for the read models;
- secret fields (password hashes, history hashes, reset digests, an imported hash's scheme):
  crackable or replayable offline, so no stored byte or ledger leaf may show them. Only the
  event store opens them, when it loads an aggregate; no read model needs them, except the
  import report, which is given the scheme (`read_model_fields`).

Everything else in an event (ids, times, actor ids, method, dialect) stays readable for
auditors.
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

_NEW_PASSWORD = ("password_hash", "history_hash")
# Secret fields of the user's events. `scheme` is no secret as such, but labels such as
# `keycloak-pbkdf2-sha512` would tell a reader of the store which hashes are cheap to crack.
SECRET_EVENT_FIELDS: dict[type, tuple[str, ...]] = {
    User.PasswordSet: _NEW_PASSWORD,
    User.PasswordChanged: _NEW_PASSWORD,
    User.PasswordResetCompleted: _NEW_PASSWORD,
    User.PasswordImported: ("password_hash", "scheme"),
    User.HashUpgraded: ("password_hash",),
    User.PasswordResetRequested: ("code_digest", "token_digest"),
}
# Secret attributes of the user aggregate, in its snapshots ...
USER_SECRET_FIELDS = (
    "password_hash",
    "history_hash",
    "previous_hashes",
    "previous_history",
    "legacy_scheme",
)
# ... and the secret attributes of the objects it holds, by the attribute holding them.
USER_SECRET_PARTS: dict[str, tuple[str, ...]] = {"pending_reset": ("code_digest", "token_digest")}
# Sealed fields that read as an empty list, not None, once the key is destroyed: the
# aggregate iterates over them.
LIST_FIELDS = frozenset({"previous_hashes", "previous_history"})
# The one secret a read model reads: the import report counts users by scheme (§7).
_READ_MODEL_SECRETS: dict[type, tuple[str, ...]] = {User.PasswordImported: ("scheme",)}


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


def secret_fields(kind: type) -> tuple[str, ...]:
    """Top-level fields of events of this class that are secret."""
    return SECRET_EVENT_FIELDS.get(kind, ())


def sealed_fields(kind: type) -> tuple[str, ...]:
    """Every top-level field of events of this class that the store may have sealed."""
    return personal_fields(kind) + secret_fields(kind)


def read_model_fields(kind: type) -> tuple[str, ...]:
    """The sealed fields of events of this class that read models are given opened."""
    return personal_fields(kind) + _READ_MODEL_SECRETS.get(kind, ())
