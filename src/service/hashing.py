"""argon2id hashing with bounded concurrency.

Each hash holds `memory_cost` KiB, so the number in flight is capped by a semaphore; callers
run in worker threads (argon2-cffi releases the GIL), never on the event loop.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import hash_secret

HISTORY_HASH_BYTES = 32


@dataclass(frozen=True)
class Argon2Parameters:
    """OWASP defaults: m=19 MiB, t=2, p=1."""

    time_cost: int = 2
    memory_cost: int = 19_456  # KiB
    parallelism: int = 1


class Hasher:
    def __init__(self, parameters: Argon2Parameters, max_concurrent: int) -> None:
        self.parameters = parameters
        self._argon2 = PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost,
            parallelism=parameters.parallelism,
            type=Type.ID,
        )
        self._slots = threading.BoundedSemaphore(max(1, max_concurrent))
        self._dummy_hash = self.hash("credledger-dummy-password")

    def hash(self, password: str) -> str:
        with self._slots:
            return self._argon2.hash(password)

    def verify(self, encoded: str, password: str) -> bool:
        with self._slots:
            try:
                return self._argon2.verify(encoded, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def history_hash(
        self, password: str, salt: bytes, parameters: Argon2Parameters | None = None
    ) -> str:
        """argon2id under the user's fixed history salt (a PHC string): the same password
        gives the same string, so one hash checks it against every kept history hash."""
        p = parameters or self.parameters
        with self._slots:
            return hash_secret(
                password.encode(),
                salt,
                time_cost=p.time_cost,
                memory_cost=p.memory_cost,
                parallelism=p.parallelism,
                hash_len=HISTORY_HASH_BYTES,
                type=Type.ID,
            ).decode()

    def needs_rehash(self, encoded: str) -> bool:
        return self._argon2.check_needs_rehash(encoded)

    def dummy_verify(self, password: str) -> None:
        """Spend the time of a real check, so unknown users cannot be told apart by timing."""
        self.verify(self._dummy_hash, password)


class VerifyCache:
    """Remembers verifications within one command, so a retried command does not re-hash."""

    def __init__(self, hasher: Hasher) -> None:
        self._hasher = hasher
        self._results: dict[tuple[str, str], bool] = {}
        self._hashes: dict[str, str] = {}
        self._history: dict[tuple[str, bytes, Argon2Parameters], str] = {}

    def verify(self, encoded: str | None, password: str) -> bool:
        if encoded is None:
            return False
        key = (encoded, password)
        if key not in self._results:
            self._results[key] = self._hasher.verify(encoded, password)
        return self._results[key]

    def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = self._hasher.hash(password)
        return self._hashes[password]

    def history_hash(
        self, password: str, salt: bytes, parameters: Argon2Parameters | None = None
    ) -> str:
        key = (password, salt, parameters or self._hasher.parameters)
        if key not in self._history:
            self._history[key] = self._hasher.history_hash(password, salt, key[2])
        return self._history[key]

    def matches_history(self, encoded: str, password: str, salt: bytes) -> bool:
        """Hashes once per set of parameters; a kept hash made under older ones still counts."""
        try:
            found = extract_parameters(encoded)
        except InvalidHashError:
            return False
        parameters = Argon2Parameters(found.time_cost, found.memory_cost, found.parallelism)
        candidate = self.history_hash(password, salt, parameters)
        return hmac.compare_digest(candidate.encode(), encoded.encode())
