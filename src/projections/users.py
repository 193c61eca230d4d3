"""Read model of users: state, roles, lock, failed attempts, and the details of the last event.

It mirrors the aggregate's rules in SQL (e.g. a failure after a lock ran out starts counting
again), so `credledger verify` can compare the two.
"""

from __future__ import annotations

from eventsourcing.domain import DomainEvent

from domain.user import User
from projections.event_types import USER_EVENTS, dumps, iso
from projections.statements import Statement

UNLOCK = "locked = FALSE, locked_until = NULL"
NEW_PASSWORD = "change_required = ?, password_changed_at = ?, failed_attempts = 0"


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
        details = (event.originator_version, iso(event.timestamp), position)
        if isinstance(event, User.Registered):
            return [
                Statement(
                    "INSERT INTO {users} (user_id, org_id, username, roles, email, full_name, "
                    "numeric_id, change_required, password_changed_at, failed_attempts, locked, "
                    "locked_until, removed, sequence, change_date, position) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, FALSE, NULL, 0, FALSE, NULL, FALSE, ?, ?, ?)",
                    (
                        str(event.originator_id),
                        str(event.org_id),
                        event.username,
                        dumps(list(event.roles)),
                        event.email,
                        event.full_name,
                        event.numeric_id,
                        *details,
                    ),
                )
            ]
        assignments, args = _changes(event)
        sets = ", ".join([*assignments, "sequence = ?, change_date = ?, position = ?"])
        return [
            Statement(
                f"UPDATE {{users}} SET {sets} WHERE user_id = ?",
                (*args, *details, str(event.originator_id)),
            )
        ]


def _changes(event: DomainEvent) -> tuple[list[str], tuple[object, ...]]:
    """Column assignments for one user event; events not listed only move the details."""
    if isinstance(event, User.PasswordSet | User.PasswordChanged):
        return [NEW_PASSWORD], (event.change_required, iso(event.timestamp))
    if isinstance(event, User.PasswordResetCompleted):
        return [NEW_PASSWORD, UNLOCK], (event.change_required, iso(event.timestamp))
    if isinstance(event, User.PasswordCheckFailed):
        # Right-hand sides see the old row: a lock still set here had run out.
        return [
            "failed_attempts = CASE WHEN locked THEN 1 ELSE failed_attempts + 1 END",
            UNLOCK,
        ], ()
    if isinstance(event, User.PasswordCheckSucceeded | User.Unlocked):
        return ["failed_attempts = 0", UNLOCK], ()
    if isinstance(event, User.Locked):
        return ["locked = TRUE, locked_until = ?"], (iso(event.locked_until),)
    if isinstance(event, User.RolesChanged):
        return ["roles = ?"], (dumps(list(event.roles)),)
    if isinstance(event, User.Removed):
        return ["removed = TRUE"], ()
    return [], ()
