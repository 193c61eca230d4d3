"""The ledger's tables (SQLite DDL; PostgreSQL's is migrations/0003.ledger.sql) and rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# SQLite only: on PostgreSQL the same tables come from migrations/ (0003.ledger.sql).
LEDGER_DDL = [
    # INTEGER PRIMARY KEY is the rowid and WITHOUT ROWID clusters on the key: one b-tree
    # fewer to write per row each.
    """CREATE TABLE IF NOT EXISTS ledger_leaves (
        leaf_index INTEGER PRIMARY KEY,
        position BIGINT NOT NULL UNIQUE,
        leaf_hash BLOB NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ledger_nodes (
        level INTEGER NOT NULL,
        node_index BIGINT NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (level, node_index)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS ledger_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        tree_size BIGINT NOT NULL,
        position BIGINT NOT NULL,
        epoch BIGINT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ledger_checkpoints (
        tree_size BIGINT PRIMARY KEY,
        root BLOB NOT NULL,
        note TEXT NOT NULL,
        signed_at TEXT NOT NULL
    )""",
]
Progress = Callable[[int], None]  # called with the position reached after each batch
LEAF_COLUMNS = ("leaf_index", "position", "leaf_hash")
NODE_COLUMNS = ("level", "node_index", "hash")


@dataclass(frozen=True)
class Head:
    size: int  # leaves integrated
    position: int  # the last one's notification id
    epoch: int = 0  # bumped by every reset, so no integrator appends to a forgotten tree


@dataclass(frozen=True)
class Leaf:
    index: int
    position: int
    hash: bytes


@dataclass(frozen=True)
class KeptCheckpoint:
    size: int
    root: bytes
    note: str


def leaf_row(row: tuple[object, ...]) -> Leaf:
    index, position, digest = row
    return Leaf(int(index), int(position), bytes(digest))  # type: ignore[call-overload, arg-type]


def kept_row(row: tuple[object, ...]) -> KeptCheckpoint:
    size, root, note = row
    return KeptCheckpoint(int(size), bytes(root), str(note))  # type: ignore[call-overload, arg-type]
