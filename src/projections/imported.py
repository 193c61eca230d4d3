"""Read model of users still carrying an imported hash, for the import report (§7).

A row per user from `user.password.imported` until the hash is replaced: re-hashed on a
first successful check, or any new password; removal and erasure end it too. It holds a
scheme name and ids only, nothing personal.

The scheme is sealed in the event store like the hash (CONTRACTS §6) and opened for this model
alone. Once the person is erased it reads as absent, so a rebuild leaves their import out, as
their erasure ended it anyway (erased people can no longer log in); `credledger verify`
expects no row for them either.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.user import User
from projections.facts import Fact
from projections.readstore import Transaction
from projections.statements import Statement

INSERT = "INSERT INTO {imported} (user_id, org_id, scheme) VALUES (?, ?, ?)"
DELETE = "DELETE FROM {imported} WHERE user_id = ?"
ENDS_IT = frozenset(
    {
        User.HashUpgraded,
        User.PasswordSet,
        User.PasswordChanged,
        User.PasswordResetCompleted,
        User.Removed,
        User.Erased,
    }
)


def statement_for(fact: Fact) -> Statement | None:
    if fact.kind is User.PasswordImported:
        scheme = fact.fields.get("scheme")
        if scheme is None:
            return None  # erased since: their `user.erased` ends the row in any case
        return Statement(INSERT, (fact.subject, fact.uuid_text("org_id"), scheme))
    if fact.kind in ENDS_IT:
        return Statement(DELETE, (fact.subject,))
    return None


class ImportedHashesModel:
    name = "imported_hashes"
    tables = ("imported",)

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS {imported} (
                user_id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL,
                scheme TEXT NOT NULL
            )"""
        ]

    def indexes(self) -> list[str]:
        return ["CREATE INDEX IF NOT EXISTS {imported}_org_idx ON {imported} (org_id, scheme)"]

    def write(self, facts: Sequence[Fact], tx: Transaction, tables: dict[str, str]) -> None:
        statements = [s for f in facts if (s := statement_for(f)) is not None]
        tx.apply(statements, tables)
