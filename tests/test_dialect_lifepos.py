"""LIFE POS SetEmployeeCredentials: one test per row of CONTRACTS §3.1."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.api_helpers import GOOD_PASSWORD, bearer, new_account, new_org

NEW = "sunny-Meadow-77"


def _headers(token: str, **extra: str) -> dict[str, str]:
    return {
        **bearer(token),
        "X-LP-Client-Identifier": "till-7",
        "X-LP-Client-Type": "App",
        "Content-Type": "application/json",
        **extra,
    }


def _post(client, account, body, headers=None, org=None):
    return client.post(
        f"/orgs/{org or account['org_id']}/me/set-credentials",
        content=body if isinstance(body, str) else json.dumps(body),
        headers=headers or _headers(account["token"]),
    )


def _error(reply, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert set(body) == {"code", "message", "info"} and body["code"] == code
    return body


@pytest.mark.parametrize(
    "media_type",
    ["application/json", "application/json-patch+json", "text/json", "application/vnd.x+json"],
)
def test_success_returns_a_fresh_token_and_revokes_the_other_sessions(client, media_type):
    account = new_account(client)
    headers = _headers(account["token"], **{"Content-Type": media_type})
    reply = _post(client, account, {"old_password": GOOD_PASSWORD, "new_password": NEW}, headers)
    assert reply.status_code == 200 and set(reply.json()) == {"token"}
    fresh = reply.json()["token"]
    assert client.get(f"/v1/users/{account['user_id']}", headers=bearer(fresh)).status_code == 200
    old = client.get(f"/v1/users/{account['user_id']}", headers=bearer(account["token"]))
    assert old.status_code == 401


def test_client_headers_are_recorded_on_the_event(client):
    account = new_account(client)
    headers = _headers(
        account["token"], **{"X-LP-Client-Model": "Pixel", "Accept-Language": "ru-RU"}
    )
    token = _post(
        client, account, {"old_password": GOOD_PASSWORD, "new_password": NEW}, headers
    ).json()["token"]
    events = client.get(f"/v1/users/{account['user_id']}/history", headers=bearer(token)).json()[
        "events"
    ]
    changed = next(e for e in events if e["type"] == "user.password.changed")
    assert changed["dialect"] == "lifepos"
    assert changed["client"]["clientIdentifier"] == "till-7"
    assert changed["client"]["clientModel"] == "Pixel" and changed["client"]["language"] == "ru-RU"


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        {"old_password": GOOD_PASSWORD},
        {"old_password": GOOD_PASSWORD, "new_password": "short"},
        {"old_password": GOOD_PASSWORD, "new_password": "x" * 33},
        {"old_password": GOOD_PASSWORD, "new_password": 12345678},
    ],
    ids=["bad-json", "missing", "too-short", "too-long", "wrong-type"],
)
def test_invalid_requests_are_422_request_is_not_valid(client, body):
    account = new_account(client)
    _error(_post(client, account, body), 422, "RequestIsNotValid")


def test_bad_header_value_is_422(client):
    account = new_account(client)
    headers = _headers(account["token"], **{"X-LP-Client-Type": "Toaster"})
    body = {"old_password": GOOD_PASSWORD, "new_password": NEW}
    _error(_post(client, account, body, headers), 422, "RequestIsNotValid")
    del headers["X-LP-Client-Identifier"]
    _error(_post(client, account, body, headers), 422, "RequestIsNotValid")


def test_policy_violation_is_422_and_info_names_the_rules(client):
    account = new_account(client, {"requireDigit": True})
    body = _error(
        _post(client, account, {"old_password": GOOD_PASSWORD, "new_password": "no-digits-here"}),
        422,
        "RequestIsNotValid",
    )
    assert "missing_digit" in body["info"]


def test_missing_or_bad_token_is_401_unauthorized(client):
    account = new_account(client)
    body = {"old_password": GOOD_PASSWORD, "new_password": NEW}
    _error(_post(client, account, body, _headers("nonsense")), 401, "Unauthorized")
    headers = _headers(account["token"])
    del headers["Authorization"]
    _error(_post(client, account, body, headers), 401, "Unauthorized")


def test_wrong_old_password_is_401_wrong_username_or_password(client):
    account = new_account(client)
    body = {"old_password": "wrong-old-1", "new_password": NEW}
    _error(_post(client, account, body), 401, "WrongUsernameOrPassword")


def test_another_existing_org_is_403_and_an_unknown_one_404(client):
    account = new_account(client)
    other_org, _ = new_org(client, account["admin"])
    body = {"old_password": GOOD_PASSWORD, "new_password": NEW}
    _error(_post(client, account, body, org=other_org), 403, "NoPermissions")
    _error(_post(client, account, body, org=str(uuid.uuid4())), 404, "NotFound")


def test_wrong_method_is_405_not_allowed(client):
    account = new_account(client)
    reply = client.get(
        f"/orgs/{account['org_id']}/me/set-credentials", headers=_headers(account["token"])
    )
    _error(reply, 405, "NotAllowed")


def test_locked_account_is_429_try_later(client):
    account = new_account(client, {"maxFailedAttempts": 1})
    _post(client, account, {"old_password": "wrong-old-1", "new_password": NEW})
    body = {"old_password": GOOD_PASSWORD, "new_password": NEW}
    _error(_post(client, account, body), 429, "TryLater")


def test_rate_limited_is_429_too_many_requests(stack, client):
    account = new_account(client)
    with stack.client(rate_limit=1) as limited:
        body = {"old_password": "wrong-old-1", "new_password": NEW}
        _post(limited, account, body)
        reply = _post(limited, account, body)
        _error(reply, 429, "TooManyRequests")
        assert int(reply.headers["Retry-After"]) >= 1


def test_unexpected_failure_is_500_internal_server_error(stack, client, monkeypatch):
    account = new_account(client)

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(stack.service, "change_own_password", explode)
    reply = _post(client, account, {"old_password": GOOD_PASSWORD, "new_password": NEW})
    body = _error(reply, 500, "InternalServerError")
    assert "boom" not in json.dumps(body)
