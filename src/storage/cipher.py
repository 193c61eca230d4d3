"""Whole-event encryption at rest: the library's AES-GCM cipher, with key rotation.

`eventsourcing.cryptography:AESCipher` holds one key and writes no key id. Stored events are
immutable and every ledger leaf hashes an event's stored (encrypted) bytes, so events written
under an old key can never be re-encrypted: rotation means encrypting with the current key
and opening with the current key or any previous one. The stored format stays the library's
own (12-byte nonce || 16-byte tag || ciphertext, no associated data), so any eventsourcing
application configured with that cipher and the right key reads the store too.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

NONCE_BYTES = 12
TAG_BYTES = 16
# The library's environment names, which `store_env` fills from the CREDLEDGER_ settings.
CURRENT = AESCipher.CIPHER_KEY
PREVIOUS = "CIPHER_PREVIOUS_KEYS"


class CipherKeyError(ValueError):
    """A configured key is unusable; the message names the setting, never the key."""


class UnreadableEventError(ValueError):
    """No configured key opens a stored event."""


def parse_key(text: str, setting: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CipherKeyError(f"{setting} is not base64") from None
    if len(key) not in AESCipher.KEY_SIZES:
        raise CipherKeyError(
            f"{setting} must be the base64 of 16, 24 or 32 random bytes, not {len(key)} "
            "(e.g. `openssl rand -base64 32`)"
        )
    return key


def parse_keys(current: str, previous: str | None) -> list[bytes]:
    """The current key first, then the previous ones in the order given."""
    keys = [parse_key(current, "CREDLEDGER_CIPHER_KEY")]
    for number, text in enumerate((previous or "").split(","), start=1):
        if text.strip():
            keys.append(parse_key(text, f"CREDLEDGER_CIPHER_PREVIOUS_KEYS (key {number})"))
    return list(dict.fromkeys(keys))  # the current key listed as previous too is harmless


class RotatingAESCipher(AESCipher):
    """Encrypts with the current key; decrypts with the current key or a previous one."""

    def __init__(self, environment: Environment) -> None:
        current = environment.get(CURRENT)
        if not current:
            raise CipherKeyError("CREDLEDGER_CIPHER_KEY is not set")
        keys = parse_keys(current, environment.get(PREVIOUS))
        self.key = keys[0]  # the base class's attribute: the key it would encrypt with
        # Built once: the library builds an AESGCM per call, a tenth of a small event's cost.
        self._sealing = AESGCM(keys[0])
        self._opening = [AESGCM(key) for key in keys]

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._sealing.encrypt(nonce, plaintext, None)
        # The library puts the tag before the ciphertext; so do we, to stay readable by it.
        return nonce + sealed[-TAG_BYTES:] + sealed[:-TAG_BYTES]

    def decrypt(self, ciphertext: bytes) -> bytes:
        if len(ciphertext) < NONCE_BYTES + TAG_BYTES:
            raise UnreadableEventError("stored event too short to be encrypted")
        nonce = ciphertext[:NONCE_BYTES]
        body = (
            ciphertext[NONCE_BYTES + TAG_BYTES :]
            + ciphertext[NONCE_BYTES : NONCE_BYTES + TAG_BYTES]
        )
        for aesgcm in self._opening:
            try:
                return aesgcm.decrypt(nonce, body, None)
            except InvalidTag:
                continue
        raise UnreadableEventError(
            "a stored event opens with neither CREDLEDGER_CIPHER_KEY nor any of "
            "CREDLEDGER_CIPHER_PREVIOUS_KEYS: it was written under a key no longer "
            "configured (put that key back into CREDLEDGER_CIPHER_PREVIOUS_KEYS), without "
            "encryption, or it was altered"
        )
