"""Read model of organizations, with their password policy."""

from __future__ import annotations

from collections.abc import Sequence

from domain.organization import Organization
from domain.policy import PasswordPolicy
from projections.event_types import dumps
from projections.facts import Fact
from projections.readstore import Transaction
from projections.statements import Statement

INSERT = (
    "INSERT INTO {orgs} (org_id, name, alias, policy, sequence, change_date, position) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_POLICY = (
    "UPDATE {orgs} SET policy = ?, sequence = ?, change_date = ?, position = ? WHERE org_id = ?"
)


def statement_for(fact: Fact) -> Statement | None:
    details = (fact.sequence, fact.at, fact.position)
    if fact.kind is Organization.Registered:
        name, alias = fact.fields["name"], fact.fields["alias"]
        return Statement(INSERT, (fact.subject, name, alias, _policy(fact), *details))
    if fact.kind is Organization.PolicyChanged:
        return Statement(UPDATE_POLICY, (_policy(fact), *details, fact.subject))
    return None


class OrganizationsModel:
    name = "organizations"
    tables = ("orgs",)

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS {orgs} (
                org_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                alias TEXT NOT NULL,
                policy TEXT NOT NULL,
                sequence BIGINT NOT NULL,
                change_date TEXT NOT NULL,
                position BIGINT NOT NULL
            )"""
        ]

    def indexes(self) -> list[str]:
        return []

    def write(self, facts: Sequence[Fact], tx: Transaction, tables: dict[str, str]) -> None:
        statements = [s for f in facts if (s := statement_for(f)) is not None]
        tx.apply(statements, tables)


def _policy(fact: Fact) -> str:
    return dumps(PasswordPolicy.from_dict(dict(fact.fields["policy"])).to_camel())
