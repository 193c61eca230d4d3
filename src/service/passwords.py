"""Password checks and changes: login verification, self-service change, admin set.

A wrong password is *recorded* (and may lock) inside the retried command, then raised after
the save, so concurrent failures are counted exactly and never pass `maxFailedAttempts`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import AccountLocked, DomainError, InvalidCredentials, UserNotFound
from domain.user import User
from service.context import Actor, RequestContext
from service.core import Core, password_input
from service.hashing import VerifyCache
from service.results import Details

T = TypeVar("T")
UserFinder = Callable[[], User | None]
# Extra aggregates to save with a successful check (e.g. a new session), in one transaction.
AfterSuccess = Callable[[User], list[Aggregate]]


class PasswordUseCases(Core):
    def record_failed_check(self, user: User, audit: dict[str, object]) -> None:
        policy = self.org(user.org_id, read_only=True).policy
        until = (
            self.clock() + timedelta(minutes=policy.lockout_minutes)
            if policy.lockout_minutes
            else None
        )
        user.record_failed_check(policy.max_failed_attempts, until, audit)
        self.store.save(user)

    def outdated_hash(self, user: User) -> bool:
        """Re-hashed on the next successful check: any imported hash, whatever its scheme
        (CONTRACTS §7), and ours when made with other argon2 parameters."""
        if user.password_hash is None:
            return False
        return user.legacy_scheme is not None or self.hasher.needs_rehash(user.password_hash)

    def refuse_or_record(
        self,
        user: User | None,
        password: str,
        cache: VerifyCache,
        ctx: RequestContext,
        wrong: type[DomainError],
    ) -> DomainError | None:
        """Why this password does not prove this user (a wrong one is recorded), or None."""
        if user is None:
            self.hasher.dummy_verify(password)  # unknown users cost the same time
            return wrong()
        if user.is_locked(self.clock()):
            return AccountLocked(user.locked_until)  # refused without verifying or recording
        if not cache.verify(user.password_hash, password):
            self.record_failed_check(user, ctx.audit(str(user.id), "self"))
            return wrong()
        return None

    def check_password(
        self,
        find: UserFinder,
        password: str,
        ctx: RequestContext,
        wrong: type[DomainError] = InvalidCredentials,
        after_success: AfterSuccess | None = None,
    ) -> User:
        """Verify a password; on success upgrade an outdated hash and save `after_success`."""
        password = password_input(password)
        cache = VerifyCache(self.hasher)

        def attempt() -> User | DomainError:
            user = find()
            refused = self.refuse_or_record(user, password, cache, ctx, wrong)
            if refused is not None or user is None:
                return refused or wrong()
            audit = ctx.audit(str(user.id), "self")
            user.record_successful_check(audit)
            if self.outdated_hash(user):
                user.upgrade_hash(cache.hash(password), audit)
            extras = after_success(user) if after_success else []
            self.store.save(user, *extras)
            return user

        return _raise_or_return(self.retrying(attempt))

    def change_own_password(
        self,
        find: UserFinder,
        current_password: str,
        new_password: str,
        change_required: bool,
        ctx: RequestContext,
        kept_session_id: str | None = None,
        wrong: type[DomainError] = InvalidCredentials,
        revoke_others: bool | None = None,
    ) -> Details:
        """The user proves the current password; a wrong one counts toward lockout.

        Other sessions end per policy, or always/never when `revoke_others` says so."""
        current, new = password_input(current_password), password_input(new_password)
        cache = VerifyCache(self.hasher)

        def attempt() -> Details | DomainError:
            user = find()
            refused = self.refuse_or_record(user, current, cache, ctx, wrong)
            if refused is not None or user is None:
                return refused or wrong()
            audit = ctx.audit(str(user.id), "self")
            org = self.org(user.org_id, read_only=True)
            history_hash = self.check_new_password(
                org, user.username, new, cache, user, proven_current=current
            )
            user.change_password(cache.hash(new), change_required, audit, history_hash)
            revoke = (
                org.policy.revoke_sessions_on_change if revoke_others is None else revoke_others
            )
            if revoke:
                user.revoke_sessions(kept_session_id, audit)
            self.store.save(user)
            return Details.of(user, user.org_id)

        return _raise_or_return(self.retrying(attempt))

    def set_password(
        self,
        actor: Actor,
        user_id: UUID,
        new_password: str,
        change_required: bool,
        ctx: RequestContext,
    ) -> Details:
        """An org admin sets the password; it unlocks and ends the user's sessions."""
        new = password_input(new_password)
        cache = VerifyCache(self.hasher)

        def attempt() -> Details:
            user = self.user_for_admin(actor, user_id)
            org = self.org(user.org_id, read_only=True)
            history_hash = self.check_new_password(org, user.username, new, cache, user)
            audit = ctx.audit(str(actor.user_id), "admin")
            was_locked = user.locked
            user.set_password(cache.hash(new), change_required, audit, history_hash)
            if was_locked:
                user.unlock(audit)
            if org.policy.revoke_sessions_on_change:
                user.revoke_sessions(None, audit)
            self.store.save(user)
            return Details.of(user, user.org_id)

        return self.retrying(attempt)

    def actor_from_password(self, login_name: str, password: str, ctx: RequestContext) -> Actor:
        """API-key style authentication (login name + password on every call)."""
        user = self.check_password(self.login_name_finder(login_name), password, ctx)
        return Actor(user.id, user.org_id, tuple(user.roles), None)

    def user_finder(self, user_id: UUID) -> UserFinder:
        return lambda: self.live_user(user_id)

    def login_name_finder(self, login_name: str) -> UserFinder:
        return lambda: self.user_by_login_name(login_name)

    def own_user_finder(self, actor: Actor, user_id: UUID) -> UserFinder:
        """Self-service: only the caller's own user."""
        if actor.user_id != user_id:
            raise UserNotFound()
        return self.user_finder(user_id)


def _raise_or_return(outcome: T | DomainError) -> T:
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome
