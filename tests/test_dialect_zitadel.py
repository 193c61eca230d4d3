"""ZITADEL v2 password operations (CONTRACTS §3.5), over REST and Connect."""

from __future__ import annotations

import uuid

import pytest

from tests.api_helpers import GOOD_PASSWORD, bearer, login, new_account, new_user

NEW = "red-Summit-33-ember"
CONNECT = "/zitadel.user.v2.UserService"


def _error(reply, status: int, grpc: int, error_id: str) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["code"] == grpc and body["message"].endswith(f"({error_id})")
    (detail,) = body["details"]
    assert detail["@type"] == "type.googleapis.com/zitadel.v1.ErrorDetail"
    assert detail["id"] == error_id


def _details_ok(reply, account) -> dict:
    assert reply.status_code == 200, reply.text
    details = reply.json()["details"]
    assert set(details) == {"sequence", "changeDate", "resourceOwner"}
    assert details["sequence"].isdigit() and details["changeDate"].endswith("Z")
    assert details["resourceOwner"] == account["org_id"]
    return details


def _set(client, account, body, headers=None):
    return client.post(f"/v2/users/{account['user_id']}/password", json=body, headers=headers or {})


def _code(client, account) -> str:
    reply = client.post(
        f"/v2/users/{account['user_id']}/password_reset", json={"returnCode": {}},
        headers=account["admin"],
    )  # fmt: skip
    _details_ok(reply, account)
    code = reply.json()["verificationCode"]
    assert len(code) == 6 and code.isalnum() and code.isupper()
    return code


def test_set_with_current_password_returns_details_of_the_write(client):
    account = new_account(client)
    body = {"newPassword": {"password": NEW}, "currentPassword": GOOD_PASSWORD}
    details = _details_ok(_set(client, account, body, bearer(account["token"])), account)
    read = client.get(f"/v2/users/{account['user_id']}", headers=account["admin"]).json()
    assert read["details"] == details


def test_set_with_verification_code_needs_no_session(client):
    account = new_account(client)
    body = {
        "newPassword": {"password": NEW, "changeRequired": True},
        "verificationCode": _code(client, account),
    }
    _details_ok(_set(client, account, body), account)
    assert login(client, account["login_name"], NEW)["changeRequired"] is True


def test_admin_sets_without_verification_but_never_for_oneself(client):
    account = new_account(client)
    _details_ok(
        _set(client, account, {"newPassword": {"password": NEW}}, account["admin"]), account
    )
    token = login(client, account["login_name"], NEW)["token"]  # the admin set ended old sessions
    own = _set(client, account, {"newPassword": {"password": NEW + "x"}}, bearer(token))
    _error(own, 403, 7, "AUTH-AWfge")


@pytest.mark.parametrize(
    ("body", "status", "grpc", "error_id"),
    [
        (
            {"newPassword": {"password": NEW}, "currentPassword": "wrong-current-1"},
            400,
            3,
            "COMMAND-3M0fs",
        ),
        (
            {"newPassword": {"password": GOOD_PASSWORD}, "currentPassword": GOOD_PASSWORD},
            400,
            9,
            "COMMAND-Aesh5",
        ),
        (
            {"newPassword": {"password": "short"}, "currentPassword": GOOD_PASSWORD},
            400,
            3,
            "DOMAIN-HuJf6",
        ),
        (
            {"newPassword": {"password": "password1"}, "currentPassword": GOOD_PASSWORD},
            400,
            3,
            "DOMAIN-Blk01",
        ),
        (
            {"newPassword": {"password": "x" * 201}, "currentPassword": GOOD_PASSWORD},
            400,
            3,
            "VALIDATION-1",
        ),
        (
            {"newPassword": {"password": NEW}, "currentPassword": "a", "verificationCode": "b"},
            400,
            3,
            "VALIDATION-1",
        ),
        ({"currentPassword": GOOD_PASSWORD}, 400, 3, "VALIDATION-1"),
    ],
    ids=["wrong-current", "unchanged", "too-short", "common", "oversized", "both", "missing"],
)
def test_set_password_error_rows(client, body, status, grpc, error_id):
    account = new_account(client)
    _error(_set(client, account, body, bearer(account["token"])), status, grpc, error_id)


def test_policy_rules_map_to_their_ids(client):
    account = new_account(
        client, {"requireLowercase": True, "requireUppercase": True, "requireDigit": True,
                 "requireSymbol": True, "maxLength": 30}
    )  # fmt: skip
    cases = {
        "NO-LOWER-CASE-1": "DOMAIN-co3Xw", "no-upper-case-1": "DOMAIN-VoaRj",
        "No-Digits-Here!": "DOMAIN-ZBv4H", "NoSymbolsHere12": "DOMAIN-ZDLwA",
        "Way-Too-Long-Password-1-xxxxxxxx": "DOMAIN-Len02",
        account["username"].upper() + "a1!": "DOMAIN-Idn01",
    }  # fmt: skip
    for password, error_id in cases.items():
        body = {"newPassword": {"password": password}, "currentPassword": GOOD_PASSWORD}
        _error(_set(client, account, body, bearer(account["token"])), 400, 3, error_id)


def test_reused_password_is_command_pwreuse(client):
    account = new_account(client)
    token = account["token"]
    _set(
        client,
        account,
        {"newPassword": {"password": NEW}, "currentPassword": GOOD_PASSWORD},
        bearer(token),
    )
    back = {"newPassword": {"password": GOOD_PASSWORD}, "currentPassword": NEW}
    _error(_set(client, account, back, bearer(token)), 400, 3, "COMMAND-PwReuse")


def test_verification_code_rows(stack, client):
    account = new_account(client)
    none_pending = {"newPassword": {"password": NEW}, "verificationCode": "ABC123"}
    _error(_set(client, account, none_pending), 400, 9, "COMMAND-2M9fs")
    ghost = client.post(f"/v2/users/{uuid.uuid4()}/password", json=none_pending)
    _error(ghost, 400, 9, "COMMAND-2M9fs")  # unknown user looks like "no code pending"
    code = _code(client, account)
    wrong = "ZZZZZ9" if code != "ZZZZZ9" else "ZZZZZ8"
    _error(
        _set(client, account, {**none_pending, "verificationCode": wrong}), 400, 3, "CODE-woT0xc"
    )
    stack.clock.advance(minutes=61)
    _error(_set(client, account, {**none_pending, "verificationCode": code}), 400, 9, "CODE-QvUQ4P")


def test_locked_user_is_command_jlk35(client):
    account = new_account(client, {"maxFailedAttempts": 1})
    wrong = {"newPassword": {"password": NEW}, "currentPassword": "wrong-current-1"}
    _set(client, account, wrong, bearer(account["token"]))
    right = {"newPassword": {"password": NEW}, "currentPassword": GOOD_PASSWORD}
    _error(_set(client, account, right, bearer(account["token"])), 400, 9, "COMMAND-JLK35")


def test_auth_permission_and_not_found_rows(client):
    account = new_account(client)
    _error(_set(client, account, {"newPassword": {"password": NEW}}), 401, 16, "AUTH-7fs1e")
    _error(
        _set(client, account, {"newPassword": {"password": NEW}}, bearer("made-up")),
        401,
        16,
        "AUTH-7fs1e",
    )
    _, plain = new_user(client, account["admin"], account["org_id"])
    plain_token = login(client, f"{plain}@{account['alias']}", GOOD_PASSWORD)["token"]
    _error(
        _set(client, account, {"newPassword": {"password": NEW}}, bearer(plain_token)),
        403,
        7,
        "AUTH-AWfge",
    )
    missing = client.post(
        f"/v2/users/{uuid.uuid4()}/password",
        json={"newPassword": {"password": NEW}},
        headers=account["admin"],
    )
    _error(missing, 404, 5, "COMMAND-SAF4f")


def test_rate_limited_is_rate_1(stack, client):
    account = new_account(client)
    with stack.client(rate_limit=1) as limited:
        _set(limited, account, {"newPassword": {"password": NEW}})
        _error(_set(limited, account, {"newPassword": {"password": NEW}}), 429, 8, "RATE-1")


def test_get_user_and_unlock_from_the_read_model(client):
    account = new_account(client, {"maxFailedAttempts": 1})
    client.post("/v1/sessions", json={"loginName": account["login_name"], "password": "wrong-1a"})
    user = client.get(f"/v2/users/{account['user_id']}", headers=account["admin"]).json()
    assert user["user"] == {
        "userId": account["user_id"], "username": account["username"],
        "loginNames": [account["login_name"]], "state": "USER_STATE_LOCKED",
        "human": {"passwordChanged": user["user"]["human"]["passwordChanged"],
                  "passwordChangeRequired": False},
    }  # fmt: skip
    unlocked = client.post(f"/v2/users/{account['user_id']}/unlock", headers=account["admin"])
    details = _details_ok(unlocked, account)
    after = client.get(f"/v2/users/{account['user_id']}", headers=account["admin"]).json()
    assert after["user"]["state"] == "USER_STATE_ACTIVE" and after["details"] == details


def test_password_reset_send_link_returns_no_code(client):
    account = new_account(client, {"resetUrlPrefixes": ["https://x/"]})
    reply = client.post(
        f"/v2/users/{account['user_id']}/password_reset",
        json={"sendLink": {"urlTemplate": "https://x/{{.UserID}}/{{.Code}}"}},
        headers=bearer(account["token"]),  # the user themself may ask
    )
    _details_ok(reply, account)
    assert "verificationCode" not in reply.json() or reply.json()["verificationCode"] is None


def test_connect_paths_serve_the_same_operations(client):
    account = new_account(client)
    got = client.post(
        f"{CONNECT}/GetUserByID", json={"userId": account["user_id"]}, headers=account["admin"]
    )
    assert got.status_code == 200 and got.json()["user"]["userId"] == account["user_id"]
    body = {
        "userId": account["user_id"],
        "newPassword": {"password": NEW},
        "currentPassword": GOOD_PASSWORD,
    }
    _details_ok(
        client.post(f"{CONNECT}/SetPassword", json=body, headers=bearer(account["token"])), account
    )
    reset = client.post(
        f"{CONNECT}/PasswordReset",
        json={"userId": account["user_id"], "returnCode": {}},
        headers=account["admin"],
    )
    assert len(reset.json()["verificationCode"]) == 6
    _details_ok(
        client.post(
            f"{CONNECT}/UnlockUser", json={"userId": account["user_id"]}, headers=account["admin"]
        ),
        account,
    )


def test_connect_errors_use_the_unary_error_shape(client):
    account = new_account(client)
    body = {
        "userId": account["user_id"],
        "newPassword": {"password": NEW},
        "currentPassword": "wrong-1",
    }
    wrong = client.post(f"{CONNECT}/SetPassword", json=body, headers=bearer(account["token"]))
    assert wrong.status_code == 400
    assert wrong.json() == {"code": "invalid_argument", "message": wrong.json()["message"]}
    assert wrong.json()["message"].endswith("(COMMAND-3M0fs)")
    unauthenticated = client.post(f"{CONNECT}/UnlockUser", json={"userId": account["user_id"]})
    assert (unauthenticated.status_code, unauthenticated.json()["code"]) == (401, "unauthenticated")
    unknown = client.post(f"{CONNECT}/DeleteEverything", json={})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
