"""argon2id hashing with bounded concurrency and admission control.

Each hash holds `memory_cost` KiB, so the number in flight is capped by a hashing queue
(`service.admission`) that refuses newcomers who would wait too long; callers run in worker
threads (argon2-cffi releases the GIL), never on the event loop.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import hash_secret

from service import legacy_hashes
from service.admission import HashingQueue

HISTORY_HASH_BYTES = 32
ARGON2_PREFIX = "$argon2"


@dataclass(frozen=True)
class Argon2Parameters:
    """OWASP defaults: m=19 MiB, t=2, p=1."""

    time_cost: int = 2
    memory_cost: int = 19_456  # KiB
    parallelism: int = 1


class Hasher:
    def __init__(
        self, parameters: Argon2Parameters, max_concurrent: int, max_wait: float = 0.0
    ) -> None:
        self.parameters = parameters
        self._argon2 = PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost,
            parallelism=parameters.parallelism,
            type=Type.ID,
        )
        self.queue = HashingQueue(max_concurrent, max_wait)
        self._dummy_hash = self.hash("credledger-dummy-password")

    # `continuing`: a further computation of a command already admitted (see HashingQueue).

    def hash(self, password: str, continuing: bool = False) -> str:
        with self.queue.slot(continuing):
            return self._argon2.hash(password)

    def verify(self, encoded: str, password: str, continuing: bool = False) -> bool:
        """argon2 (ours, or imported), or an imported legacy hash (CONTRACTS §7): each costs
        a hashing slot, as an imported scheme can be as slow as ours."""
        with self.queue.slot(continuing):
            if not encoded.startswith(ARGON2_PREFIX):
                return legacy_hashes.verify(encoded, password)
            try:
                return self._argon2.verify(encoded, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def history_hash(
        self,
        password: str,
        salt: bytes,
        parameters: Argon2Parameters | None = None,
        continuing: bool = False,
    ) -> str:
        """argon2id under the user's fixed history salt (a PHC string): the same password
        gives the same string, so one hash checks it against every kept history hash."""
        p = parameters or self.parameters
        with self.queue.slot(continuing):
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
    """One command's computations: remembered, so a retried command does not re-hash, and
    queued ahead of newcomers once the first one was admitted."""

    def __init__(self, hasher: Hasher) -> None:
        self._hasher = hasher
        self._results: dict[tuple[str, str], bool] = {}
        self._hashes: dict[str, str] = {}
        self._history: dict[tuple[str, bytes, Argon2Parameters], str] = {}
        self._continuing = False  # after its first computation, a command goes ahead

    def verify(self, encoded: str | None, password: str) -> bool:
        if encoded is None:
            return False
        key = (encoded, password)
        if key not in self._results:
            self._results[key] = self._hasher.verify(encoded, password, self._continuing)
            self._continuing = True
        return self._results[key]

    def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = self._hasher.hash(password, self._continuing)
            self._continuing = True
        return self._hashes[password]

    def history_hash(
        self, password: str, salt: bytes, parameters: Argon2Parameters | None = None
    ) -> str:
        key = (password, salt, parameters or self._hasher.parameters)
        if key not in self._history:
            self._history[key] = self._hasher.history_hash(password, salt, key[2], self._continuing)
            self._continuing = True
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
