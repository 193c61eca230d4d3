"""No plaintext password, reset code or token ever reaches the store or the logs (CONTRACTS
§1 events, §1.2 resets): a full credential scenario, then a byte scan of what was written.

SQLite: the raw bytes of every file of the store's data directory (the event store file and
its `-wal`, and the read models beside them). PostgreSQL: every byte of `topic` and `state` in
`credledger_events` and `credledger_snapshots` of the run's schema. Logs: everything the root
logger saw at DEBUG while the scenario ran.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from service.outbox import Mail
from tests.api_helpers import admin_headers, bearer, login, new_org, unique
from tests.conftest import ADMIN_PASSWORD, POSTGRES_URL


def _stored_bytes(stack) -> bytes:
    if stack.sqlite_path is not None:
        db = stack.sqlite_path
        wal = db.with_name(db.name + "-wal")
        assert db.is_file()
        files = {db, wal, *db.parent.iterdir()}  # the event store, its WAL, the read models
        return b"\x00".join(path.read_bytes() for path in sorted(files) if path.is_file())
    chunks: list[bytes] = []
    with psycopg.connect(POSTGRES_URL) as conn:
        for table in ("credledger_events", "credledger_snapshots"):
            query = sql.SQL("SELECT topic, state FROM {}.{}").format(
                sql.Identifier(stack.schema), sql.Identifier(table)
            )
            for topic, state in conn.execute(query):
                chunks += [topic.encode(), bytes(state)]
    return b"\x00".join(chunks)


def _run_scenario(stack, client, monkeypatch) -> tuple[str, str, list[str]]:
    """Every credential path once; returns (userId, username, every secret handed out)."""
    marker = uuid.uuid4().hex[:8]
    passwords = {
        name: f"Canary-{name}-{marker}-Pw7"
        for name in ("Initial", "Wrong1", "Wrong2", "Changed", "AdminSet", "ByCode", "ByToken")
    }
    mailed: list[Mail] = []
    outbox = stack.service.outbox
    original_send = outbox.send

    def keeping_send(mail: Mail) -> None:
        mailed.append(mail)
        original_send(mail)

    monkeypatch.setattr(outbox, "send", keeping_send)

    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    username = unique("canary")
    created = client.post(
        f"/v1/orgs/{org_id}/users",
        json={
            "username": username,
            "password": passwords["Initial"],
            "email": f"{username}@example.org",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["userId"]
    name = f"{username}@{alias}"
    path = f"/v1/users/{user_id}/password"

    first = login(client, name, passwords["Initial"])
    for wrong in (passwords["Wrong1"], passwords["Wrong2"]):
        reply = client.post("/v1/sessions", json={"loginName": name, "password": wrong})
        assert reply.status_code == 401
    own_change = {"currentPassword": passwords["Initial"], "newPassword": passwords["Changed"]}
    reply = client.post(path, json=own_change, headers=bearer(first["token"]))
    assert reply.status_code == 200, reply.text
    reply = client.post(path, json={"newPassword": passwords["AdminSet"]}, headers=headers)
    assert reply.status_code == 200, reply.text

    reset_path = f"/v1/users/{user_id}/password-reset"
    by_code = client.post(reset_path, json={"delivery": "return"}, headers=headers).json()
    wrong_code = client.post(
        path, json={"newPassword": passwords["ByCode"], "verificationCode": "WRONG-CODE-7"}
    )
    assert wrong_code.json()["code"] == "reset_code_invalid"
    reply = client.post(
        path, json={"newPassword": passwords["ByCode"], "verificationCode": by_code["code"]}
    )
    assert reply.status_code == 200, reply.text
    by_token = client.post(reset_path, json={"delivery": "return"}, headers=headers).json()
    reply = client.post(
        path, json={"newPassword": passwords["ByToken"], "resetToken": by_token["token"]}
    )
    assert reply.status_code == 200, reply.text
    # A mailed reset through the log outbox stays pending; its secrets are secrets too.
    reply = client.post(reset_path, json={"delivery": "email"}, headers=headers)
    assert reply.status_code == 200, reply.text
    assert len(mailed) == 1

    last = login(client, name, passwords["ByToken"])
    assert client.delete("/v1/sessions/current", headers=bearer(last["token"])).status_code == 204
    assert client.get(f"/v1/users/{user_id}/history", headers=headers).status_code == 200

    issued: list[dict[str, Any]] = [by_code, by_token]
    secrets = [
        *passwords.values(),
        ADMIN_PASSWORD,
        "WRONG-CODE-7",
        first["token"],
        last["token"],
        headers["Authorization"].removeprefix("Bearer "),
        *(grant["code"] for grant in issued),
        *(grant["token"] for grant in issued),
        *(grant["token"].rsplit(".", 1)[-1] for grant in issued),  # the JWT signature alone
        *_mailed_secrets(mailed[0]),
    ]
    return user_id, username, secrets


def _mailed_secrets(mail: Mail) -> list[str]:
    """The code and token from the body of a reset mail."""
    code = re.search(r"verification code is ([A-Z0-9]{6})\b", mail.body)
    token = re.search(r"Reset token: (\S+\.\S+\.\S+)", mail.body)
    assert code and token, mail.body
    return [code.group(1), token.group(1)]


def test_no_password_code_or_token_in_stored_bytes_snapshots_or_logs(
    stack, client, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)  # root logger: everything any library logs
    user_id, username, secrets = _run_scenario(stack, client, monkeypatch)
    stack.service.store.take_snapshot(UUID(user_id))
    assert list(stack.service.store.snapshots.get(UUID(user_id)))  # snapshots are scanned too
    log_marker = f"log-capture-works-{uuid.uuid4().hex}"
    logging.getLogger("credledger.test").debug(log_marker)

    stored = _stored_bytes(stack)
    logs = caplog.text.encode() + b"".join(r.getMessage().encode() for r in caplog.records)

    # The scans really see what is there, so an absence below means something. (The username
    # and the hashes are sealed in the event store since CONTRACTS §6: the probe is the
    # user's last event as stored.)
    last = stack.service.store.recorder.select_events(UUID(user_id), desc=True, limit=1)[0]
    assert bytes(last.state) in stored
    assert log_marker.encode() in logs
    for secret in secrets:
        assert secret.encode() not in stored, f"{secret!r} is in the {stack.name} store"
        assert secret.encode() not in logs, f"{secret!r} is in the logs"
