"""SQL statements with arguments, built without I/O and run in order by a transaction.

SQL is written once, portable between SQLite and PostgreSQL, with `?` placeholders and
`{table}` names that the read store fills in (table names carry a generation for rebuilds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Statement:
    sql: str
    args: tuple[Any, ...] = ()
