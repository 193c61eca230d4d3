"""Personal data and secrets sealed under per-person data keys: crypto-shredding (CONTRACTS §6).

Each person gets a random AES-256 data key, kept outside the event store and wrapped by a key
derived from the instance secret. The mapper seals the personal and secret fields that
`domain.personal` names (password hashes, reset digests) before an event or snapshot is stored,
and opens them when it is read. Erasure destroys the data key: the stored bytes (and so every
ledger leaf) stay exactly as they were, and the fields read as absent from then on.

Opening acts on sealed values only, so events and snapshots stored before a field was sealed
load as they are.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoding,
)

from domain.personal import (
    CLIENT,
    LIST_FIELDS,
    USER_PERSONAL_FIELDS,
    USER_SECRET_FIELDS,
    USER_SECRET_PARTS,
    USER_TOPIC,
    data_subject,
    personal_fields,
    sealed_fields,
)

FORMAT = b"\x01"  # first byte of every sealed value: room for another scheme later
NONCE_BYTES = 12
# How long a process may keep a data key in memory: after an erasure elsewhere, every process
# has forgotten the key within this time.
KEY_CACHE_SECONDS = 60.0
KEY_CACHE_ENTRIES = 100_000
# A sealed value is its JSON; one encoder and decoder for all (json.dumps with arguments builds
# an encoder per call: a fifth of a seal's time, and an import seals several values a user).
_TO_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_FROM_JSON = json.JSONDecoder().decode


@dataclass(frozen=True)
class Sealed:
    """A personal value as stored: base64 of format byte, nonce and AES-GCM ciphertext."""

    blob: str


class SealedAsText(Transcoding):
    type = Sealed
    name = "sealed"  # persisted in events and snapshots: never rename

    def encode(self, obj: Sealed) -> str:
        return obj.blob

    def decode(self, data: str) -> Sealed:
        return Sealed(data)


class DataKeyTable(Protocol):
    """Where wrapped data keys live: never in the event store."""

    def fetch(self, subject: UUID) -> tuple[bytes | None] | None:
        """None: no row; (None,): the key was destroyed; (wrapped,): the wrapped key."""
        ...

    def fetch_many(self, subjects: list[UUID]) -> dict[UUID, tuple[bytes | None]]:
        """`fetch` for many subjects in one round trip; subjects without a row are left out."""
        ...

    def insert_many(self, rows: list[tuple[UUID, bytes]]) -> None:
        """Like `insert`, for many subjects in one transaction."""
        ...

    def insert(self, subject: UUID, wrapped: bytes) -> None:
        """Adds the row unless one exists (a concurrent writer's key wins)."""
        ...

    def destroy(self, subject: UUID) -> None:
        """Leaves a row without key material, whether or not one existed."""
        ...

    def close(self) -> None: ...


class DataKeys:
    def __init__(
        self,
        table: DataKeyTable,
        wrapping_key: bytes,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.table = table
        self._wrapping = AESGCM(wrapping_key)
        self._clock = clock
        self._cache: dict[UUID, tuple[bytes | None, float]] = {}
        self._ciphers: dict[bytes, AESGCM] = {}  # built once per key: replays open many values
        self._lock = threading.Lock()

    # --- keys ---

    def for_sealing(self, subject: UUID) -> bytes | None:
        """The person's key, made on first use; None once erased."""
        cached = self._cached(subject)
        if cached is not None:
            return cached[0]
        row = self.table.fetch(subject)
        if row is None:
            self.table.insert(subject, self._wrap(subject, AESGCM.generate_key(256)))
            row = self.table.fetch(subject)
        return self._remember(subject, row)

    def for_opening(self, subject: UUID) -> bytes | None:
        """None once erased. No row at all means the key store was lost or is another
        store's: that is an error, never a silent erasure of everyone."""
        cached = self._cached(subject)
        if cached is not None:
            return cached[0]
        row = self.table.fetch(subject)
        if row is None:
            raise ValueError(
                f"no data key for {subject}: the data key store is missing or belongs to "
                "another event store"
            )
        return self._remember(subject, row)

    def warm(self, subjects: set[UUID]) -> None:
        """Loads the keys of many people at once (a replay opens one value each of thousands)."""
        wanted = [s for s in subjects if self._cached(s) is None]
        if wanted:
            for subject, row in self.table.fetch_many(wanted).items():
                self._remember(subject, row)

    def prepare(self, subjects: list[UUID]) -> None:
        """Makes the keys of many new people in one write (an import seals thousands; one
        durable write each would be most of its time)."""
        wanted = [s for s in subjects if self._cached(s) is None]
        if not wanted:
            return
        found = self.table.fetch_many(wanted)
        missing = [s for s in wanted if s not in found]
        if missing:
            self.table.insert_many([(s, self._wrap(s, AESGCM.generate_key(256))) for s in missing])
            found.update(self.table.fetch_many(missing))  # the stored key, whoever wrote it
        for subject, row in found.items():
            self._remember(subject, row)

    def destroy(self, subject: UUID) -> None:
        self.table.destroy(subject)
        self.forget(subject)

    def close(self) -> None:
        self.table.close()

    def forget(self, subject: UUID) -> None:
        """Drops a cached key, e.g. when this process sees the person's erasure."""
        with self._lock:
            entry = self._cache.pop(subject, None)
            if entry is not None and entry[0] is not None:
                self._ciphers.pop(entry[0], None)

    def _cached(self, subject: UUID) -> tuple[bytes | None] | None:
        entry = self._cache.get(subject)
        if entry is None or entry[1] < self._clock():
            return None
        return (entry[0],)

    def _remember(self, subject: UUID, row: tuple[bytes | None] | None) -> bytes | None:
        if row is None:
            return None  # not cached: the key may be made by another process any moment
        key = None if row[0] is None else self._unwrap(subject, row[0])
        with self._lock:
            if len(self._cache) >= KEY_CACHE_ENTRIES:
                self._cache.clear()
                self._ciphers.clear()
            self._cache[subject] = (key, self._clock() + KEY_CACHE_SECONDS)
        return key

    def _cipher(self, key: bytes) -> AESGCM:
        cipher = self._ciphers.get(key)
        if cipher is None:
            cipher = self._ciphers[key] = AESGCM(key)
        return cipher

    def _wrap(self, subject: UUID, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._wrapping.encrypt(nonce, key, b"data-key\x1f" + subject.bytes)

    def _unwrap(self, subject: UUID, wrapped: bytes) -> bytes:
        nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        try:
            return self._wrapping.decrypt(nonce, body, b"data-key\x1f" + subject.bytes)
        except InvalidTag:
            raise ValueError(
                f"the data key of {subject} does not open with this CREDLEDGER_SECRET_KEY"
            ) from None

    # --- values ---

    def seal(self, subject: UUID, field: str, value: Any) -> Sealed | None:
        """None when the person was erased: nothing personal is written for them any more."""
        key = self.for_sealing(subject)
        if key is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        plain = _TO_JSON(value).encode()
        body = self._cipher(key).encrypt(nonce, plain, _aad(subject, field))
        return Sealed(base64.b64encode(FORMAT + nonce + body).decode())

    def open(self, subject: UUID, field: str, sealed: Sealed) -> Any:
        """The value, or None when the person's key was destroyed."""
        key = self.for_opening(subject)
        if key is None:
            return None
        raw = base64.b64decode(sealed.blob)
        if raw[:1] != FORMAT:
            raise ValueError(f"unknown sealed format {raw[:1]!r}")
        nonce, body = raw[1 : 1 + NONCE_BYTES], raw[1 + NONCE_BYTES :]
        try:
            plain = self._cipher(key).decrypt(nonce, body, _aad(subject, field))
        except InvalidTag:
            raise ValueError(f"sealed {field} of {subject} was altered") from None
        return _FROM_JSON(plain.decode())


def _aad(subject: UUID, field: str) -> bytes:
    """Binds a sealed value to its person and field: it cannot be moved to another."""
    return subject.bytes + b"\x1f" + field.encode()


class SealingMapper(Mapper):
    """The library's mapper, with personal and secret fields sealed on the way in and opened on
    the way out. Absent after erasure: `None` for a field, `[]` for a list of hashes, `{}` for
    client metadata.

    `seal_secrets=False` stores secrets as they are (personal data is sealed regardless): for
    tests and benchmarks that need the store as it was before secrets were sealed. Opening
    does not depend on it."""

    def __init__(self, base: Mapper, keys: DataKeys, seal_secrets: bool = True) -> None:
        super().__init__(base.transcoder, base.compressor, base.cipher)
        self.keys = keys
        self.seal_secrets = seal_secrets
        self._snapshot_fields = USER_PERSONAL_FIELDS + (USER_SECRET_FIELDS if seal_secrets else ())
        # By event class: the fields sealed when storing, and those opened when loading.
        self._to_seal: dict[type, tuple[str, ...]] = {}
        self._to_open: dict[type, tuple[str, ...]] = {}

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        return super().to_stored_event(self._sealed(domain_event))

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        try:
            self._open(event)
        except ValueError as error:
            raise MapperDeserialisationError(
                f"stored event {stored_event.originator_id} v{stored_event.originator_version}: "
                f"{error}"
            ) from error
        return event

    # --- sealing ---

    def _sealed(self, event: Any) -> Any:
        if type(event) is Snapshot:
            if event.topic != USER_TOPIC:
                return event
            inner = dict(event.state)
            self._seal_fields(event.originator_id, inner, self._snapshot_fields)
            if self.seal_secrets:
                self._seal_parts(event.originator_id, inner)
            return _copy(event, {**vars(event), "state": inner})
        subject = data_subject(event)
        if subject is None:
            return event
        state = dict(vars(event))
        self._seal_fields(subject, state, self._sealed_on_storing(type(event)))
        audit = state.get("audit")
        if audit and audit.get(CLIENT):
            sealed = self.keys.seal(subject, CLIENT, audit[CLIENT])
            state["audit"] = {**audit, CLIENT: sealed if sealed is not None else {}}
        return _copy(event, state)

    def _sealed_on_storing(self, kind: type) -> tuple[str, ...]:
        names = self._to_seal.get(kind)
        if names is None:
            names = sealed_fields(kind) if self.seal_secrets else personal_fields(kind)
            self._to_seal[kind] = names
        return names

    def _seal_fields(self, subject: UUID, state: dict[str, Any], names: tuple[str, ...]) -> None:
        for name in names:
            value = state.get(name)
            if value in (None, "", [], ()) or isinstance(value, Sealed):
                continue  # nothing to hide (an empty history says nothing)
            sealed = self.keys.seal(subject, name, value)
            state[name] = _absent(name) if sealed is None else sealed

    def _seal_parts(self, subject: UUID, state: dict[str, Any]) -> None:
        """Secrets inside objects the aggregate holds (a pending reset's digests); the
        aggregate's own object is left untouched, a sealed copy is stored."""
        for attribute, names in USER_SECRET_PARTS.items():
            part = state.get(attribute)
            if part is not None:
                values = {name: getattr(part, name) for name in names}
                self._seal_fields(subject, values, names)
                state[attribute] = replace(part, **values)

    # --- opening ---

    def _open(self, event: Any) -> None:
        if type(event) is Snapshot:
            if event.topic == USER_TOPIC:
                subject = event.originator_id
                self._open_fields(subject, event.state, USER_PERSONAL_FIELDS + USER_SECRET_FIELDS)
                for attribute, names in USER_SECRET_PARTS.items():
                    part = event.state.get(attribute)
                    if part is not None:  # decoded just now: ours to change
                        self._open_fields(subject, vars(part), names)
            return
        state = vars(event)
        audit = state.get("audit")
        sealed_client = isinstance(audit, dict) and isinstance(audit.get(CLIENT), Sealed)
        names = self._sealed_on_loading(type(event))
        if not sealed_client and not names:
            return  # nothing personal or secret, or written before sealing existed
        subject = data_subject(event)
        if subject is None:
            raise ValueError("a sealed value without a data subject")
        self._open_fields(subject, state, names)
        if sealed_client:
            audit[CLIENT] = self.keys.open(subject, CLIENT, audit[CLIENT]) or {}

    def _sealed_on_loading(self, kind: type) -> tuple[str, ...]:
        names = self._to_open.get(kind)
        if names is None:
            names = self._to_open[kind] = sealed_fields(kind)
        return names

    def _open_fields(self, subject: UUID, state: dict[str, Any], names: tuple[str, ...]) -> None:
        for name in names:
            value = state.get(name)
            if isinstance(value, Sealed):
                opened = self.keys.open(subject, name, value)
                state[name] = _absent(name) if opened is None else opened


def _absent(name: str) -> Any:
    """What a sealed field reads as once its key is destroyed."""
    return [] if name in LIST_FIELDS else None


def _copy(event: Any, state: dict[str, Any]) -> Any:
    """The same event with another state; the original, still in use, is left untouched."""
    copy = object.__new__(type(event))
    object.__setattr__(copy, "__dict__", state)
    return copy
