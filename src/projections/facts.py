"""What read models are fed: stored events decoded only as far as the models need.

Building full domain events (the library's mapper: every UUID and datetime made an object,
every personal value opened) cost more than reading the events did, and a rebuild does it
100,000 times. A fact is the event's class, its position and details, and its stored JSON
fields as they are: timestamps stay text, client metadata stays sealed (it is opened when a
history row is read), and only the few personal fields a read model keeps are opened, by the
source, on the rare events that carry them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from projections.event_types import iso

# How the event store's JSON spells values of other types: {"_type_": name, "_data_": value}.
TYPE_KEY, DATA_KEY = "_type_", "_data_"
SEALED = "sealed"
UTC_SUFFIX = "+00:00"


@dataclass(slots=True)
class Fact:
    position: int
    kind: type  # the domain event's class
    subject: str  # the aggregate's id, as text
    sequence: int  # the aggregate's version after this event
    at: str  # when it happened: RFC 3339 UTC with `Z` and microseconds
    fields: dict[str, Any]  # the event's stored fields
    personal: tuple[str, ...] = ()  # fields sealed when stored; the source opens them

    def moment(self, name: str) -> str | None:
        return stored_moment(self.fields.get(name))

    def uuid_text(self, name: str) -> str:
        value = self.fields[name]
        return uuid_text(value[DATA_KEY] if isinstance(value, dict) else value)


@dataclass(slots=True)
class Batch:
    facts: list[Fact]  # the events read models care about, by position
    last: int  # the position of the last event read, relevant or not
    count: int  # how many events were read


class FactSource(Protocol):
    def batch_after(self, position: int, limit: int) -> Batch | None:
        """Up to `limit` events after `position`; None when there are none."""
        ...

    def read_after(self, position: int, limit: int) -> Sequence[Any]:
        """`batch_after` in two steps, so that reading can overlap other work: the stored
        rows (opaque) ..."""
        ...

    def decode(self, rows: Sequence[Any]) -> Batch | None:
        """... and the batch they make."""
        ...

    def head(self) -> int: ...

    def head_sql(self) -> str | None:
        """`head` as a scalar SQL expression that the read store's `query_with_head` can
        evaluate inside a read's own statement; None where it cannot."""
        ...

    def open_client(self, subject: str, blob: str) -> dict[str, Any]:
        """Sealed client metadata of a person's event; `{}` once the person is erased."""
        ...


def uuid_text(value: str) -> str:
    """A UUID as `str(UUID)` spells it, from 32 hex digits or that spelling already."""
    if len(value) == 36:
        return value
    h = value
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def stored_moment(value: Any) -> str | None:
    """A stored datetime as the read models' text, without parsing it in the common case."""
    if value is None:
        return None
    text: str = value[DATA_KEY] if isinstance(value, dict) else value
    if text.endswith(UTC_SUFFIX):
        if len(text) == 32:  # 2026-12-04T18:48:46.269282+00:00
            return text[:-6] + "Z"
        if len(text) == 25:  # whole seconds: isoformat leaves the fraction out
            return text[:-6] + ".000000Z"
    return iso(datetime.fromisoformat(text))


def sealed_blob(value: Any) -> str | None:
    """The ciphertext of a sealed stored value, or None if the value is not sealed."""
    if isinstance(value, dict) and value.get(TYPE_KEY) == SEALED:
        return value[DATA_KEY]
    return None
