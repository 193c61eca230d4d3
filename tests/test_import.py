"""Import of existing users with their hashes (CONTRACTS §7), through the real HTTP app and
the `credledger import` command on both stores: every scheme logs in (native and a vendor
dialect) with hashes other implementations made, is re-hashed to argon2id exactly once,
counts wrong passwords toward lockout; a bad row is refused with its index and reason
while the others go in; the report counts what is left to upgrade."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import bcrypt
import pytest
from argon2 import PasswordHasher, Type
from passlib import hash as passlib_hash

from api.horizon import PREFIX as HORIZON
from tests.api_helpers import admin_headers, bearer, login, new_org
from tests.conftest import ADMIN_PASSWORD, own_store

PASSWORD = "Legacy-Meadow-42-lantern"
WRONG = "Not-the-password-4471"


def _django_hash(password: str) -> str:
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True)
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    return PBKDF2PasswordHasher().encode(password, "seasalt1234", iterations=1000)


def _keycloak(algorithm: str, password: str) -> dict[str, object]:
    """Keycloak's credential JSON, written here from its documented format."""
    digest = algorithm.removeprefix("pbkdf2-")
    salt = uuid.uuid4().bytes
    value = hashlib.pbkdf2_hmac(digest, password.encode(), salt, 1000, 64)
    return {
        "algorithm": algorithm,
        "hashIterations": 1000,
        "salt": base64.b64encode(salt).decode(),
        "value": base64.b64encode(value).decode(),
    }


def reference_hash(scheme: str, password: str) -> str | dict[str, object]:
    """A hash of `password` made by an implementation that is not ours."""
    cheap_argon2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    made: dict[str, Any] = {
        "argon2id": lambda: PasswordHasher(**cheap_argon2, type=Type.ID).hash(password),
        "argon2i": lambda: PasswordHasher(**cheap_argon2, type=Type.I).hash(password),
        "bcrypt": lambda: bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode(),
        "scrypt": lambda: passlib_hash.scrypt.using(rounds=4).hash(password),
        "pbkdf2-sha256": lambda: passlib_hash.pbkdf2_sha256.using(rounds=1000).hash(password),
        "pbkdf2-sha512": lambda: passlib_hash.pbkdf2_sha512.using(rounds=1000).hash(password),
        "django-pbkdf2-sha256": lambda: _django_hash(password),
        "keycloak-pbkdf2-sha256": lambda: _keycloak("pbkdf2-sha256", password),
        "keycloak-pbkdf2-sha512": lambda: _keycloak("pbkdf2-sha512", password),
    }
    return made[scheme]()


SCHEMES = (
    "argon2id", "argon2i", "bcrypt", "scrypt", "pbkdf2-sha256", "pbkdf2-sha512",
    "django-pbkdf2-sha256", "keycloak-pbkdf2-sha256", "keycloak-pbkdf2-sha512",
)  # fmt: skip


def _import(client, headers, org_id: str, users: list[Any]) -> dict[str, Any]:
    reply = client.post(f"/v1/orgs/{org_id}/users:import", json={"users": users}, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _one_user(client, scheme: str, policy: dict[str, Any] | None = None, **extra: Any):
    """An org (with `policy`) holding one imported user; returns (headers, ids, login)."""
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, policy)
    username = f"imp-{uuid.uuid4().hex[:8]}"
    row = {"username": username, "passwordHash": reference_hash(scheme, PASSWORD), **extra}
    result = _import(client, headers, org_id, [row])
    assert result["refused"] == [], result
    [imported] = result["imported"]
    return headers, org_id, imported["userId"], f"{username}@{alias}"


def _names(stack, user_id: str) -> list[str]:
    stored = stack.service.store.recorder.select_events(UUID(user_id))
    return [e.topic.rsplit(".", 1)[-1] for e in stored]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_each_scheme_logs_in_natively_and_is_upgraded_exactly_once(stack, client, scheme):
    headers, _, user_id, login_name = _one_user(client, scheme)
    assert _names(stack, user_id) == ["Registered", "PasswordImported"]

    login(client, login_name, PASSWORD)
    login(client, login_name, PASSWORD)

    assert _names(stack, user_id).count("HashUpgraded") == 1
    user = stack.service.store.repository.get(UUID(user_id))
    assert user.password_hash.startswith("$argon2id$") and user.legacy_scheme is None
    history = client.get(f"/v1/users/{user_id}/history", headers=headers).json()["events"]
    types = [event["type"] for event in history]
    assert types[:2] == ["user.registered", "user.password.imported"]
    assert types.count("user.password.hash.upgraded") == 1


@pytest.mark.parametrize("scheme", SCHEMES)
def test_each_scheme_logs_in_through_a_vendor_dialect_first(stack, client, scheme):
    """Horizon authenticates each call by login name and password: the imported admin's
    first call upgrades the hash; native logins then take the upgraded one."""
    headers, org_id, admin_id, admin_login = _one_user(client, scheme, roles=["admin"])
    other = _import(
        client,
        headers,
        org_id,
        [{"username": "other", "passwordHash": reference_hash(scheme, WRONG)}],
    )
    alias = admin_login.split("@")[1]
    for _ in range(2):
        reply = client.post(
            f"{HORIZON}/identity/local/password",
            headers={"X-API-ID": admin_login, "X-API-KEY": PASSWORD},
            json={"identifier": f"other@{alias}", "password": f"Fresh-{uuid.uuid4().hex}-9"},
        )
        assert reply.status_code == 204, reply.text
    assert other["imported"]
    upgrades = [
        e for e in stack.service.store.recorder.select_events(UUID(admin_id))
        if e.topic.endswith("HashUpgraded")
    ]  # fmt: skip
    assert len(upgrades) == 1
    login(client, admin_login, PASSWORD)
    assert _names(stack, admin_id).count("HashUpgraded") == 1


def test_a_wrong_password_counts_toward_lockout_and_never_upgrades(stack, client):
    policy = {"maxFailedAttempts": 3, "lockoutMinutes": 0}
    _, _, user_id, login_name = _one_user(client, "bcrypt", policy)
    attempt = {"loginName": login_name, "password": WRONG}
    codes = [client.post("/v1/sessions", json=attempt).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 423]
    right = client.post("/v1/sessions", json={"loginName": login_name, "password": PASSWORD})
    assert right.status_code == 423  # locked: refused without verifying
    names = _names(stack, user_id)
    assert names.count("PasswordCheckFailed") == 3 and names.count("Locked") == 1
    assert "HashUpgraded" not in names


def test_concurrent_first_logins_upgrade_exactly_once(stack, client):
    _, _, user_id, login_name = _one_user(client, "pbkdf2-sha256")
    barrier = threading.Barrier(8)

    def first_login(_: int) -> int:
        barrier.wait(timeout=30)
        body = {"loginName": login_name, "password": PASSWORD}
        return client.post("/v1/sessions", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert Counter(pool.map(first_login, range(8))) == {201: 8}
    assert _names(stack, user_id).count("HashUpgraded") == 1


def test_a_bad_row_is_refused_with_its_index_and_reason_and_the_rest_go_in(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    good = reference_hash("bcrypt", PASSWORD)
    taken = f"taken-{uuid.uuid4().hex[:6]}"
    _import(client, headers, org_id, [{"username": taken, "passwordHash": good}])
    rows: list[Any] = [
        {"username": "ok-1", "passwordHash": good, "email": "ok1@example.com"},
        {"username": "bad-scheme", "passwordHash": "$md5$abc$def"},
        {"username": "bad-bcrypt", "passwordHash": "$2b$04$tooshort"},
        {"username": taken.upper(), "passwordHash": good},  # taken: names compare caseless
        {"username": "bad-email", "passwordHash": good, "email": "not-an-address"},
        "not an object",
        {"username": "no-hash"},
        {
            "username": "ok-2",
            "passwordHash": reference_hash("scrypt", PASSWORD),
            "roles": ["auditor"],
        },
        {"username": "OK-2", "passwordHash": good},  # the same name as the row before
        {"username": "bad-role", "passwordHash": good, "roles": ["root"]},
        {"username": "typo", "passwordhash": good},
    ]
    result = _import(client, headers, org_id, rows)

    assert [i["index"] for i in result["imported"]] == [0, 7]
    refused = {r["index"]: (r["code"], r["message"]) for r in result["refused"]}
    assert sorted(refused) == [1, 2, 3, 4, 5, 6, 8, 9, 10]
    assert refused[1] == ("invalid_request", "passwordHash: unknown hash scheme")
    assert refused[2][0] == "invalid_request" and "bcrypt" in refused[2][1]
    assert refused[3][0] == refused[8][0] == "username_taken"
    assert refused[4][1].startswith("email:")
    assert refused[5][1] == "row: must be a JSON object"
    assert refused[6][1] == "passwordHash: is required"
    assert refused[9][1].startswith("roles:")
    assert refused[10][1].startswith("passwordhash:")
    for message in (m for _, m in refused.values()):
        assert "$2b$04$" not in message  # reasons never echo a hash
    login(client, f"ok-1@{alias}", PASSWORD)
    login(client, f"ok-2@{alias}", PASSWORD)
    assert (
        client.post(
            "/v1/sessions", json={"loginName": f"bad-email@{alias}", "password": PASSWORD}
        ).status_code
        == 401
    )


def test_import_limits_rows_and_body_size_and_needs_an_org_admin(stack, client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    row = {"username": "u", "passwordHash": reference_hash("bcrypt", PASSWORD)}
    too_many = client.post(
        f"/v1/orgs/{org_id}/users:import", json={"users": [row] * 1001}, headers=headers
    )
    assert too_many.status_code == 400 and too_many.json()["code"] == "invalid_request"
    big_but_allowed = [
        {"username": f"bulk-{i}", "passwordHash": row["passwordHash"], "fullName": "x" * 100}
        for i in range(600)
    ]  # ~140 KB: over the default body limit, within the import's 1 MiB
    assert len(_import(client, headers, org_id, big_but_allowed)["imported"]) == 600
    huge = {"users": [{"username": "x", "passwordHash": "y" * 1100 * 1024}]}
    over = client.post(f"/v1/orgs/{org_id}/users:import", json=huge, headers=headers)
    assert over.status_code == 413 and over.json()["code"] == "request_too_large"
    _, _, _, member_login = _one_user(client, "bcrypt")
    member = bearer(login(client, member_login, PASSWORD)["token"])
    refused = client.post(f"/v1/orgs/{org_id}/users:import", json={"users": [row]}, headers=member)
    assert refused.status_code == 404  # another org's: out of reach


def test_the_report_counts_users_still_carrying_each_scheme(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    rows = [
        {"username": f"r-{scheme}-{i}", "passwordHash": reference_hash(scheme, PASSWORD)}
        for scheme in ("bcrypt", "pbkdf2-sha256")
        for i in range(2)
    ]
    _import(client, headers, org_id, rows)
    report = client.get(f"/v1/orgs/{org_id}/import-report", headers=headers)
    assert report.json() == {
        "orgId": org_id, "schemes": {"bcrypt": 2, "pbkdf2-sha256": 2}, "total": 4,
    }  # fmt: skip
    login(client, f"r-bcrypt-0@{alias}", PASSWORD)
    report = client.get(f"/v1/orgs/{org_id}/import-report", headers=headers).json()
    assert report["schemes"] == {"bcrypt": 1, "pbkdf2-sha256": 2} and report["total"] == 3


def test_no_imported_hash_reaches_the_read_models_or_the_history(stack, client):
    secret_part = "SecretOnlyInTheHash"
    hashed = passlib_hash.pbkdf2_sha256.using(rounds=1000, salt=secret_part.encode()).hash(PASSWORD)
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    [imported] = _import(client, headers, org_id, [{"username": "quiet", "passwordHash": hashed}])[
        "imported"
    ]
    history = client.get(f"/v1/users/{imported['userId']}/history", headers=headers).text
    user = client.get(f"/v1/users/{imported['userId']}", headers=headers).text
    salt_text = passlib_hash.pbkdf2_sha256.from_string(hashed).salt
    for text in (history, user):
        assert hashed not in text and base64.b64encode(salt_text).decode()[:10] not in text


# --- the command line ---

CLI = [sys.executable, "-m", "credledger.cli"]


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cli_store(request, tmp_path):
    with own_store(request.param, tmp_path, "cl_import") as (_, env):
        env = {**env, "CREDLEDGER_ADMIN_PASSWORD": ADMIN_PASSWORD}
        created = _cli(
            ["init", "--org-alias", "acme", "--org-name", "Acme", "--admin-login", "admin"],
            env,
            tmp_path,
        )
        assert created.returncode == 0, created.stderr
        yield env, tmp_path


def test_the_import_command_reports_refused_lines_and_exits_1(cli_store):
    env, folder = cli_store
    lines = [
        json.dumps({"username": "alice", "passwordHash": reference_hash("bcrypt", PASSWORD)}),
        "",
        "{not json",
        json.dumps({"username": "bob", "passwordHash": "$md5$x$y"}),
        json.dumps(
            {
                "username": "carol",
                "passwordHash": reference_hash("keycloak-pbkdf2-sha256", PASSWORD),
            }
        ),
    ]
    file = folder / "users.jsonl"
    file.write_text("\n".join(lines) + "\n")

    done = _cli(["import", str(file), "--org", "acme", "--progress"], env, folder)

    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "line 3: invalid_request: not a JSON object on one line",
        "line 4: invalid_request: passwordHash: unknown hash scheme",
        "imported 2, refused 2",
    ], done.stderr
    assert "100.0%" in done.stderr  # the progress bar reached the end of the file
    report = _cli(["import", "--report", "--org", "acme"], env, folder)
    assert report.returncode == 0, report.stderr
    assert report.stdout.split() == ["bcrypt", "1", "keycloak-pbkdf2-sha256", "1", "total", "2"]


def test_a_clean_import_exits_0_and_an_unknown_org_is_a_clear_error(cli_store):
    env, folder = cli_store
    file = folder / "clean.jsonl"
    file.write_text(
        json.dumps({"username": "dave", "passwordHash": reference_hash("argon2id", PASSWORD)})
        + "\n"
    )
    assert _cli(["import", str(file)], env, folder).stdout.strip() == "imported 1, refused 0"
    unknown = _cli(["import", str(file), "--org", "nope"], env, folder)
    assert unknown.returncode == 1 and "nope" in unknown.stderr
    neither = _cli(["import"], env, folder)
    assert neither.returncode == 1 and "FILE or --report" in neither.stderr
