"""Shared machinery of the use cases: loading, reach checks, policy checks, retries."""

from __future__ import annotations

import hmac
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.errors import (
    ConcurrentUpdate,
    Forbidden,
    OrgNotFound,
    PasswordPolicyViolation,
    UserNotFound,
)
from domain.indexes import AliasIndex, Instance, UsernameIndex
from domain.names import alias_key, split_login_name, username_key
from domain.organization import Organization
from domain.policy import normalize_password
from domain.user import User
from service.background import Background
from service.context import Actor
from service.hashing import Hasher, VerifyCache
from service.keys import Keyring
from service.outbox import Outbox
from service.store import EventStore

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
# Twenty concurrent writers on one user must all get through: each retry re-reads state.
MAX_ATTEMPTS = 60

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Core:
    def __init__(
        self,
        store: EventStore,
        hasher: Hasher,
        keys: Keyring,
        outbox: Outbox,
        clock: Clock = utc_now,
        session_minutes: int = 720,
        public_url: str = DEFAULT_PUBLIC_URL,
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.keys = keys
        self.outbox = outbox
        self.clock = clock
        self.session_minutes = session_minutes
        self.public_url = public_url  # where people reach this server: reset links start here
        self.background = Background()  # work done after the answer (service.background)

    # --- concurrency ---

    def refuse_if_hashing_saturated(self) -> None:
        """Admission control before any store work (see service.admission)."""
        self.hasher.queue.refuse_if_saturated()

    def hashing_admitted(self) -> AbstractContextManager[None]:
        """Admission at the door, held until the request is answered (service.admission)."""
        return self.hasher.queue.admitted()

    def retrying(self, command: Callable[[], T]) -> T:
        """Run a whole command again when a concurrent save won the race."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                return command()
            except IntegrityError:
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise ConcurrentUpdate()

    # --- loading ---

    def load(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate = self.store.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def peek(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """Like `load`, for reading only: the cached aggregate itself, not a copy (copying a
        user costs more than the query that brings it up to date). Never mutate it."""
        try:
            aggregate = self.store.repository.get(aggregate_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def live_user(self, user_id: UUID, read_only: bool = False) -> User | None:
        user = (self.peek if read_only else self.load)(User, user_id)
        return None if user is None or user.removed else user

    def org(self, org_id: UUID, read_only: bool = False) -> Organization:
        """`read_only`: the cached aggregate itself (see `peek`), for policy and alias lookups
        on the hot paths; never mutate it."""
        org = (self.peek if read_only else self.load)(Organization, org_id)
        if org is None:
            raise OrgNotFound()
        return org

    def instance(self) -> Instance | None:
        return self.load(Instance, self.keys.keyed_id("instance"))

    def alias_index_id(self, alias: str) -> UUID:
        return self.keys.keyed_id("alias", alias)

    def username_index_id(self, org_id: UUID, username: str) -> UUID:
        return self.keys.keyed_id("username", str(org_id), username_key(username))

    def org_id_for_alias(self, alias: str | None, read_only: bool = False) -> UUID | None:
        """`read_only`: the cached index itself (see `peek`), for lookups that change nothing."""
        if alias is None:
            instance = self.instance()
            return instance.default_org_id if instance else None
        load = self.peek if read_only else self.load
        index = load(AliasIndex, self.alias_index_id(alias_key(alias)))
        return index.org_id if index else None

    def find_user(self, org_id: UUID, username: str) -> User | None:
        index = self.load(UsernameIndex, self.username_index_id(org_id, username))
        if index is None or index.user_id is None:
            return None
        return self.live_user(index.user_id)

    def user_by_login_name(self, login_name: str) -> User | None:
        username, alias = split_login_name(login_name)
        org_id = self.org_id_for_alias(alias)
        return self.find_user(org_id, username) if org_id else None

    def login_name(self, user: User) -> str:
        return f"{user.username}@{self.org(user.org_id, read_only=True).alias}"

    # --- reach: other orgs are invisible, missing roles inside one's own org are forbidden ---

    def user_for_reader(self, actor: Actor, user_id: UUID) -> User:
        user = self.live_user(user_id)
        if user is None or not actor.reaches(user.org_id):
            raise UserNotFound()
        if user.id != actor.user_id and not actor.can_audit(user.org_id):
            raise Forbidden()
        return user

    def user_for_admin(self, actor: Actor, user_id: UUID) -> User:
        user = self.live_user(user_id)
        if user is None or not actor.reaches(user.org_id):
            raise UserNotFound()
        if not actor.is_admin_of(user.org_id):
            raise Forbidden()
        return user

    def org_for_admin(self, actor: Actor, org_id: UUID) -> Organization:
        if not actor.reaches(org_id):
            raise OrgNotFound()
        org = self.org(org_id)
        if not actor.is_admin_of(org_id):
            raise Forbidden()
        return org

    # --- password policy ---

    def check_new_password(
        self,
        org: Organization,
        username: str,
        new_password: str,
        cache: VerifyCache,
        user: User | None = None,
        proven_current: str | None = None,
        user_id: UUID | None = None,
    ) -> str | None:
        """Cheap rules first; the hash-based rules (for an existing user) only when those pass.

        Returns the new password's history hash to store, when the policy keeps history.
        At most one argon2 computation serves both hash rules (see the README): a caller who
        has just proven `proven_current` is compared in constant time, and every kept
        password with a history hash is matched against one history hash of the new one.
        """
        policy = org.policy
        violations = policy.cheap_violations(new_password, (username, org.alias))
        if violations:
            raise PasswordPolicyViolation(violations)
        subject = user.id if user is not None else user_id
        salt = self.keys.history_salt(subject) if subject is not None else b""
        if user is not None:
            if self._is_current(user, new_password, proven_current, cache, salt):
                raise PasswordPolicyViolation(["same_as_current"])
            for login_hash, history_hash in user.previous_passwords(policy.history_count):
                if (
                    cache.matches_history(history_hash, new_password, salt)
                    if history_hash
                    else cache.verify(login_hash, new_password)  # kept before history hashes
                ):
                    raise PasswordPolicyViolation(["reused"])
        if policy.history_count == 0 or subject is None:
            return None  # nothing will be checked against it (a later policy falls back)
        return cache.history_hash(new_password, salt)

    @staticmethod
    def _is_current(
        user: User, new: str, proven_current: str | None, cache: VerifyCache, salt: bytes
    ) -> bool:
        if proven_current is not None:
            return hmac.compare_digest(new.encode(), proven_current.encode())
        if user.history_hash:
            return cache.matches_history(user.history_hash, new, salt)
        return cache.verify(user.password_hash, new)


def password_input(password: str) -> str:
    """Every password is hashed and verified in NFC form."""
    return normalize_password(password)
