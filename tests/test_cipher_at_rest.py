"""Encryption at rest (CONTRACTS §8): with CREDLEDGER_CIPHER_KEY set, no password hash is
readable anywhere in the store after real credential flows through the HTTP app.

The scan covers every file of the SQLite store's directory (the event store and its WAL, the
read models, the data keys) and, on PostgreSQL, every row of every table of the store's
schema (bytea as raw bytes, everything else as text). The same scan with the cipher off finds
the hashes, so an absence below means something.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from pydantic import SecretStr

from api.app import create_app
from api.ratelimit import RateLimiter
from credledger.bootstrap import bootstrap
from credledger.settings import Settings
from credledger.wiring import Runtime, build_runtime
from tests.api_helpers import admin_headers, bearer, login, new_org, unique
from tests.conftest import ADMIN_PASSWORD, POSTGRES_URL, TEST_CIPHER, own_store, secrets_unsealed
from tests.test_import import reference_hash

KEY = base64.b64encode(bytes(range(7, 39))).decode()
PASSWORDS = [f"Cipher-{word}-Pw-{n}" for n, word in enumerate(("first", "second", "third"))]
BY_CODE = "Cipher-by-code-Pw-77"
# Imported users keep their legacy hash until their first login (CONTRACTS §7).
LEGACY = ("bcrypt", "scrypt", "pbkdf2-sha256", "django-pbkdf2-sha256")
PHC_PREFIXES = (b"$argon2", b"$2b$", b"$scrypt$", b"$pbkdf2-sha256$", b"pbkdf2_sha256$")
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def running(kind: str, folder: Path, cipher_key: str | None) -> Iterator[Runtime]:
    """A bootstrapped runtime on a store of its own, with the cipher as asked (whatever the
    suite's CREDLEDGER_TEST_CIPHER says) and hashes left unsealed: the cipher alone hides them."""
    with own_store(kind, folder, "cipher") as (settings, _), secrets_unsealed():
        key = SecretStr(cipher_key) if cipher_key else None
        runtime = build_runtime(settings.model_copy(update={"cipher_key": key}))
        try:
            bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
            yield runtime
        finally:
            runtime.close()


def drive_flows(runtime: Runtime) -> tuple[UUID, list[str]]:
    """Register, log in, change (history kept), admin set, reset by code, import with legacy
    hashes: every path that stores a hash. Returns the user's id and the imported hashes."""
    app = create_app(runtime.service, runtime.reads, RateLimiter(0), runtime.ledger)
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = admin_headers(client)
        org_id, alias = new_org(client, headers)  # default policy: historyCount 4
        username = unique("cipher")
        created = client.post(
            f"/v1/orgs/{org_id}/users",
            json={"username": username, "password": PASSWORDS[0], "email": "c@example.org"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["userId"]
        path = f"/v1/users/{user_id}/password"
        own = login(client, f"{username}@{alias}", PASSWORDS[0])
        change = {"currentPassword": PASSWORDS[0], "newPassword": PASSWORDS[1]}
        assert client.post(path, json=change, headers=bearer(own["token"])).status_code == 200
        set_by_admin = client.post(path, json={"newPassword": PASSWORDS[2]}, headers=headers)
        assert set_by_admin.status_code == 200, set_by_admin.text
        reset = client.post(
            f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
        ).json()
        redeemed = client.post(
            path, json={"newPassword": BY_CODE, "verificationCode": reset["code"]}
        )
        assert redeemed.status_code == 200, redeemed.text
        login(client, f"{username}@{alias}", BY_CODE)
        legacy = [str(reference_hash(scheme, PASSWORDS[0])) for scheme in LEGACY]
        rows = [{"username": unique("legacy"), "passwordHash": h} for h in legacy]
        imported = client.post(
            f"/v1/orgs/{org_id}/users:import", json={"users": rows}, headers=headers
        )
        assert imported.status_code == 200 and not imported.json()["refused"], imported.text
        # The read models and the ledger take in every event before the scan.
        assert client.get(f"/v1/users/{user_id}/history", headers=headers).status_code == 200
        assert client.get("/v1/ledger/checkpoint", headers=headers).status_code == 200
    runtime.service.store.take_snapshot(UUID(user_id))
    return UUID(user_id), legacy


def stored_hashes(runtime: Runtime, user_id: UUID) -> list[str]:
    """Every hash the user's aggregate holds: login hashes and history hashes, current and kept."""
    user = runtime.service.store.repository.get(user_id)
    hashes = [user.password_hash, *user.previous_hashes, user.history_hash, *user.previous_history]
    found = [h for h in hashes if h]
    assert len(found) >= 6 and all(h.startswith("$argon2") for h in found), found
    return found


def stored_bytes(runtime: Runtime, folder: Path) -> bytes:
    settings: Settings = runtime.settings
    if not settings.is_postgres:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        assert any(p.name.endswith("-wal") for p in files)  # the WAL is scanned too
        return b"\x00".join(p.read_bytes() for p in files)
    schema = settings.database_schema
    chunks: list[bytes] = []
    with psycopg.connect(POSTGRES_URL) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
        assert {"credledger_events", "credledger_snapshots", "data_keys"} <= {t for (t,) in tables}
        for (table,) in tables:
            query = sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            for row in conn.execute(query):
                chunks += [
                    bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row
                ]
    return b"\x00".join(chunks)


def one_stored_state(runtime: Runtime) -> bytes:
    recorder = runtime.service.store.recorder
    return bytes(
        recorder.select_notifications(start=recorder.max_notification_id(), limit=1)[0].state
    )


@pytest.mark.parametrize("kind", STORES)
def test_with_the_cipher_on_no_password_hash_is_readable_anywhere_in_the_store(kind, tmp_path):
    with running(kind, tmp_path, KEY) as runtime:
        user_id, legacy = drive_flows(runtime)
        hashes = stored_hashes(runtime, user_id) + legacy
        stored = stored_bytes(runtime, tmp_path)
        assert one_stored_state(runtime) in stored  # the scan covers the events as stored
    for prefix in PHC_PREFIXES:
        assert prefix not in stored, prefix
    for found in hashes:
        digest = found.rsplit("$", 1)[-1]  # the hash without its PHC prefix, too
        assert found.encode() not in stored and digest.encode() not in stored, found


@pytest.mark.parametrize("kind", STORES)
def test_the_same_scan_with_the_cipher_off_finds_every_hash(kind, tmp_path):
    with running(kind, tmp_path, None) as runtime:
        user_id, legacy = drive_flows(runtime)
        hashes = stored_hashes(runtime, user_id) + legacy
        stored = stored_bytes(runtime, tmp_path)
    for prefix in PHC_PREFIXES:
        assert prefix in stored, prefix
    for found in hashes:
        assert found.encode() in stored, found


def test_the_suite_switch_really_turns_the_cipher_on(stack):
    """CREDLEDGER_TEST_CIPHER=1 (the second pass of ./scripts/test) runs the store-level tests
    with every event encrypted; without it, none is."""
    store = stack.service.store
    assert (store.mapper.cipher is not None) == TEST_CIPHER
    state = one_stored_state(stack.runtime)
    assert state.startswith(b"{") != TEST_CIPHER
