"""What every read model provides: its tables and a pure reducer."""

from __future__ import annotations

from typing import Protocol

from eventsourcing.domain import DomainEvent

from projections.statements import Statement


class ReadModel(Protocol):
    name: str  # stable: positions and table names derive from it
    tables: tuple[str, ...]  # logical names, used as `{name}` in SQL

    def ddl(self) -> list[str]: ...

    def reduce(self, event: DomainEvent, position: int) -> list[Statement]: ...
