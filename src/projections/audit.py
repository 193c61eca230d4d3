"""An auditor's replay of one user's credential history, straight from the event store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent

from projections.event_types import audit_of, iso, stable_type


@dataclass(frozen=True)
class AuditEntry:
    sequence: int
    type: str
    occurred_at: str
    actor: str
    method: str | None
    dialect: str | None
    client: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "sequence": str(self.sequence),
            "type": self.type,
            "occurredAt": self.occurred_at,
            "actor": self.actor,
            "method": self.method,
            "dialect": self.dialect,
            "client": self.client,
        }


def audit_entry(event: DomainEvent) -> AuditEntry | None:
    """What an auditor sees of one event; None for events that are not credential events."""
    kind = stable_type(event)
    if kind is None:
        return None
    audit = audit_of(event)
    return AuditEntry(
        event.originator_version,
        kind,
        iso(event.timestamp) or "",
        audit["actor"],
        audit["method"],
        audit["dialect"],
        audit["client"],
    )


def replay_history(store: Application, user_id: UUID) -> list[AuditEntry]:
    entries = (audit_entry(event) for event in store.events.get(user_id))
    return [entry for entry in entries if entry is not None]
