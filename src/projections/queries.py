"""Reads from the read models, fresh by default: a read right after a write sees it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from projections.projector import Cursor, Projector
from projections.readstore import ReadStore, physical

Tables = dict[str, str]  # logical name -> the live generation's table

FRESHNESS_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class UserRow:
    user_id: str
    org_id: str
    username: str
    alias: str
    roles: list[str]
    email: str | None
    full_name: str | None
    numeric_id: int
    change_required: bool
    password_changed_at: str | None
    failed_attempts: int
    locked: bool
    locked_until: str | None
    removed: bool
    sequence: int
    change_date: str


@dataclass(frozen=True)
class OrgRow:
    org_id: str
    name: str
    alias: str
    policy: dict[str, Any]
    sequence: int
    change_date: str


@dataclass(frozen=True)
class HistoryRow:
    position: int
    user_id: str | None
    org_id: str
    sequence: int
    type: str
    occurred_at: str
    actor: str
    method: str | None
    dialect: str | None
    client: dict[str, Any]  # opened: the table keeps it sealed (projections/history.py)


HISTORY_COLUMNS = (
    "position, user_id, org_id, sequence, type, occurred_at, actor, method, dialect, client"
)


USER_COLUMNS = (
    "u.user_id, u.org_id, u.username, o.alias, u.roles, u.email, u.full_name, "
    "u.numeric_id, u.change_required, u.password_changed_at, u.failed_attempts, "
    "u.locked, u.locked_until, u.removed, u.sequence, u.change_date"
)
# Where every live model stands, one row per model.
POSITIONS = (
    "FROM rm_active a JOIN rm_positions p ON p.model = a.model AND p.generation = a.generation"
)


class ReadModels:
    def __init__(self, reads: ReadStore, projector: Projector, in_process: bool = True) -> None:
        self.reads = reads
        self.projector = projector
        # The live tables the last full freshness check saw: a fast read names them in its
        # statement and checks in the same statement that they are still the live ones.
        self._seen: Tables | None = None
        # Whether a read catches the models up itself, or waits for the worker that does:
        # only the process that runs the deployment's worker may project.
        self.catch_up_here: Callable[[], bool] = lambda: in_process

    def fresh(self, timeout: float = FRESHNESS_TIMEOUT_SECONDS) -> bool:
        """Wait until the models have every event committed before this call."""
        return self.fresh_tables(timeout) is not None

    def fresh_tables(self, timeout: float = FRESHNESS_TIMEOUT_SECONDS) -> Tables | None:
        """`fresh`, returning the live tables it saw (None on timeout): a read passes them
        on to its query instead of looking them up again."""
        target = self.projector.head()
        if self.catch_up_here():
            cursors = self.projector.catch_up_to(target, timeout)
            return None if cursors is None else self._saw(_names(cursors))
        deadline = time.monotonic() + timeout
        while True:
            cursors = self.projector.reached(target)
            if cursors is not None:
                return self._saw(_names(cursors))
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)

    def _saw(self, tables: Tables) -> Tables:
        self._seen = tables
        return tables

    def _tables(self) -> Tables:
        return _names(self.projector.active())

    def fresh_user(self, user_id: str) -> UserRow | None:
        """`user(user_id, fresh_tables())`, in one statement when the models are current.

        The statement reads the event store's head, every live model's generation and
        position, and the row from the tables seen last, all at one snapshot of the read
        models (on SQLite, the events file is read in the same statement). When the
        generations are still those tables' and no model is behind the head, the row holds
        every event committed before the statement began, so before the read began.
        Otherwise (behind, a rebuild switched, or no fast statement here): the full path,
        which catches up or waits for the worker."""
        seen, head = self._seen, self.projector.facts.head_sql()
        if seen is not None and head is not None:
            rows = self.reads.query_with_head(
                f"SELECT {head}, a.model, a.generation, p.position, {USER_COLUMNS} {POSITIONS} "
                f"LEFT JOIN ({seen['users']} u JOIN {seen['orgs']} o ON o.org_id = u.org_id) "
                f"ON u.user_id = ?",
                (user_id,),
            )
            if rows and self._current(rows, seen):
                return None if rows[0][4] is None else _user_row(rows[0][4:])
        return self.user(user_id, self.fresh_tables())

    def _current(self, rows: list[tuple[Any, ...]], seen: Tables) -> bool:
        """Whether `rows` (head, model, generation, position, ...) show the live generations
        to be those of `seen`, and every model at the head or past it."""
        known = self.projector.models
        cursors = [Cursor(known[m], g, p) for _, m, g, p, *_ in rows if m in known]
        head = int(rows[0][0])
        return all(c.position >= head for c in cursors) and _names(cursors) == seen

    def user(self, user_id: str, tables: Tables | None = None) -> UserRow | None:
        t = tables or self._tables()
        rows = self.reads.query(
            f"SELECT {USER_COLUMNS} "
            f"FROM {t['users']} u JOIN {t['orgs']} o ON o.org_id = u.org_id WHERE u.user_id = ?",
            (user_id,),
        )
        return _user_row(rows[0]) if rows else None

    def org(self, org_id: str, tables: Tables | None = None) -> OrgRow | None:
        t = tables or self._tables()
        rows = self.reads.query(
            f"SELECT org_id, name, alias, policy, sequence, change_date FROM {t['orgs']} "
            f"WHERE org_id = ?",
            (org_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return OrgRow(r[0], r[1], r[2], json.loads(r[3]), int(r[4]), r[5])

    def history(self, user_id: str, tables: Tables | None = None) -> list[HistoryRow]:
        t = tables or self._tables()
        rows = self.reads.query(
            f"SELECT {HISTORY_COLUMNS} FROM {t['history']} WHERE user_id = ? ORDER BY position",
            (user_id,),
        )
        return [self._history_row(r) for r in rows]

    def feed(
        self, after: int, limit: int, org_id: str | None = None, tables: Tables | None = None
    ) -> list[HistoryRow]:
        t = tables or self._tables()
        where, args = "position > ?", [after]
        if org_id is not None:
            where, args = where + " AND org_id = ?", [*args, org_id]
        rows = self.reads.query(
            f"SELECT {HISTORY_COLUMNS} FROM {t['history']} WHERE {where} ORDER BY position LIMIT ?",
            (*args, limit),
        )
        return [self._history_row(r) for r in rows]

    def feed_between(
        self, since: str, until: str, org_id: str | None = None, page: int = 5000
    ) -> Iterator[HistoryRow]:
        """Credential events with since <= occurredAt < until, by position, paged."""
        after = 0
        while True:
            t = self._tables()
            where = "position > ? AND occurred_at >= ? AND occurred_at < ?"
            args: list[Any] = [after, since, until]
            if org_id is not None:
                where, args = where + " AND org_id = ?", [*args, org_id]
            rows = self.reads.query(
                f"SELECT {HISTORY_COLUMNS} FROM {t['history']} WHERE {where} "
                f"ORDER BY position LIMIT ?",
                (*args, page),
            )
            yield from (self._history_row(r) for r in rows)
            if len(rows) < page:
                return
            after = rows[-1][0]

    def imported_schemes(self, org_id: str, tables: Tables | None = None) -> dict[str, int]:
        """How many of the org's users still carry each imported scheme (CONTRACTS §7)."""
        t = tables or self._tables()
        rows = self.reads.query(
            f"SELECT scheme, COUNT(*) FROM {t['imported']} WHERE org_id = ? "
            f"GROUP BY scheme ORDER BY scheme",
            (org_id,),
        )
        return {scheme: int(count) for scheme, count in rows}

    def imported_by_user(self) -> dict[str, str]:
        """Every user still carrying an imported hash, with its scheme (for `verify`)."""
        rows = self.reads.query(f"SELECT user_id, scheme FROM {self._tables()['imported']}")
        return dict(rows)

    def _history_row(self, r: tuple[Any, ...]) -> HistoryRow:
        client = json.loads(r[9])
        if isinstance(client, str):  # sealed under the person's key
            client = self.projector.facts.open_client(r[1], client)
        return HistoryRow(int(r[0]), r[1], r[2], int(r[3]), r[4], r[5], r[6], r[7], r[8], client)


def _user_row(r: Sequence[Any]) -> UserRow:
    return UserRow(
        r[0],
        r[1],
        r[2],
        r[3],
        json.loads(r[4]),
        r[5],
        r[6],
        int(r[7]),
        bool(r[8]),
        r[9],
        int(r[10]),
        bool(r[11]),
        r[12],
        bool(r[13]),
        int(r[14]),
        r[15],
    )


def _names(cursors: list[Cursor]) -> Tables:
    names: Tables = {}
    for cursor in cursors:
        names.update({t: physical(t, cursor.generation) for t in cursor.model.tables})
    return names
