"""The user aggregate: every credential change is one of its events.

Events never carry a plaintext password, reset code or token: only PHC hashes and keyed
digests computed by the application service. Event bodies are deterministic; times such as
`locked_until` are computed outside and passed in. Class names are persisted as topics: never
rename them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

# Password hashes kept for the history rule; more than any policy may ask for.
KEPT_PREVIOUS_HASHES = 24
# Wrong reset codes tolerated before the pending reset is burned (CONTRACTS §1.2).
MAX_RESET_CODE_FAILURES = 5

Audit = dict[str, Any]  # actor, method, dialect, client: who did it, how, through which API


class User(Aggregate):
    id: UUID
    # Class defaults, so snapshots taken before these attributes existed still load.
    erased = False
    history_hash = None  # the current password's history hash, if one was made
    previous_history: tuple[str | None, ...] = ()
    # The scheme of an imported hash (CONTRACTS §7) until its first successful check.
    legacy_scheme: str | None = None

    class Registered(Aggregate.Created):
        org_id: UUID
        username: str
        numeric_id: int
        email: str | None
        full_name: str | None
        roles: list[str]
        audit: Audit

    @event(Registered)
    def __init__(
        self,
        org_id: UUID,
        username: str,
        numeric_id: int,
        email: str | None,
        full_name: str | None,
        roles: list[str],
        audit: Audit,
    ) -> None:
        self.org_id = org_id
        self.username = username
        self.numeric_id = numeric_id
        self.email = email
        self.full_name = full_name
        self.roles = list(roles)
        self.password_hash: str | None = None
        self.previous_hashes: list[str] = []
        # History hashes (argon2id under one salt per user, see service.core) beside the
        # login hashes: a reuse check costs one hash, not one verification per kept password.
        self.history_hash: str | None = None
        self.previous_history: list[str | None] = []
        self.change_required = False
        self.password_changed_at: datetime | None = None
        self.failed_attempts = 0
        self.locked = False
        self.locked_until: datetime | None = None
        self.pending_reset: PendingReset | None = None
        self.session_generation = 0
        self.surviving_sessions: list[str] = []
        self.removed = False

    # --- queries (time is passed in, never read here) ---

    def is_locked(self, now: datetime) -> bool:
        return self.locked and (self.locked_until is None or now < self.locked_until)

    def session_is_current(self, session_id: str, generation: int) -> bool:
        return generation == self.session_generation or session_id in self.surviving_sessions

    def previous_passwords(self, count: int) -> list[tuple[str, str | None]]:
        """The `count` passwords before the current one: (login hash, history hash or None)."""
        history = [*self.previous_history, *[None] * count]
        return list(zip(self.previous_hashes[:count], history, strict=False))

    # --- password events ---

    class PasswordSet(Aggregate.Event):
        """Set by an admin, at registration, or imported (method says which)."""

        password_hash: str
        change_required: bool
        audit: Audit
        history_hash: str | None = None  # absent from events before history hashes existed

        def apply(self, user: User) -> None:
            user._store_new_hash(
                self.password_hash, self.change_required, self.timestamp, self.history_hash
            )

    class PasswordChanged(Aggregate.Event):
        """Changed by the user, proving the current password."""

        password_hash: str
        change_required: bool
        audit: Audit
        history_hash: str | None = None  # absent from events before history hashes existed

        def apply(self, user: User) -> None:
            user._store_new_hash(
                self.password_hash, self.change_required, self.timestamp, self.history_hash
            )

    class PasswordImported(Aggregate.Event):
        """A hash brought from another system, as it was given (never a plaintext): the
        first successful check re-hashes it (`HashUpgraded`)."""

        password_hash: str
        scheme: str
        org_id: UUID  # so the import report needs no other event
        change_required: bool
        audit: Audit

        def apply(self, user: User) -> None:
            user._store_new_hash(self.password_hash, self.change_required, self.timestamp, None)
            user.legacy_scheme = self.scheme

    class HashUpgraded(Aggregate.Event):
        """Same password, re-hashed with the current parameters after a successful check."""

        password_hash: str
        audit: Audit  # the login that triggered it: who, through which API

        def apply(self, user: User) -> None:
            user.password_hash = self.password_hash
            user.legacy_scheme = None

    def _store_new_hash(
        self, new_hash: str, change_required: bool, at: datetime, history_hash: str | None
    ) -> None:
        if self.password_hash is not None:
            history = [*self.previous_history, *[None] * len(self.previous_hashes)]
            history = history[: len(self.previous_hashes)]  # aligned; older ones unknown
            self.previous_hashes = [self.password_hash, *self.previous_hashes][
                :KEPT_PREVIOUS_HASHES
            ]
            self.previous_history = [self.history_hash, *history][:KEPT_PREVIOUS_HASHES]
        self.password_hash = new_hash
        self.history_hash = history_hash
        self.legacy_scheme = None
        self.change_required = change_required
        self.password_changed_at = at
        self.failed_attempts = 0
        self.pending_reset = None

    # --- checks and lockout ---

    class PasswordCheckFailed(Aggregate.Event):
        audit: Audit

        def apply(self, user: User) -> None:
            # Failures are only recorded when no lock is in force, so a lock still set here
            # is a timed lock that has run out: counting starts again.
            if user.locked:
                user.locked, user.locked_until, user.failed_attempts = False, None, 0
            user.failed_attempts += 1

    class PasswordCheckSucceeded(Aggregate.Event):
        """Only recorded when it resets a failure count or an expired lock."""

        audit: Audit

        def apply(self, user: User) -> None:
            user.failed_attempts = 0
            user.locked, user.locked_until = False, None

    class Locked(Aggregate.Event):
        locked_until: datetime | None  # None: until an admin unlocks or a reset succeeds
        audit: Audit

        def apply(self, user: User) -> None:
            user.locked, user.locked_until = True, self.locked_until

    class Unlocked(Aggregate.Event):
        audit: Audit

        def apply(self, user: User) -> None:
            user.locked, user.locked_until, user.failed_attempts = False, None, 0

    # --- reset ---

    class PasswordResetRequested(Aggregate.Event):
        reset_id: str
        code_digest: str
        token_digest: str
        code_expires_at: datetime
        token_expires_at: datetime
        delivery: str
        audit: Audit

        def apply(self, user: User) -> None:
            user.pending_reset = PendingReset(
                reset_id=self.reset_id,
                code_digest=self.code_digest,
                token_digest=self.token_digest,
                code_expires_at=self.code_expires_at,
                token_expires_at=self.token_expires_at,
                failed_codes=0,
            )

    class PasswordResetFailed(Aggregate.Event):
        """A wrong code; the fifth burns the pending reset."""

        reset_id: str
        audit: Audit

        def apply(self, user: User) -> None:
            pending = user.pending_reset
            if pending is None or pending.reset_id != self.reset_id:
                return
            pending.failed_codes += 1
            if pending.failed_codes >= MAX_RESET_CODE_FAILURES:
                user.pending_reset = None

    class PasswordResetCompleted(Aggregate.Event):
        reset_id: str
        password_hash: str
        change_required: bool
        audit: Audit
        history_hash: str | None = None  # absent from events before history hashes existed

        def apply(self, user: User) -> None:
            user._store_new_hash(
                self.password_hash, self.change_required, self.timestamp, self.history_hash
            )
            user.locked, user.locked_until = False, None

    # --- sessions, roles, removal ---

    class SessionsRevoked(Aggregate.Event):
        kept_session_id: str | None  # the session that made the change survives
        audit: Audit

        def apply(self, user: User) -> None:
            user.session_generation += 1
            user.surviving_sessions = [self.kept_session_id] if self.kept_session_id else []

    class RolesChanged(Aggregate.Event):
        roles: list[str]
        audit: Audit

        def apply(self, user: User) -> None:
            user.roles = list(self.roles)

    class Removed(Aggregate.Event):
        audit: Audit

        def apply(self, user: User) -> None:
            user._end_access()

    # --- commands: thin, the service has already decided ---

    def set_password(
        self,
        password_hash: str,
        change_required: bool,
        audit: Audit,
        history_hash: str | None = None,
    ) -> None:
        self.trigger_event(
            self.PasswordSet,
            password_hash=password_hash,
            change_required=change_required,
            audit=audit,
            history_hash=history_hash,
        )

    def change_password(
        self,
        password_hash: str,
        change_required: bool,
        audit: Audit,
        history_hash: str | None = None,
    ) -> None:
        self.trigger_event(
            self.PasswordChanged,
            password_hash=password_hash,
            change_required=change_required,
            audit=audit,
            history_hash=history_hash,
        )

    def import_password(
        self, password_hash: str, scheme: str, change_required: bool, audit: Audit
    ) -> None:
        self.trigger_event(
            self.PasswordImported,
            password_hash=password_hash,
            scheme=scheme,
            org_id=self.org_id,
            change_required=change_required,
            audit=audit,
        )

    def upgrade_hash(self, password_hash: str, audit: Audit | None = None) -> None:
        self.trigger_event(self.HashUpgraded, password_hash=password_hash, audit=audit or {})

    def record_failed_check(
        self, max_failed_attempts: int, locked_until: datetime | None, audit: Audit
    ) -> None:
        """The Nth consecutive failure and the lock are recorded together."""
        self.trigger_event(self.PasswordCheckFailed, audit=audit)
        if max_failed_attempts and self.failed_attempts >= max_failed_attempts:
            self.trigger_event(self.Locked, locked_until=locked_until, audit=audit)

    def record_successful_check(self, audit: Audit) -> None:
        if self.failed_attempts or self.locked:
            self.trigger_event(self.PasswordCheckSucceeded, audit=audit)

    def unlock(self, audit: Audit) -> None:
        self.trigger_event(self.Unlocked, audit=audit)

    def request_reset(self, reset: PendingReset, delivery: str, audit: Audit) -> None:
        self.trigger_event(
            self.PasswordResetRequested,
            reset_id=reset.reset_id,
            code_digest=reset.code_digest,
            token_digest=reset.token_digest,
            code_expires_at=reset.code_expires_at,
            token_expires_at=reset.token_expires_at,
            delivery=delivery,
            audit=audit,
        )

    def record_failed_reset_code(self, reset_id: str, audit: Audit) -> None:
        self.trigger_event(self.PasswordResetFailed, reset_id=reset_id, audit=audit)

    def complete_reset(
        self,
        reset_id: str,
        password_hash: str,
        change_required: bool,
        audit: Audit,
        history_hash: str | None = None,
    ) -> None:
        was_locked = self.locked
        self.trigger_event(
            self.PasswordResetCompleted,
            reset_id=reset_id,
            password_hash=password_hash,
            change_required=change_required,
            audit=audit,
            history_hash=history_hash,
        )
        if was_locked:  # make the unlock visible in the history, not only implied
            self.trigger_event(self.Unlocked, audit=audit)

    def revoke_sessions(self, kept_session_id: str | None, audit: Audit) -> None:
        self.trigger_event(self.SessionsRevoked, kept_session_id=kept_session_id, audit=audit)

    def change_roles(self, roles: list[str], audit: Audit) -> None:
        self.trigger_event(self.RolesChanged, roles=roles, audit=audit)

    def remove(self, audit: Audit) -> None:
        self.trigger_event(self.Removed, audit=audit)

    def _end_access(self) -> None:
        """Removed or erased: no login, every session and any pending reset end."""
        self.removed = True
        self.pending_reset = None
        self.session_generation += 1
        self.surviving_sessions = []

    class Erased(Aggregate.Event):
        """The person is forgotten: their data key is destroyed, so every personal field of
        this aggregate's past events reads as absent. Carries no personal data itself."""

        audit: Audit

        def apply(self, user: User) -> None:
            user._end_access()
            user.erased = True
            user.username, user.email, user.full_name = "", None, None
            # A cached copy must not keep what a reload from the store can no longer open.
            user.password_hash, user.history_hash, user.legacy_scheme = None, None, None
            user.previous_hashes, user.previous_history = [], []

    def erase(self, audit: Audit) -> None:
        self.trigger_event(self.Erased, audit=audit)


@dataclass
class PendingReset:
    """One pending reset, redeemable by code or by token; held only as keyed digests."""

    reset_id: str
    code_digest: str
    token_digest: str
    code_expires_at: datetime
    token_expires_at: datetime
    failed_codes: int = 0
