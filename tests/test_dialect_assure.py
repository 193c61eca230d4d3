"""Unified Assurance executeChangePassword: CONTRACTS §3.2."""

from __future__ import annotations

import pytest

from tests.api_helpers import GOOD_PASSWORD, login, new_account, new_user

PATH = "/api/core/ChangePassword/executeChangePassword"
NEW = "quiet-River-88-stone"


def _change(client, login_name, old=GOOD_PASSWORD, new=NEW, repeat=None):
    body = {"Username": login_name, "OldPassword": old, "NewPassword": new,
            "RepeatNewPassword": new if repeat is None else repeat}  # fmt: skip
    return client.post(PATH, json=body)


def _failure(reply, status: int) -> dict:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"success", "message", "errors"} and body["success"] is False
    assert all(isinstance(e, dict) and len(e) == 1 for e in body["errors"])
    return body


def test_success_answers_session_info_with_the_documented_member_types(client):
    account = new_account(client)
    reply = _change(client, account["login_name"])
    assert reply.status_code == 200
    body = reply.json()
    assert (body["success"], body["message"]) == (True, "Password changed")
    (info,) = body["data"]
    types = {
        "UserID": int, "UserGroupID": int, "Username": str, "PasswordExpiration": int,
        "SamlUser": bool, "Permissions": dict, "PermissionIDs": dict, "Preferences": dict,
        "Properties": dict, "Locale": str, "TZ": str, "ThemeDir": str, "EmailAddress": str,
        "FullName": str,
    }  # fmt: skip
    for member, kind in types.items():
        assert type(info[member]) is kind, member
    assert info["UserID"] > 0 and info["UserGroupID"] == 4
    assert info["Username"] == account["login_name"]
    assert info["PasswordExpiration"] == 2147483647 and info["SamlUser"] is False
    assert info.get("SupportPassword", "") == ""
    login(client, account["login_name"], NEW)


def test_user_id_is_stable_and_admins_are_group_2(client):
    account = new_account(client)
    first = _change(client, account["login_name"]).json()["data"][0]["UserID"]
    second = _change(client, account["login_name"], old=NEW, new=NEW + "x").json()["data"][0]
    assert second["UserID"] == first
    _, admin = new_user(client, account["admin"], account["org_id"], roles=["admin", "auditor"])
    info = _change(client, f"{admin}@{account['alias']}").json()["data"][0]
    assert info["UserGroupID"] == 2


def test_validation_errors_are_400_keyed_by_record_field(client):
    account = new_account(client)
    body = _failure(client.post(PATH, json={"Username": account["login_name"]}), 400)
    assert {k for e in body["errors"] for k in e} == {
        "OldPassword",
        "NewPassword",
        "RepeatNewPassword",
    }
    _failure(client.post(PATH, content="{bad", headers={"content-type": "application/json"}), 400)


def test_repeat_mismatch_is_400_on_repeat_new_password(client):
    account = new_account(client)
    body = _failure(_change(client, account["login_name"], repeat="something-else-1"), 400)
    assert body["errors"] == [{"RepeatNewPassword": "does not match NewPassword"}]


def test_policy_violation_is_400_naming_the_rule(client):
    account = new_account(client)
    body = _failure(_change(client, account["login_name"], new="password"), 400)
    assert any("common" in e["NewPassword"] for e in body["errors"])


def test_unknown_user_and_wrong_old_password_are_the_same_401(client):
    account = new_account(client)
    wrong = _failure(_change(client, account["login_name"], old="wrong-old-pw"), 401)
    unknown = _failure(_change(client, "ghost@nowhere", old="wrong-old-pw"), 401)
    assert wrong == unknown


def test_locked_account_is_403(client):
    account = new_account(client, {"maxFailedAttempts": 1})
    _change(client, account["login_name"], old="wrong-old-pw")
    _failure(_change(client, account["login_name"]), 403)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_keeps_the_failure_shape(client, method):
    _failure(client.request(method, PATH), 405)


def test_rate_limited_is_429(stack, client):
    account = new_account(client)
    with stack.client(rate_limit=1) as limited:
        _change(limited, account["login_name"], old="wrong-old-pw")
        reply = _change(limited, account["login_name"], old="wrong-old-pw")
        _failure(reply, 429)
        assert int(reply.headers["Retry-After"]) >= 1
