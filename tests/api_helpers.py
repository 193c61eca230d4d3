"""Small helpers for driving the native API in tests: unique names, login, setup."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD

GOOD_PASSWORD = "violet-Lantern-42-harbor"
PROBLEM_JSON = "application/problem+json"
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, login_name: str, password: str) -> dict[str, Any]:
    reply = client.post("/v1/sessions", json={"loginName": login_name, "password": password})
    assert reply.status_code == 201, reply.text
    return reply.json()


def admin_headers(client: TestClient) -> dict[str, str]:
    return bearer(login(client, "admin", ADMIN_PASSWORD)["token"])


def new_org(
    client: TestClient, headers: dict[str, str], policy: dict[str, Any] | None = None
) -> tuple[str, str]:
    """Registers an org with a unique alias; returns (orgId, alias)."""
    alias = unique("org")
    body: dict[str, Any] = {"name": f"Org {alias}", "alias": alias}
    if policy is not None:
        body["passwordPolicy"] = policy
    reply = client.post("/v1/orgs", json=body, headers=headers)
    assert reply.status_code == 201, reply.text
    return reply.json()["orgId"], alias


def new_user(
    client: TestClient,
    headers: dict[str, str],
    org_id: str,
    password: str | None = GOOD_PASSWORD,
    **extra: Any,
) -> tuple[str, str]:
    """Registers a user with a unique username; returns (userId, username)."""
    username = extra.pop("username", None) or unique("user")
    body: dict[str, Any] = {"username": username, **extra}
    if password is not None:
        body["password"] = password
    reply = client.post(f"/v1/orgs/{org_id}/users", json=body, headers=headers)
    assert reply.status_code == 201, reply.text
    return reply.json()["userId"], username


def new_org_user(
    client: TestClient, policy: dict[str, Any] | None = None, **user: Any
) -> dict[str, Any]:
    """A fresh org (with `policy`) holding one user (`user` as for `new_user`)."""
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, policy)
    user_id, username = new_user(client, headers, org_id, **user)
    return {
        "admin": headers,
        "org_id": org_id,
        "alias": alias,
        "user_id": user_id,
        "username": username,
        "login_name": f"{username}@{alias}",
    }


def new_account(client: TestClient, policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """An org with one user (with email) logged in; what dialect tests start from."""
    account = new_org_user(client, policy, email=f"{unique('m')}@example.org")
    account["token"] = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    return account
