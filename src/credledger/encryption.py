"""Encryption at rest, as configured: the library's cipher settings, and a start-up check
that the stored events are what this configuration reads and writes.

Turning the cipher on for a store that already holds plaintext events is refused rather than
read both ways: the old events could never be encrypted (the ledger covers their stored
bytes), so their password hashes would stay readable, and accepting unauthenticated plaintext
beside ciphertext would let whoever can write to the table slip in events the cipher rejects.
"""

from __future__ import annotations

import orjson
from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from credledger.settings import Settings
from storage.cipher import CURRENT, PREVIOUS, RotatingAESCipher, parse_keys


class EncryptionMismatch(ValueError):
    """The stored events and the cipher settings disagree; the message says what to do."""


def cipher_env(settings: Settings) -> dict[str, str]:
    """The library's cipher settings. The keys are checked here, so a bad one stops start-up
    with a message naming the setting (never the key), not a traceback from the library."""
    previous = settings.cipher_previous_keys
    if settings.cipher_key is None:
        if previous is not None:
            raise EncryptionMismatch(
                "CREDLEDGER_CIPHER_PREVIOUS_KEYS is set but CREDLEDGER_CIPHER_KEY is not"
            )
        return {}
    current = settings.cipher_key.get_secret_value()
    previous_text = previous.get_secret_value() if previous is not None else ""
    parse_keys(current, previous_text)  # raises CipherKeyError (a ValueError) with the reason
    return {"CIPHER_TOPIC": get_topic(RotatingAESCipher), CURRENT: current, PREVIOUS: previous_text}


def check_stored_events(store: Application) -> None:
    """The oldest and the newest stored event must open as configured: a store holding
    plaintext under a key, ciphertext without one, or events under a key that was dropped
    from the previous keys stops start-up here instead of failing on every read."""
    recorder = store.recorder
    newest = recorder.max_notification_id()
    if not newest:
        return  # an empty store takes whatever this configuration writes
    oldest = recorder.select_notifications(start=None, limit=1)
    latest = recorder.select_notifications(start=newest, limit=1)
    for notification in (*oldest, *latest):
        _check(store, notification.id, bytes(notification.state))


def _check(store: Application, position: int, state: bytes) -> None:
    cipher = store.mapper.cipher
    if cipher is None:
        if not _is_json(state):
            raise EncryptionMismatch(
                f"the event store is encrypted (event at position {position} is not "
                "plaintext): set CREDLEDGER_CIPHER_KEY, and CREDLEDGER_CIPHER_PREVIOUS_KEYS "
                "if keys were rotated"
            )
        return
    try:
        cipher.decrypt(state)
    except ValueError:
        if _is_json(state):
            raise EncryptionMismatch(
                f"the event store holds events written without encryption (position "
                f"{position}): CREDLEDGER_CIPHER_KEY can only be turned on for a new, empty "
                "store, because stored events are never rewritten (the ledger covers their "
                "bytes). Unset it to serve this store"
            ) from None
        raise EncryptionMismatch(
            f"the event at position {position} opens with neither CREDLEDGER_CIPHER_KEY nor "
            "any of CREDLEDGER_CIPHER_PREVIOUS_KEYS: a wrong key, or the key it was written "
            "under was dropped (put it back into CREDLEDGER_CIPHER_PREVIOUS_KEYS)"
        ) from None


def _is_json(state: bytes) -> bool:
    try:
        return isinstance(orjson.loads(state), dict)
    except orjson.JSONDecodeError:
        return False
