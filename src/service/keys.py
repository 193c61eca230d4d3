"""Everything derived from the instance secret: keyed ids, digests, tokens, codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from uuid import UUID

RESET_CODE_ALPHABET = string.ascii_uppercase + string.digits
RESET_CODE_LENGTH = 6


class Keyring:
    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 32:
            raise ValueError("the secret key must be at least 32 characters")
        self._key = secret_key.encode()

    def _mac(self, purpose: str, *parts: str) -> bytes:
        message = "\x1f".join((purpose, *parts)).encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def keyed_id(self, purpose: str, *parts: str) -> UUID:
        """A UUID (v8 layout) that only the key holder can compute from the name."""
        raw = bytearray(self._mac(purpose, *parts)[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80
        raw[8] = (raw[8] & 0x3F) | 0x80
        return UUID(bytes=bytes(raw))

    def digest(self, purpose: str, secret: str) -> str:
        return self._mac(purpose, secret).hex()

    def matches(self, purpose: str, secret: str, expected_digest: str) -> bool:
        return hmac.compare_digest(self.digest(purpose, secret), expected_digest)

    @property
    def jwt_key(self) -> bytes:
        return self._mac("jwt-signing")

    def history_salt(self, user_id: UUID) -> bytes:
        """The one salt of a user's history hashes: fixed per user, different across users."""
        return self._mac("history-salt", str(user_id))[:16]

    @property
    def data_key_wrapping_key(self) -> bytes:
        """AES-256 key that wraps every person's data key (CONTRACTS §6)."""
        return self._mac("data-key-wrapping")

    def numeric_id(self, user_id: UUID) -> int:
        """A stable positive integer (53 bits, safe in JSON numbers) for APIs that need one."""
        value = int.from_bytes(self._mac("numeric-id", str(user_id))[:7], "big") >> 3
        return value or 1


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_reset_code() -> str:
    """Six characters from A-Z0-9; `secrets.choice` is unbiased."""
    return "".join(secrets.choice(RESET_CODE_ALPHABET) for _ in range(RESET_CODE_LENGTH))
