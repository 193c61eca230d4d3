"""Read model of users: state, roles, lock, failed attempts, and the details of the last event.

A batch is folded in memory: the rows its events touch are read once (or born in it), each
event updates its row by the rules below, which mirror the aggregate's (a failure after a
lock ran out starts counting again; `credledger verify` compares the two), and each row is
written once. A rebuild of 50 events per user writes each user about once per batch, not 50
times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.user import User
from projections.event_types import USER_EVENTS, dumps
from projections.facts import Fact
from projections.readstore import Transaction, in_lists

COLUMNS = (
    "user_id", "org_id", "username", "roles", "email", "full_name", "numeric_id",
    "change_required", "password_changed_at", "failed_attempts", "locked", "locked_until",
    "removed", "sequence", "change_date", "position",
)  # fmt: skip
MUTABLE = COLUMNS[2:]  # all but the ids
UPDATE = "UPDATE {users} SET " + ", ".join(f"{name} = ?" for name in MUTABLE) + " WHERE user_id = ?"
SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM {users} WHERE user_id IN ({marks})"

Row = dict[str, Any]


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
    User.PasswordImported: Effect(new_password=True),
    User.PasswordResetCompleted: Effect(new_password=True, unlocks=True),
    User.PasswordCheckFailed: Effect(failure=True, unlocks=True),
    User.PasswordCheckSucceeded: Effect(clears_failures=True, unlocks=True),
    User.Unlocked: Effect(clears_failures=True, unlocks=True),
    User.Locked: Effect(locks=True),
    User.Removed: Effect(removes=True),
}
NO_EFFECT = Effect()  # hash upgrades, resets requested/failed, sessions revoked: details only
USER_KINDS = frozenset(USER_EVENTS)


def registered_row(fact: Fact) -> Row:
    fields = fact.fields
    return {
        "user_id": fact.subject,
        "org_id": fact.uuid_text("org_id"),
        "username": fields.get("username") or "",  # absent once the person is erased
        "roles": dumps(list(fields.get("roles") or [])),
        "email": fields.get("email"),
        "full_name": fields.get("full_name"),
        "numeric_id": fields["numeric_id"],
        "change_required": False,
        "password_changed_at": None,
        "failed_attempts": 0,
        "locked": False,
        "locked_until": None,
        "removed": False,
        "sequence": fact.sequence,
        "change_date": fact.at,
        "position": fact.position,
    }


def apply(row: Row, fact: Fact) -> None:
    """One event's effect on its user's row (every rule reads the row as it was before)."""
    if fact.kind is User.Erased:
        # CONTRACTS §6: the row stays for the history's reach checks, the person goes.
        row.update(username="", email=None, full_name=None, removed=True)
    else:
        effect = EFFECTS.get(fact.kind, NO_EFFECT)
        was_locked = row["locked"]
        if effect.new_password:
            row["change_required"] = bool(fact.fields.get("change_required"))
            row["password_changed_at"] = fact.at
        if effect.new_password or effect.clears_failures:
            row["failed_attempts"] = 0
        elif effect.failure:
            row["failed_attempts"] = 1 if was_locked else row["failed_attempts"] + 1
        if effect.locks:
            row["locked"], row["locked_until"] = True, fact.moment("locked_until")
        elif effect.unlocks:
            row["locked"], row["locked_until"] = False, None
        if fact.kind is User.RolesChanged:
            row["roles"] = dumps(list(fact.fields.get("roles") or []))
        if effect.removes:
            row["removed"] = True
    row.update(sequence=fact.sequence, change_date=fact.at, position=fact.position)


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
            )"""
        ]

    def indexes(self) -> list[str]:
        return ["CREATE INDEX IF NOT EXISTS {users}_org_idx ON {users} (org_id)"]

    def write(self, facts: Sequence[Fact], tx: Transaction, tables: dict[str, str]) -> None:
        mine = [f for f in facts if f.kind in USER_KINDS]
        if not mine:
            return
        born = {f.subject for f in mine if f.kind is User.Registered}
        rows = _load(tx, tables, {f.subject for f in mine} - born)
        new: dict[str, Row] = {}
        for fact in mine:
            if fact.kind is User.Registered:
                rows[fact.subject] = new[fact.subject] = registered_row(fact)
            elif (row := rows.get(fact.subject)) is not None:
                apply(row, fact)
        tx.insert_rows(
            tables["users"], COLUMNS, [tuple(r[c] for c in COLUMNS) for r in new.values()]
        )
        changed = [
            (*(r[c] for c in MUTABLE), user_id) for user_id, r in rows.items() if user_id not in new
        ]
        if changed:
            tx.cursor.executemany(tx.sql(UPDATE, tables), changed)


def _load(tx: Transaction, tables: dict[str, str], user_ids: set[str]) -> dict[str, Row]:
    """The current rows of these users (users unknown to the model are left out)."""
    rows: dict[str, Row] = {}
    for marks, chunk in in_lists(list(user_ids)):
        found = tx.execute(SELECT.replace("{marks}", marks), chunk, tables).fetchall()
        for values in found:
            row = dict(zip(COLUMNS, values, strict=True))
            row["change_required"] = bool(row["change_required"])
            row["locked"], row["removed"] = bool(row["locked"]), bool(row["removed"])
            rows[row["user_id"]] = row
    return rows
