"""Credential history: one row per credential event, by global position, without secrets.

Rows carry the stable type, time, actor, method, dialect and client metadata: never a hash,
digest, code or token. The owning org of a user is kept in a small table of this model, so
the model depends on no other.
"""

from __future__ import annotations

from eventsourcing.domain import DomainEvent

from domain.user import User
from projections.event_types import ORG_EVENTS, audit_of, dumps, iso, stable_type
from projections.statements import Statement

INSERT = (
    "INSERT INTO {history} (position, user_id, org_id, sequence, type, occurred_at, actor, "
    "method, dialect, client) VALUES (?, ?, {org}, ?, ?, ?, ?, ?, ?, ?)"
)
OWNER_ORG = "(SELECT org_id FROM {history_owners} WHERE user_id = ?)"
INSERT_FOR_ORG = INSERT.replace("{org}", "?")
INSERT_FOR_USER = INSERT.replace("{org}", OWNER_ORG)
REMEMBER_OWNER = "INSERT INTO {history_owners} (user_id, org_id) VALUES (?, ?)"
# Erasure keeps every row and drops the client metadata, the erasure's own row included: by
# the time anyone replays it, the key that opened that metadata is gone.
FORGET_CLIENT = "UPDATE {history} SET client = '{{}}' WHERE user_id = ?"


class HistoryModel:
    name = "history"
    tables = ("history", "history_owners")

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS {history} (
                position BIGINT PRIMARY KEY,
                user_id TEXT,
                org_id TEXT NOT NULL,
                sequence BIGINT NOT NULL,
                type TEXT NOT NULL,
                occurred_at TEXT NOT NULL,
                actor TEXT NOT NULL,
                method TEXT,
                dialect TEXT,
                client TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS {history}_user_idx ON {history} (user_id, position)",
            "CREATE INDEX IF NOT EXISTS {history}_org_idx ON {history} (org_id, position)",
            "CREATE INDEX IF NOT EXISTS {history}_time_idx ON {history} (occurred_at)",
            """CREATE TABLE IF NOT EXISTS {history_owners} (
                user_id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL
            )""",
        ]

    def reduce(self, event: DomainEvent, position: int) -> list[Statement]:
        kind = stable_type(event)
        if kind is None:
            return []
        audit = audit_of(event)
        common = (
            event.originator_version,
            kind,
            iso(event.timestamp),
            audit["actor"],
            audit["method"],
            audit["dialect"],
            dumps(audit["client"]),
        )
        subject = str(event.originator_id)
        if isinstance(event, ORG_EVENTS):
            return [Statement(INSERT_FOR_ORG, (position, None, subject, *common))]
        statements = []
        if isinstance(event, User.Registered):
            statements.append(Statement(REMEMBER_OWNER, (subject, str(event.org_id))))
        statements.append(Statement(INSERT_FOR_USER, (position, subject, subject, *common)))
        if isinstance(event, User.Erased):
            statements.append(Statement(FORGET_CLIENT, (subject,)))
        return statements
