"""Use cases on users: register, read, remove, unlock."""

from __future__ import annotations

from uuid import UUID, uuid4

from domain.errors import Forbidden, InvalidArgument, UsernameTaken, UserNotFound
from domain.indexes import UsernameIndex
from domain.names import display_username
from domain.user import User
from service.context import ORG_ROLES, Actor, RequestContext
from service.core import Core, password_input
from service.hashing import VerifyCache
from service.results import Created, Details, UserView

MAX_EMAIL = 254


def _email(email: str | None) -> str | None:
    if email is None:
        return None
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not (at and local and "." in domain and len(email) <= MAX_EMAIL):
        raise InvalidArgument("email", "must be an email address")
    return email


def _roles(roles: list[str]) -> list[str]:
    unknown = set(roles) - ORG_ROLES
    if unknown:
        raise InvalidArgument("roles", f"unknown roles {sorted(unknown)}; allowed: admin, auditor")
    return sorted(set(roles))


class UserUseCases(Core):
    def register_user(
        self,
        actor: Actor,
        org_id: UUID,
        username: str,
        password: str | None,
        email: str | None,
        full_name: str | None,
        roles: list[str],
        change_required: bool,
        ctx: RequestContext,
    ) -> Created:
        org = self.org_for_admin(actor, org_id)
        username, email, roles = display_username(username), _email(email), _roles(roles)
        audit = ctx.audit(str(actor.user_id), "admin")
        user_id = uuid4()  # before the checks: the history hash is salted per user
        password_hash = history_hash = None
        if password is not None:
            cache = VerifyCache(self.hasher)
            history_hash = self.check_new_password(
                org, username, password_input(password), cache, user_id=user_id
            )
            password_hash = cache.hash(password_input(password))
        index_id = self.username_index_id(org_id, username)

        def attempt() -> Created:
            index = self.load(UsernameIndex, index_id)
            if index is not None and index.user_id is not None:
                raise UsernameTaken()
            user = User(
                id=user_id,
                org_id=org_id,
                username=username,
                numeric_id=self.keys.numeric_id(user_id),
                email=email,
                full_name=full_name,
                roles=roles,
                audit=audit,
            )
            if password_hash is not None:
                user.set_password(password_hash, change_required, audit, history_hash)
            if index is None:
                index = UsernameIndex(id=index_id, user_id=user_id)
            else:
                index.reclaim(user_id)
            self.store.save(user, index)
            return Created(user_id, Details.of(user, org_id))

        return self.retrying(attempt)

    def get_user(self, actor: Actor, user_id: UUID) -> UserView:
        user = self.user_for_reader(actor, user_id)
        return UserView(
            user_id=user.id,
            org_id=user.org_id,
            username=user.username,
            login_name=self.login_name(user),
            roles=list(user.roles),
            locked=user.is_locked(self.clock()),
            locked_until=user.locked_until if user.locked else None,
            change_required=user.change_required,
            password_changed_at=user.password_changed_at,
            failed_attempts=user.failed_attempts,
            email=user.email,
            full_name=user.full_name,
            numeric_id=user.numeric_id,
            details=Details.of(user, user.org_id),
        )

    def remove_user(self, actor: Actor, user_id: UUID, ctx: RequestContext) -> Details:
        def attempt() -> Details:
            user = self.user_for_admin(actor, user_id)
            released = self._release_username(user)
            user.remove(ctx.audit(str(actor.user_id), "admin"))
            self.store.save(user, *released)
            return Details.of(user, user.org_id)

        return self.retrying(attempt)

    def erase_user(self, actor: Actor, user_id: UUID, ctx: RequestContext) -> None:
        """Forget the person (CONTRACTS §6): record the erasure, then destroy their data key.

        In that order, so a crash in between leaves an erased user whose key a second call
        destroys (while answering 404 like any second erasure); the other order could leave
        a key gone but the username, which only that key opened, still claimed.
        """
        user = self.load(User, user_id)
        if user is None or not actor.reaches(user.org_id):
            raise UserNotFound()
        if not actor.is_admin_of(user.org_id):
            raise Forbidden()
        if user.erased:
            self.store.data_keys.destroy(user_id)
            raise UserNotFound()

        def attempt() -> None:
            user = self.load(User, user_id)
            if user is None or user.erased:
                raise UserNotFound()
            released = self._release_username(user)
            user.erase(ctx.audit(str(actor.user_id), "admin"))
            self.store.save(user, *released)

        self.retrying(attempt)
        self.store.data_keys.destroy(user_id)

    def _release_username(self, user: User) -> list[UsernameIndex]:
        """The name index to save with the user's removal, if it still names this user."""
        index = self.load(UsernameIndex, self.username_index_id(user.org_id, user.username))
        if index is None or index.user_id != user.id:
            return []
        index.release()
        return [index]

    def unlock(self, actor: Actor, user_id: UUID, ctx: RequestContext) -> Details:
        def attempt() -> Details:
            user = self.user_for_admin(actor, user_id)
            user.unlock(ctx.audit(str(actor.user_id), "admin"))
            self.store.save(user)
            return Details.of(user, user.org_id)

        return self.retrying(attempt)
