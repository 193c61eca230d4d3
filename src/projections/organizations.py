"""Read model of organizations, with their password policy."""

from __future__ import annotations

from eventsourcing.domain import DomainEvent

from domain.organization import Organization
from domain.policy import PasswordPolicy
from projections.event_types import dumps, iso
from projections.statements import Statement


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

    def reduce(self, event: DomainEvent, position: int) -> list[Statement]:
        details = (event.originator_version, iso(event.timestamp), position)
        if isinstance(event, Organization.Registered):
            return [
                Statement(
                    "INSERT INTO {orgs} (org_id, name, alias, policy, sequence, change_date, "
                    "position) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(event.originator_id),
                        event.name,
                        event.alias,
                        _policy(event.policy),
                        *details,
                    ),
                )
            ]
        if isinstance(event, Organization.PolicyChanged):
            return [
                Statement(
                    "UPDATE {orgs} SET policy = ?, sequence = ?, change_date = ?, position = ? "
                    "WHERE org_id = ?",
                    (_policy(event.policy), *details, str(event.originator_id)),
                )
            ]
        return []


def _policy(fields: dict[str, object]) -> str:
    return dumps(PasswordPolicy.from_dict(dict(fields)).to_camel())
