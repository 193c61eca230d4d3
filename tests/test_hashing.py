"""Hashing (CONTRACTS §1.2): argon2id PHC strings with the OWASP defaults m=19 MiB, t=2, p=1,
and a bound on how many hashes run at once (each holds `memory_cost` KiB)."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from credledger.settings import Settings
from credledger.wiring import build_service
from service.hashing import Argon2Parameters, Hasher

PRODUCTION_PREFIX = "$argon2id$v=19$m=19456,t=2,p=1$"
CHEAP = Argon2Parameters(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings() as a fresh deployment sees it: no CREDLEDGER_* overrides."""
    for name in list(os.environ):
        if name.startswith("CREDLEDGER_"):
            monkeypatch.delenv(name)


def _production_hasher(settings: Settings, max_concurrent: int = 1) -> Hasher:
    parameters = Argon2Parameters(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
    )
    return Hasher(parameters, max_concurrent=max_concurrent)


def test_settings_default_to_owasp_argon2id_parameters(clean_env):
    settings = Settings()
    assert settings.argon2_time_cost == 2
    assert settings.argon2_memory_cost == 19_456
    assert settings.argon2_parallelism == 1
    assert Argon2Parameters() == Argon2Parameters(time_cost=2, memory_cost=19_456, parallelism=1)


def test_default_hasher_writes_argon2id_phc_string_with_m19456_t2_p1(clean_env):
    hasher = _production_hasher(Settings())
    encoded = hasher.hash("Pinned-defaults-pw-2718")

    assert encoded.startswith(PRODUCTION_PREFIX)
    assert hasher.verify(encoded, "Pinned-defaults-pw-2718")
    assert not hasher.verify(encoded, "Pinned-defaults-pw-2719")
    assert not hasher.needs_rehash(encoded)


def test_hash_made_with_other_parameters_needs_rehash_under_the_defaults(clean_env):
    cheap = Hasher(CHEAP, max_concurrent=1).hash("Outdated-params-pw-1")
    hasher = _production_hasher(Settings())

    assert hasher.verify(cheap, "Outdated-params-pw-1")  # still verifies ...
    assert hasher.needs_rehash(cheap)  # ... but is due for an upgrade


def test_service_built_from_default_settings_hashes_with_the_defaults(clean_env, tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/hashing.db", secret_key="hashing-test-" + "k" * 32
    )
    service = build_service(settings)
    try:
        assert service.hasher.parameters == Argon2Parameters(2, 19_456, 1)
        assert service.hasher.hash("Wired-defaults-pw-31").startswith(PRODUCTION_PREFIX)
    finally:
        service.store.close()


class _OverlapProbe:
    """Stands in for argon2's PasswordHasher and counts callers inside it at once.

    Each caller waits inside until `release_at` callers are in together, or `hold` seconds
    pass: a missing bound lets the others in while it waits (and releases everyone at once);
    a working bound keeps them out, so the wait runs out and they enter one batch at a time.
    """

    def __init__(self, inner: Any, release_at: int, hold: float = 0.2) -> None:
        self._inner = inner
        self._release_at = release_at
        self._hold = hold
        self._lock = threading.Condition()
        self.active = 0
        self.peak = 0
        self.calls = 0
        self.first_inside = threading.Event()

    def _inside(self, work):  # noqa: ANN001, ANN202
        with self._lock:
            self.active += 1
            self.calls += 1
            self.peak = max(self.peak, self.active)
            self.first_inside.set()
            self._lock.notify_all()
            self._lock.wait_for(lambda: self.peak >= self._release_at, timeout=self._hold)
        try:
            return work()
        finally:
            with self._lock:
                self.active -= 1

    def hash(self, password: str) -> str:
        return self._inside(lambda: self._inner.hash(password))

    def verify(self, encoded: str, password: str) -> bool:
        return self._inside(lambda: self._inner.verify(encoded, password))


def _probe(hasher: Hasher, release_at: int) -> _OverlapProbe:
    probe = _OverlapProbe(hasher._argon2, release_at)
    hasher._argon2 = probe
    return probe


def _hash_and_verify_together(hasher: Hasher, probe: _OverlapProbe, threads: int) -> None:
    """One hash first (so it is surely inside), then the rest, hashes and verifies mixed."""
    encoded = Hasher(CHEAP, max_concurrent=1).hash("Probe-password-1")
    jobs = [lambda: hasher.hash("Probe-password-2")]
    jobs += [
        (lambda: hasher.verify(encoded, "Probe-password-1"))
        if i % 2
        else (lambda: hasher.hash("Probe-password-3"))
        for i in range(threads - 1)
    ]
    workers = [threading.Thread(target=job) for job in jobs]
    workers[0].start()
    assert probe.first_inside.wait(timeout=10)
    for worker in workers[1:]:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert probe.calls == threads


def test_one_hashing_slot_lets_only_one_hash_or_verify_run_at_a_time():
    hasher = Hasher(CHEAP, max_concurrent=1)
    probe = _probe(hasher, release_at=2)
    _hash_and_verify_together(hasher, probe, threads=2)
    assert probe.peak == 1


def test_two_hashing_slots_cap_six_concurrent_callers_at_two():
    hasher = Hasher(CHEAP, max_concurrent=2)
    probe = _probe(hasher, release_at=3)
    _hash_and_verify_together(hasher, probe, threads=6)
    assert probe.peak == 2


def test_overlap_probe_sees_concurrency_when_slots_allow_it():
    """The control: the same measurement reports overlap when the bound permits it."""
    hasher = Hasher(CHEAP, max_concurrent=3)
    probe = _probe(hasher, release_at=3)
    _hash_and_verify_together(hasher, probe, threads=6)
    assert probe.peak == 3
