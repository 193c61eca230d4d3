"""EVERTRUST Horizon "Set the password for a local identity": CONTRACTS §3.4."""

from __future__ import annotations

from tests.api_helpers import GOOD_PASSWORD, bearer, login, new_account, new_user

PATH = "/api/v1/security/identity/local/password"
NEW = "blue-Canyon-11-frost"


def _keys(login_name: str, password: str = GOOD_PASSWORD) -> dict[str, str]:
    return {"X-API-ID": login_name, "X-API-KEY": password}


def _problem(reply, status: int, error: str) -> dict:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    body = reply.json()
    assert set(body) == {"error", "message", "title", "detail", "status"}
    assert (body["error"], body["status"]) == (error, status)
    return body


def test_self_service_with_api_keys_answers_204_without_body(client):
    account = new_account(client)
    body = {"password": NEW, "previousPassword": GOOD_PASSWORD}
    reply = client.post(PATH, json=body, headers=_keys(account["login_name"]))
    assert (reply.status_code, reply.content) == (204, b"")
    login(client, account["login_name"], NEW)


def test_self_service_with_a_bearer_token_and_naming_oneself(client):
    account = new_account(client)
    body = {"password": NEW, "previousPassword": GOOD_PASSWORD, "identifier": account["login_name"]}
    assert client.post(PATH, json=body, headers=bearer(account["token"])).status_code == 204


def test_previous_password_missing_or_wrong_is_local_id_007(client):
    account = new_account(client)
    keys = _keys(account["login_name"])
    _problem(client.post(PATH, json={"password": NEW}, headers=keys), 400, "LOCAL-ID-007")
    wrong = {"password": NEW, "previousPassword": "wrong-previous-1"}
    _problem(client.post(PATH, json=wrong, headers=keys), 400, "LOCAL-ID-007")
    _problem(
        client.post(PATH, content="{x", headers={**keys, "content-type": "application/json"}),
        400,
        "LOCAL-ID-007",
    )


def test_policy_violation_is_local_id_010_with_rule_ids(client):
    account = new_account(client)
    body = {"password": "short", "previousPassword": GOOD_PASSWORD}
    problem = _problem(
        client.post(PATH, json=body, headers=_keys(account["login_name"])), 400, "LOCAL-ID-010"
    )
    assert "too_short" in problem["detail"]


def test_authentication_failures(client):
    account = new_account(client)
    body = {"password": NEW, "previousPassword": GOOD_PASSWORD}
    _problem(client.post(PATH, json=body), 401, "SEC-AUTH-006")
    _problem(
        client.post(PATH, json=body, headers=_keys(account["login_name"], "wrong-key-1")),
        401,
        "SEC-AUTH-002",
    )
    _problem(client.post(PATH, json=body, headers=_keys("ghost@nowhere")), 401, "SEC-AUTH-002")
    _problem(
        client.post(PATH, json=body, headers=bearer("expired-or-made-up")), 401, "SEC-AUTH-009"
    )


def test_a_locked_caller_is_sec_auth_002(client):
    account = new_account(client, {"maxFailedAttempts": 1})
    body = {"password": NEW, "previousPassword": GOOD_PASSWORD}
    client.post(PATH, json=body, headers=_keys(account["login_name"], "wrong-key-1"))
    _problem(
        client.post(PATH, json=body, headers=_keys(account["login_name"])), 401, "SEC-AUTH-002"
    )


def test_admin_sets_another_identity_and_others_may_not(client):
    account = new_account(client)
    _, admin = new_user(client, account["admin"], account["org_id"], roles=["admin"])
    admin_keys = _keys(f"{admin}@{account['alias']}")
    other = {"password": NEW, "identifier": account["login_name"]}
    assert client.post(PATH, json=other, headers=admin_keys).status_code == 204
    login(client, account["login_name"], NEW)
    missing = {"password": NEW, "identifier": f"nobody@{account['alias']}"}
    _problem(client.post(PATH, json=missing, headers=admin_keys), 404, "LOCAL-ID-003")
    _, plain = new_user(client, account["admin"], account["org_id"])
    plain_keys = _keys(f"{plain}@{account['alias']}")
    _problem(client.post(PATH, json=other, headers=plain_keys), 403, "SEC-PERM-001")
