"""What every read model provides: its tables, and how a batch of facts changes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from projections.facts import Fact

if TYPE_CHECKING:
    from projections.readstore import Transaction


class ReadModel(Protocol):
    name: str  # stable: positions and table names derive from it
    tables: tuple[str, ...]  # logical names, used as `{name}` in SQL

    def ddl(self) -> list[str]:
        """Tables, and the indexes that writes rely on."""
        ...

    def indexes(self) -> list[str]:
        """Indexes only reads need: a rebuild adds them after its bulk load."""
        ...

    def write(self, facts: Sequence[Fact], tx: Transaction, tables: dict[str, str]) -> None:
        """Applies one batch, in position order, within the projector's transaction."""
        ...
