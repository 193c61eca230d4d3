"""Login sessions through the native API (CONTRACTS §2 `POST /v1/sessions`,
`DELETE /v1/sessions/current`): reply shape, indistinguishable failures, the default org,
logout, expiry and the `changeRequired` flag."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from tests.api_helpers import (
    GOOD_PASSWORD,
    PROBLEM_JSON,
    RFC3339_Z,
    bearer,
    login,
    unique,
)
from tests.api_helpers import (
    new_org_user as _account,
)
from tests.conftest import ADMIN_PASSWORD

SESSION_FIELDS = {"sessionId", "token", "expiresAt", "userId", "orgId", "changeRequired"}
DEFAULT_SESSION_MINUTES = 720
NEW_PASSWORD = "fresh-Orchid-77-meadow"


def _attempt(client: Any, login_name: str, password: str) -> Any:
    return client.post("/v1/sessions", json={"loginName": login_name, "password": password})


def _me(client: Any, user_id: str, token: str) -> Any:
    return client.get(f"/v1/users/{user_id}", headers=bearer(token))


def _problem(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith(PROBLEM_JSON)
    body = reply.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body


def _parse(stamp: str) -> datetime:
    assert RFC3339_Z.match(stamp), stamp
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# --- login ---


def test_login_answers_201_with_the_documented_session_shape(stack, client):
    account = _account(client)
    before = stack.clock()
    reply = _attempt(client, account["login_name"], GOOD_PASSWORD)
    after = stack.clock()
    assert reply.status_code == 201, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    session = reply.json()
    assert set(session) == SESSION_FIELDS
    assert str(uuid.UUID(session["sessionId"])) == session["sessionId"]
    assert isinstance(session["token"], str) and len(session["token"]) >= 32
    assert session["userId"] == account["user_id"]
    assert session["orgId"] == account["org_id"]
    assert session["changeRequired"] is False
    expires = _parse(session["expiresAt"])
    lifetime = timedelta(minutes=DEFAULT_SESSION_MINUTES)
    assert before + lifetime - timedelta(seconds=1) <= expires <= after + lifetime
    assert _me(client, account["user_id"], session["token"]).status_code == 200


def test_each_login_gets_its_own_session_and_token(client):
    account = _account(client)
    first = login(client, account["login_name"], GOOD_PASSWORD)
    second = login(client, account["login_name"], GOOD_PASSWORD)
    assert first["sessionId"] != second["sessionId"]
    assert first["token"] != second["token"]
    assert _me(client, account["user_id"], first["token"]).status_code == 200
    assert _me(client, account["user_id"], second["token"]).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_401_body(client):
    account = _account(client)
    wrong = _attempt(client, account["login_name"], "not-the-Password-9")
    unknown_user = _attempt(client, f"{unique('ghost')}@{account['alias']}", "not-the-Password-9")
    unknown_org = _attempt(client, f"{unique('ghost')}@{unique('noorg')}", "not-the-Password-9")
    body = _problem(wrong, 401, "invalid_credentials")
    assert _problem(unknown_user, 401, "invalid_credentials") == body
    assert _problem(unknown_org, 401, "invalid_credentials") == body


def test_user_without_a_password_cannot_log_in_and_looks_like_a_wrong_password(client):
    account = _account(client, password=None)
    reply = _attempt(client, account["login_name"], GOOD_PASSWORD)
    unknown = _attempt(client, f"{unique('ghost')}@{account['alias']}", GOOD_PASSWORD)
    assert _problem(reply, 401, "invalid_credentials") == unknown.json()


def test_bare_username_logs_into_the_default_org(client):
    bare = login(client, "admin", ADMIN_PASSWORD)
    qualified = login(client, "admin@default", ADMIN_PASSWORD)
    assert bare["userId"] == qualified["userId"]
    assert bare["orgId"] == qualified["orgId"]
    me = _me(client, bare["userId"], bare["token"])
    assert me.status_code == 200
    assert me.json()["loginName"] == "admin@default"
    assert me.json()["orgId"] == bare["orgId"]


def test_bare_username_of_a_non_default_org_user_is_invalid_credentials(client):
    account = _account(client)
    username = account["login_name"].split("@")[0]
    _problem(_attempt(client, username, GOOD_PASSWORD), 401, "invalid_credentials")


def test_locked_user_login_is_423_account_locked_even_with_the_right_password(client):
    account = _account(client, policy={"maxFailedAttempts": 2, "lockoutMinutes": 0})
    for _ in range(2):
        _problem(
            _attempt(client, account["login_name"], "wrong-Password-1"), 401, "invalid_credentials"
        )
    _problem(_attempt(client, account["login_name"], GOOD_PASSWORD), 423, "account_locked")


# --- logout ---


def test_logout_is_204_and_the_token_is_then_session_invalid(client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    reply = client.delete("/v1/sessions/current", headers=bearer(token))
    assert reply.status_code == 204
    assert reply.content == b""
    _problem(_me(client, account["user_id"], token), 401, "session_invalid")


def test_logout_ends_only_the_current_session(client):
    account = _account(client)
    leaving = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    staying = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    assert client.delete("/v1/sessions/current", headers=bearer(leaving)).status_code == 204
    assert _me(client, account["user_id"], staying).status_code == 200


def test_logout_twice_is_session_invalid(client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    assert client.delete("/v1/sessions/current", headers=bearer(token)).status_code == 204
    again = client.delete("/v1/sessions/current", headers=bearer(token))
    _problem(again, 401, "session_invalid")


def test_logout_without_a_token_is_authentication_required(client):
    _problem(client.delete("/v1/sessions/current"), 401, "authentication_required")


# --- expiry ---


def test_session_is_valid_until_the_default_720_minutes_have_passed(stack, client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    stack.clock.advance(minutes=DEFAULT_SESSION_MINUTES - 1)
    assert _me(client, account["user_id"], token).status_code == 200
    stack.clock.advance(minutes=2)
    _problem(_me(client, account["user_id"], token), 401, "session_invalid")
    _problem(client.delete("/v1/sessions/current", headers=bearer(token)), 401, "session_invalid")


def test_login_after_expiry_gives_a_new_working_session(stack, client):
    account = _account(client)
    old = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    stack.clock.advance(minutes=DEFAULT_SESSION_MINUTES + 1)
    new = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    _problem(_me(client, account["user_id"], old), 401, "session_invalid")
    assert _me(client, account["user_id"], new).status_code == 200


def test_session_lifetime_follows_the_session_minutes_setting(stack, client):
    account = _account(client)
    short = stack.another_service(session_minutes=5)
    try:
        with stack.client(service=short) as short_client:
            before = stack.clock()
            session = login(short_client, account["login_name"], GOOD_PASSWORD)
    finally:
        short.store.close()
    expires = _parse(session["expiresAt"])
    assert before + timedelta(minutes=5) - timedelta(seconds=1) <= expires
    assert expires <= stack.clock() + timedelta(minutes=5)
    assert _me(client, account["user_id"], session["token"]).status_code == 200
    stack.clock.advance(minutes=6)
    _problem(_me(client, account["user_id"], session["token"]), 401, "session_invalid")


# --- changeRequired ---


def test_login_reports_change_required_after_an_admin_set_it(client):
    account = _account(client)
    assert login(client, account["login_name"], GOOD_PASSWORD)["changeRequired"] is False
    reply = client.post(
        f"/v1/users/{account['user_id']}/password",
        json={"newPassword": NEW_PASSWORD, "changeRequired": True},
        headers=account["admin"],
    )
    assert reply.status_code == 200, reply.text
    assert login(client, account["login_name"], NEW_PASSWORD)["changeRequired"] is True


def test_login_reports_change_required_for_a_user_created_with_it(client):
    account = _account(client, changeRequired=True)
    assert login(client, account["login_name"], GOOD_PASSWORD)["changeRequired"] is True


def test_change_required_is_cleared_by_the_users_own_change(client):
    account = _account(client, changeRequired=True)
    session = login(client, account["login_name"], GOOD_PASSWORD)
    reply = client.post(
        f"/v1/users/{account['user_id']}/password",
        json={"newPassword": NEW_PASSWORD, "currentPassword": GOOD_PASSWORD},
        headers=bearer(session["token"]),
    )
    assert reply.status_code == 200, reply.text
    assert login(client, account["login_name"], NEW_PASSWORD)["changeRequired"] is False
