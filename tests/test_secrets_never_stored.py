"""No plaintext password, reset code or token in the event store, snapshots, read models or logs."""

from __future__ import annotations

import logging
from uuid import UUID

import psycopg
from psycopg import sql

from tests.api_helpers import admin_headers, bearer, login, new_org, unique
from tests.conftest import POSTGRES_URL

FIRST = "Plaintext-Canary-One-7731"
SECOND = "Plaintext-Canary-Two-8842"
THIRD = "Plaintext-Canary-Three-9953"
FOURTH = "Plaintext-Canary-Four-1064"
WRONG = "Plaintext-Canary-Wrong-2175"


def _stored_bytes(stack) -> bytes:
    if stack.sqlite_path is not None:
        files = [stack.sqlite_path, *stack.sqlite_path.parent.glob("*.db*")]
        return b"".join(path.read_bytes() for path in files if path.is_file())
    with psycopg.connect(POSTGRES_URL) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (stack.schema,),
        ).fetchall()
        chunks = []
        for (table,) in tables:
            query = sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(stack.schema), sql.Identifier(table)
            )
            for row in conn.execute(query):
                chunks += [v if isinstance(v, bytes) else str(v).encode() for v in row]
        return b"\n".join(chunks)


def test_no_secret_in_any_stored_byte_or_log_line(stack, client, caplog):
    caplog.set_level(logging.DEBUG)
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    username = unique("canary")
    created = client.post(
        f"/v1/orgs/{org_id}/users",
        json={"username": username, "password": FIRST, "email": "canary@example.org"},
        headers=headers,
    )
    user_id = created.json()["userId"]
    name = f"{username}@{alias}"
    client.post("/v1/sessions", json={"loginName": name, "password": WRONG})
    session = login(client, name, FIRST)
    change = {"currentPassword": FIRST, "newPassword": SECOND}
    client.post(f"/v1/users/{user_id}/password", json=change, headers=bearer(session["token"]))
    client.post(f"/v1/users/{user_id}/password", json={"newPassword": THIRD}, headers=headers)
    first_reset = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    ).json()
    client.post(
        f"/v1/users/{user_id}/password",
        json={"newPassword": FOURTH, "verificationCode": first_reset["code"]},
    )
    second_reset = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    ).json()
    redeemed = client.post(
        f"/v1/users/{user_id}/password",
        json={"newPassword": FIRST + "x", "resetToken": second_reset["token"]},
    )
    assert redeemed.status_code == 200, redeemed.text
    final = login(client, name, FIRST + "x")
    client.delete("/v1/sessions/current", headers=bearer(final["token"]))
    client.get(f"/v1/users/{user_id}/history", headers=headers)
    stack.service.store.take_snapshot(UUID(user_id))

    stored = _stored_bytes(stack)
    logs = caplog.text.encode()
    secrets = [
        FIRST, SECOND, THIRD, FOURTH, WRONG, FIRST + "x",
        first_reset["code"], first_reset["token"], second_reset["code"], second_reset["token"],
        session["token"], final["token"], headers["Authorization"].split()[1],
    ]  # fmt: skip
    assert username.encode() in stored  # the scan sees what is really there
    for secret in secrets:
        assert secret.encode() not in stored, f"{secret!r} is stored"
        assert secret.encode() not in logs, f"{secret!r} is logged"
