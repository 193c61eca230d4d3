"""Key rotation and configuration of encryption at rest (CONTRACTS §8, README "Encryption at
rest"): events written under key A open after rotating to key B with A kept as a previous
key, and fail with a clear error without it; bad keys and mismatched stores stop start-up
with a message (no traceback, no key)."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.ratelimit import RateLimiter
from credledger.bootstrap import bootstrap
from credledger.settings import Settings
from credledger.wiring import ConfigurationError, build_runtime
from storage.cipher import RotatingAESCipher, UnreadableEventError
from tests.api_helpers import admin_headers, login, new_org, new_user
from tests.conftest import ADMIN_PASSWORD, own_store

KEY_A = base64.b64encode(bytes(range(1, 33))).decode()
KEY_B = base64.b64encode(bytes(range(50, 82))).decode()
PASSWORD = "Rotation-first-Pw-31"
LATER = "Rotation-later-Pw-58"
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _with(settings: Settings, key: str | None, previous: str | None = None) -> Settings:
    return settings.model_copy(
        update={
            "cipher_key": SecretStr(key) if key else None,
            "cipher_previous_keys": SecretStr(previous) if previous else None,
        }
    )


def _cipher(key: str, previous: str = "") -> RotatingAESCipher:
    return RotatingAESCipher(
        Environment("credledger", {"CIPHER_KEY": key, "CIPHER_PREVIOUS_KEYS": previous})
    )


def _cli(env: dict[str, str], folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credledger.cli", *args],
        env=env, cwd=folder, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _states(settings: Settings) -> list[bytes]:
    runtime = build_runtime(settings)
    try:
        recorder = runtime.service.store.recorder
        return [bytes(n.state) for n in recorder.select_notifications(start=None, limit=10_000)]
    finally:
        runtime.close()


@pytest.mark.parametrize("kind", STORES)
def test_events_under_a_previous_key_open_after_rotation_and_fail_without_it(kind, tmp_path):
    with own_store(kind, tmp_path, "rotate") as (settings, env):
        # Written under key A.
        runtime = build_runtime(_with(settings, KEY_A))
        bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
        app = create_app(runtime.service, runtime.reads, RateLimiter(0), runtime.ledger)
        with TestClient(app) as client:
            org_id, alias = new_org(client, admin_headers(client))
            _, username = new_user(client, admin_headers(client), org_id, password=PASSWORD)
        runtime.close()
        under_a = _states(_with(settings, KEY_A))

        # Rotated: B encrypts, A is kept as a previous key; old events read, new ones are B's.
        rotated = _with(settings, KEY_B, KEY_A)
        runtime = build_runtime(rotated)
        app = create_app(runtime.service, runtime.reads, RateLimiter(0), runtime.ledger)
        with TestClient(app) as client:
            headers = admin_headers(client)
            user = login(client, f"{username}@{alias}", PASSWORD)
            reply = client.post(
                f"/v1/users/{user['userId']}/password",
                json={"currentPassword": PASSWORD, "newPassword": LATER},
                headers={"Authorization": f"Bearer {user['token']}"},
            )
            assert reply.status_code == 200, reply.text
            login(client, f"{username}@{alias}", LATER)
            assert client.get(f"/v1/users/{user['userId']}/history", headers=headers).json()[
                "events"
            ]
        runtime.close()
        after = _states(rotated)
        assert after[: len(under_a)] == under_a  # nothing old was rewritten
        new = after[len(under_a) :]
        assert new and all(_cipher(KEY_B).decrypt(s) for s in new)
        with pytest.raises(UnreadableEventError):
            _cipher(KEY_A).decrypt(new[0])
        with pytest.raises(UnreadableEventError, match="CREDLEDGER_CIPHER_PREVIOUS_KEYS"):
            _cipher(KEY_B).decrypt(under_a[-1])

        # Every reader of the store works across both keys: replay and drift check, the
        # ledger over the stored bytes, a user's history from the event store.
        rotated_env = {
            **env,
            "CREDLEDGER_CIPHER_KEY": KEY_B,
            "CREDLEDGER_CIPHER_PREVIOUS_KEYS": KEY_A,
        }
        for args in (["verify"], ["ledger", "verify"], ["history", f"{username}@{alias}"]):
            done = _cli(rotated_env, tmp_path, *args)
            assert done.returncode == 0, done.stdout + done.stderr
        assert ": 0 drifting" in _cli(rotated_env, tmp_path, "verify").stdout

        # Without A, start-up refuses, naming the setting that must hold it.
        with pytest.raises(ConfigurationError, match="CREDLEDGER_CIPHER_PREVIOUS_KEYS"):
            build_runtime(_with(settings, KEY_B))
        refused = _cli({**env, "CREDLEDGER_CIPHER_KEY": KEY_B}, tmp_path, "verify")
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert "CREDLEDGER_CIPHER_PREVIOUS_KEYS" in refused.stderr, refused.stderr


@pytest.mark.parametrize(
    ("current", "previous", "message"),
    [
        ("not*base64*at*all", None, "CREDLEDGER_CIPHER_KEY is not base64"),
        (base64.b64encode(b"k" * 20).decode(), None, "CREDLEDGER_CIPHER_KEY must be the base64"),
        (KEY_A, f"{KEY_B},c2hvcnQ=", "CREDLEDGER_CIPHER_PREVIOUS_KEYS (key 2) must be"),
        (None, KEY_B, "CREDLEDGER_CIPHER_PREVIOUS_KEYS is set but CREDLEDGER_CIPHER_KEY is not"),
    ],
)
def test_a_bad_key_stops_the_cli_with_a_message_naming_the_setting_not_the_key(
    tmp_path, current, previous, message
):
    with own_store("sqlite", tmp_path, "badkey") as (_, env):
        env = {k: v for k, v in env.items() if not k.startswith("CREDLEDGER_CIPHER")}
        env.update({"CREDLEDGER_CIPHER_KEY": current} if current else {})
        env.update({"CREDLEDGER_CIPHER_PREVIOUS_KEYS": previous} if previous else {})
        done = _cli(env, tmp_path, "projections", "status")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("credledger: ") and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    for secret in (current, *(previous or "").split(",")):
        assert not secret or secret not in done.stderr


@pytest.mark.parametrize("kind", STORES)
def test_a_store_of_plaintext_events_refuses_the_cipher_and_an_encrypted_one_needs_it(
    kind, tmp_path
):
    with own_store(kind, tmp_path / "plain", "plain") as (settings, _):
        runtime = build_runtime(_with(settings, None))
        bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
        runtime.close()
        with pytest.raises(ConfigurationError, match="written without encryption"):
            build_runtime(_with(settings, KEY_A))
        build_runtime(_with(settings, None)).close()  # still serves as it was
    with own_store(kind, tmp_path / "sealed", "sealed") as (settings, _):
        runtime = build_runtime(_with(settings, KEY_A))
        bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
        runtime.close()
        with pytest.raises(ConfigurationError, match="the event store is encrypted"):
            build_runtime(_with(settings, None))
        with pytest.raises(ConfigurationError, match="opens with neither"):
            build_runtime(_with(settings, KEY_B))


def test_the_stored_format_is_the_librarys_own_both_ways():
    """Any eventsourcing application with `eventsourcing.cryptography:AESCipher` and the key
    reads the store, and a store it wrote reads here."""
    library = AESCipher(Environment("x", {"CIPHER_KEY": KEY_A}))
    ours = _cipher(KEY_B, KEY_A)
    assert library.decrypt(_cipher(KEY_A).encrypt(b'{"a":1}')) == b'{"a":1}'
    assert ours.decrypt(library.encrypt(b'{"b":2}')) == b'{"b":2}'
    with pytest.raises(ValueError):
        library.decrypt(ours.encrypt(b"under B"))


def test_the_process_environment_does_not_switch_the_cipher_behind_the_settings(
    tmp_path, monkeypatch
):
    """The library looks up CREDLEDGER_CIPHER_KEY itself before CIPHER_KEY; the store takes
    its configuration from the validated settings only."""
    monkeypatch.setenv("CREDLEDGER_CIPHER_KEY", KEY_A)
    with own_store("sqlite", tmp_path, "environ") as (settings, _):
        runtime = build_runtime(_with(settings, None))
        try:
            assert runtime.service.store.mapper.cipher is None
        finally:
            runtime.close()
