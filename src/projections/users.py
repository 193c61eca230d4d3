"""Read model of users: state, roles, lock, failed attempts, and the details of the last event.

Every event after registration becomes the *same* UPDATE, its effect chosen by parameters
from the table below, so a batch runs as one executemany. The SQL mirrors the aggregate's
rules (a failure after a lock ran out starts counting again), and `credledger verify`
compares the two.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.domain import DomainEvent

from domain.user import User
from projections.event_types import USER_EVENTS, dumps, iso
from projections.statements import Statement

INSERT = (
    "INSERT INTO {users} (user_id, org_id, username, roles, email, full_name, numeric_id, "
    "change_required, password_changed_at, failed_attempts, locked, locked_until, removed, "
    "sequence, change_date, position) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, FALSE, NULL, 0, FALSE, NULL, FALSE, ?, ?, ?)"
)
UPDATE = (
    "UPDATE {users} SET "
    "change_required = CASE WHEN ? THEN ? ELSE change_required END, "
    "password_changed_at = CASE WHEN ? THEN ? ELSE password_changed_at END, "
    "failed_attempts = CASE WHEN ? THEN 0 WHEN ? THEN "
    "(CASE WHEN locked THEN 1 ELSE failed_attempts + 1 END) ELSE failed_attempts END, "
    "locked_until = CASE WHEN ? THEN ? WHEN ? THEN NULL ELSE locked_until END, "
    "locked = CASE WHEN ? THEN TRUE WHEN ? THEN FALSE ELSE locked END, "
    "roles = COALESCE(?, roles), "
    "removed = CASE WHEN ? THEN TRUE ELSE removed END, "
    "sequence = ?, change_date = ?, position = ? "
    "WHERE user_id = ?"
)

# Erasure (CONTRACTS §6): the row stays for the history's reach checks, the person goes.
ERASE = (
    "UPDATE {users} SET username = '', email = NULL, full_name = NULL, removed = TRUE, "
    "sequence = ?, change_date = ?, position = ? WHERE user_id = ?"
)


@dataclass(frozen=True)
class Effect:
    new_password: bool = False  # sets change_required, password_changed_at; clears failures
    failure: bool = False  # counts a failure (restarting after an expired lock); unlocks
    clears_failures: bool = False
    locks: bool = False
    unlocks: bool = False
    removes: bool = False


EFFECTS: dict[type, Effect] = {
    User.PasswordSet: Effect(new_password=True),
    User.PasswordChanged: Effect(new_password=True),
    User.PasswordResetCompleted: Effect(new_password=True, unlocks=True),
    User.PasswordCheckFailed: Effect(failure=True, unlocks=True),
    User.PasswordCheckSucceeded: Effect(clears_failures=True, unlocks=True),
    User.Unlocked: Effect(clears_failures=True, unlocks=True),
    User.Locked: Effect(locks=True),
    User.Removed: Effect(removes=True),
}
NO_EFFECT = Effect()  # hash upgrades, resets requested/failed, sessions revoked: details only


class UsersModel:
    name = "users"
    tables = ("users",)

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS {users} (
                user_id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL,
                username TEXT NOT NULL,
                roles TEXT NOT NULL,
                email TEXT,
                full_name TEXT,
                numeric_id BIGINT NOT NULL,
                change_required BOOLEAN NOT NULL,
                password_changed_at TEXT,
                failed_attempts INTEGER NOT NULL,
                locked BOOLEAN NOT NULL,
                locked_until TEXT,
                removed BOOLEAN NOT NULL,
                sequence BIGINT NOT NULL,
                change_date TEXT NOT NULL,
                position BIGINT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS {users}_org_idx ON {users} (org_id)",
        ]

    def reduce(self, event: DomainEvent, position: int) -> list[Statement]:
        if not isinstance(event, USER_EVENTS):
            return []
        at = iso(event.timestamp)
        details = (event.originator_version, at, position)
        if isinstance(event, User.Registered):
            return [
                Statement(
                    INSERT,
                    (
                        str(event.originator_id),
                        str(event.org_id),
                        event.username or "",  # absent once the person is erased
                        dumps(list(event.roles)),
                        event.email,
                        event.full_name,
                        event.numeric_id,
                        *details,
                    ),
                )
            ]
        if isinstance(event, User.Erased):
            return [Statement(ERASE, (*details, str(event.originator_id)))]
        effect = EFFECTS.get(type(event), NO_EFFECT)
        change_required = getattr(event, "change_required", False)
        locked_until = iso(getattr(event, "locked_until", None))
        roles = dumps(list(event.roles)) if isinstance(event, User.RolesChanged) else None
        args = (
            effect.new_password, change_required,
            effect.new_password, at,
            effect.new_password or effect.clears_failures, effect.failure,
            effect.locks, locked_until, effect.unlocks,
            effect.locks, effect.unlocks,
            roles,
            effect.removes,
            *details,
            str(event.originator_id),
        )  # fmt: skip
        return [Statement(UPDATE, args)]
