"""Credential history: one row per credential event, by global position, without secrets.

Rows carry the stable type, time, actor, method, dialect and client metadata: never a hash,
digest, code or token. Client metadata stays sealed under the person's data key, as the event
store holds it, and is opened when a row is read: the read models keep no plaintext of it, and
replaying needs no decryption. The owning org of a user is kept in a small table of this
model, so the model depends on no other. A batch's rows go in as one bulk insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.organization import Organization
from domain.user import User
from projections.event_types import STABLE_TYPES, dumps
from projections.facts import Fact, sealed_blob
from projections.readstore import Transaction, in_lists

COLUMNS = (
    "position", "user_id", "org_id", "sequence", "type", "occurred_at", "actor", "method",
    "dialect", "client",
)  # fmt: skip
OWNERS = "SELECT user_id, org_id FROM {history_owners} WHERE user_id IN ({marks})"
# Erasure keeps every row and drops the client metadata, the erasure's own row included: by
# the time anyone replays it, the key that opened that metadata is gone.
FORGET_CLIENT = "UPDATE {history} SET client = '{{}}' WHERE user_id = ?"
ORG_KINDS = frozenset(k for k in STABLE_TYPES if issubclass(k, Organization.Event))


def client_text(audit: dict[str, Any]) -> str:
    """The stored client column: a JSON string while sealed, else the (old or empty) object."""
    client = audit.get("client") or {}
    blob = sealed_blob(client)
    if blob is None:
        return dumps(client)
    if blob.isascii() and blob.isprintable() and '"' not in blob and "\\" not in blob:
        return f'"{blob}"'  # base64, as every sealed value is: JSON needs no escapes
    return dumps(blob)


def row_of(fact: Fact, user_id: str | None, org_id: str | None) -> tuple[Any, ...]:
    audit = fact.fields.get("audit") or {}
    return (
        fact.position,
        user_id,
        org_id,
        fact.sequence,
        STABLE_TYPES[fact.kind],
        fact.at,
        audit.get("actor") or "system",  # events without an audit (hash upgrades)
        audit.get("method"),
        audit.get("dialect"),
        client_text(audit),
    )


class HistoryModel:
    name = "history"
    tables = ("history", "history_owners")

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS {history} (
                position {int64_key},
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
            """CREATE TABLE IF NOT EXISTS {history_owners} (
                user_id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL
            )""",
        ]

    def indexes(self) -> list[str]:
        return [
            "CREATE INDEX IF NOT EXISTS {history}_user_idx ON {history} (user_id, position)",
            "CREATE INDEX IF NOT EXISTS {history}_org_idx ON {history} (org_id, position)",
            "CREATE INDEX IF NOT EXISTS {history}_time_idx ON {history} (occurred_at)",
        ]

    def write(self, facts: Sequence[Fact], tx: Transaction, tables: dict[str, str]) -> None:
        mine = [f for f in facts if f.kind in STABLE_TYPES]
        if not mine:
            return
        born = {f.subject: f.uuid_text("org_id") for f in mine if f.kind is User.Registered}
        unknown = {f.subject for f in mine if f.kind not in ORG_KINDS} - born.keys()
        owners = {**_owners(tx, tables, unknown), **born}
        rows = [
            row_of(f, None, f.subject)
            if f.kind in ORG_KINDS
            else row_of(f, f.subject, owners.get(f.subject))
            for f in mine
        ]
        tx.insert_rows(tables["history_owners"], ("user_id", "org_id"), list(born.items()))
        tx.insert_rows(tables["history"], COLUMNS, rows)
        erased = [(f.subject,) for f in mine if f.kind is User.Erased]
        if erased:
            tx.cursor.executemany(tx.sql(FORGET_CLIENT, tables), erased)


def _owners(tx: Transaction, tables: dict[str, str], user_ids: set[str]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for marks, chunk in in_lists(list(user_ids)):
        found = tx.execute(OWNERS.replace("{marks}", marks), chunk, tables).fetchall()
        owners.update(dict(found))
    return owners
