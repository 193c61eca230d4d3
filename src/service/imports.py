"""Bringing existing users with the hashes they already have (CONTRACTS §7).

Each row becomes a user: `user.registered` plus `user.password.imported` with the hash as
given, checked on login by its own scheme and re-hashed to argon2id on the first success.
A bad row is refused with its index and reason; the others go in. Rows are saved a batch
at a time, in one transaction per batch, so that a large import costs few round trips and
leaves the store to other writers between batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.errors import DomainError, InvalidArgument, UsernameTaken
from domain.indexes import UsernameIndex
from domain.names import display_username, username_key
from domain.user import User
from service import legacy_hashes
from service.context import Actor, RequestContext
from service.users import UserUseCases, _email, _roles

BATCH_ROWS = 500
MAX_FULL_NAME = 200
FIELDS = frozenset({"username", "passwordHash", "email", "fullName", "roles", "changeRequired"})


@dataclass(frozen=True)
class Refusal:
    index: int
    code: str
    message: str


@dataclass
class ImportResult:
    imported: list[tuple[int, UUID]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def add(self, other: ImportResult) -> None:
        self.imported.extend(other.imported)
        self.refused.extend(other.refused)


@dataclass(frozen=True)
class _Row:
    index: int
    username: str
    key: str  # the username's comparison key
    hashed: legacy_hashes.LegacyHash
    email: str | None
    full_name: str | None
    roles: list[str]
    change_required: bool


Progress = Callable[[int], None]  # rows done so far


class ImportUseCases(UserUseCases):
    def import_users(
        self,
        actor: Actor,
        org_id: UUID,
        rows: Sequence[Any],
        ctx: RequestContext,
        first_index: int = 0,
        progress: Progress | None = None,
    ) -> ImportResult:
        """`rows` are decoded JSON objects; row i is reported as `first_index + i`."""
        self.org_for_admin(actor, org_id)
        audit = ctx.audit(str(actor.user_id), "import")
        result = ImportResult()
        seen: set[str] = set()  # username keys claimed earlier in this import
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start : start + BATCH_ROWS]
            result.add(self._import_batch(org_id, batch, first_index + start, audit, seen))
            if progress is not None:
                progress(start + len(batch))
        return result

    def _import_batch(
        self,
        org_id: UUID,
        rows: Sequence[Any],
        first_index: int,
        audit: dict[str, Any],
        seen: set[str],
    ) -> ImportResult:
        result = ImportResult()
        valid: list[_Row] = []
        for offset, raw in enumerate(rows):
            index = first_index + offset
            try:
                row = _validated(index, raw)
                if row.key in seen:
                    raise UsernameTaken("The username appears earlier in this import")
            except (DomainError, legacy_hashes.UnsupportedHash) as error:
                result.refused.append(_refusal(index, error))
                continue
            seen.add(row.key)
            valid.append(row)
        claims: list[tuple[_Row, UsernameIndex | None]] = []
        index_ids = [self.username_index_id(org_id, row.username) for row in valid]
        known = self.store.existing(index_ids)  # one query, not one load per name
        for row, index_id in zip(valid, index_ids, strict=True):
            index = self.load(UsernameIndex, index_id) if index_id in known else None
            if index is not None and index.user_id is not None:
                result.refused.append(_refusal(row.index, UsernameTaken()))
            else:
                claims.append((row, index))
        made = [(row, *self._new_user(org_id, row, index, audit)) for row, index in claims]
        self.store.data_keys.prepare([user.id for _, user, _ in made])
        try:
            self.store.save(*(a for _, user, index in made for a in (user, index)))
        except IntegrityError:
            # A registration elsewhere claimed one of these names meanwhile: one by one.
            return self._one_by_one(org_id, claims, audit, result)
        result.imported.extend((row.index, user.id) for row, user, _ in made)
        return result

    def _one_by_one(
        self,
        org_id: UUID,
        claims: list[tuple[_Row, UsernameIndex | None]],
        audit: dict[str, Any],
        result: ImportResult,
    ) -> ImportResult:
        for row, _ in claims:

            def attempt(row: _Row = row) -> UUID:
                index = self.load(UsernameIndex, self.username_index_id(org_id, row.username))
                if index is not None and index.user_id is not None:
                    raise UsernameTaken()
                user, claimed = self._new_user(org_id, row, index, audit)
                self.store.save(user, claimed)
                return user.id

            try:
                result.imported.append((row.index, self.retrying(attempt)))
            except UsernameTaken as error:
                result.refused.append(_refusal(row.index, error))
        return result

    def _new_user(
        self, org_id: UUID, row: _Row, index: UsernameIndex | None, audit: dict[str, Any]
    ) -> tuple[User, Aggregate]:
        user_id = uuid4()
        user = User(
            id=user_id,
            org_id=org_id,
            username=row.username,
            numeric_id=self.keys.numeric_id(user_id),
            email=row.email,
            full_name=row.full_name,
            roles=row.roles,
            audit=audit,
        )
        user.import_password(row.hashed.encoded, row.hashed.scheme, row.change_required, audit)
        if index is None:
            return user, UsernameIndex(
                id=self.username_index_id(org_id, row.username), user_id=user_id
            )
        index.reclaim(user_id)
        return user, index


def _validated(index: int, raw: Any) -> _Row:
    if not isinstance(raw, Mapping):
        raise InvalidArgument("row", "must be a JSON object")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise InvalidArgument(
            unknown[0], f"is not a field of an imported user ({', '.join(sorted(FIELDS))})"
        )
    username = _text(raw, "username", required=True)
    if "passwordHash" not in raw:
        raise InvalidArgument("passwordHash", "is required")
    hashed = legacy_hashes.parse(raw["passwordHash"])
    roles = raw.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidArgument("roles", "must be a list of role names")
    change_required = raw.get("changeRequired", False)
    if not isinstance(change_required, bool):
        raise InvalidArgument("changeRequired", "must be true or false")
    full_name = _text(raw, "fullName")
    if full_name is not None and len(full_name) > MAX_FULL_NAME:
        raise InvalidArgument("fullName", f"must be at most {MAX_FULL_NAME} characters")
    name = display_username(username or "")
    return _Row(
        index=index,
        username=name,
        key=username_key(name),
        hashed=hashed,
        email=_email(_text(raw, "email")),
        full_name=full_name,
        roles=_roles(roles),
        change_required=change_required,
    )


def _text(raw: Mapping[str, Any], name: str, required: bool = False) -> str | None:
    value = raw.get(name)
    if value is None:
        if required:
            raise InvalidArgument(name, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidArgument(name, "must be a string")
    return value


def _refusal(index: int, error: Exception) -> Refusal:
    if isinstance(error, legacy_hashes.UnsupportedHash):
        return Refusal(index, InvalidArgument.code, f"passwordHash: {error}")
    assert isinstance(error, DomainError)
    return Refusal(index, error.code, error.message)
