"""Password resets through the native API (CONTRACTS §1.2, §2): `POST .../password-reset`
issues one pending reset, redeemed once by its 6-character code or its signed token via
`POST .../password` without a session."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import jwt
import pytest

from service.outbox import Mail
from tests.api_helpers import (
    GOOD_PASSWORD,
    PROBLEM_JSON,
    RFC3339_Z,
    bearer,
    login,
    new_user,
    unique,
)
from tests.api_helpers import (
    new_org_user as _account,
)

CODE_PATTERN = re.compile(r"^[A-Z0-9]{6}$")
NEW = "fresh-Orchid-77-meadow"
NEWER = "quiet-Harbor-15-lantern"
WRONG = "wrong-Current-31-pebble"
UNKNOWN_USER = "00000000-0000-4000-8000-000000000000"
LOCK_AFTER_3 = {"maxFailedAttempts": 3, "lockoutMinutes": 0}


def _request(client: Any, account: dict[str, Any], delivery: str = "return") -> dict[str, Any]:
    reply = client.post(
        f"/v1/users/{account['user_id']}/password-reset",
        json={"delivery": delivery},
        headers=account["admin"],
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _redeem(client: Any, user_id: str, **body: Any) -> Any:
    """No Authorization header: a reset needs no session."""
    return client.post(f"/v1/users/{user_id}/password", json=body)


def _with_code(client: Any, user_id: str, code: str, new: str = NEW) -> Any:
    return _redeem(client, user_id, newPassword=new, verificationCode=code)


def _with_token(client: Any, user_id: str, token: str, new: str = NEW) -> Any:
    return _redeem(client, user_id, newPassword=new, resetToken=token)


def _problem(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith(PROBLEM_JSON)
    body = reply.json()
    assert body["code"] == code, body
    return body


def _read(client: Any, account: dict[str, Any]) -> dict[str, Any]:
    reply = client.get(f"/v1/users/{account['user_id']}", headers=account["admin"])
    assert reply.status_code == 200, reply.text
    return reply.json()


def _history(client: Any, account: dict[str, Any]) -> list[dict[str, Any]]:
    reply = client.get(f"/v1/users/{account['user_id']}/history", headers=account["admin"])
    assert reply.status_code == 200, reply.text
    return reply.json()["events"]


def _other_code(code: str) -> str:
    return "ZZZZZ9" if code != "ZZZZZ9" else "ZZZZZ8"


def _parse(stamp: str) -> datetime:
    assert RFC3339_Z.match(stamp), stamp
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _logs_in(client: Any, login_name: str, password: str) -> bool:
    reply = client.post("/v1/sessions", json={"loginName": login_name, "password": password})
    return reply.status_code == 201


# --- the request ---


def test_reset_request_returns_a_code_a_token_and_their_expiry(stack, client):
    account = _account(client)
    before = stack.clock()
    grant = _request(client, account)
    after = stack.clock()
    assert set(grant) == {"code", "codeExpiresAt", "token", "tokenExpiresAt", "details"}
    assert CODE_PATTERN.match(grant["code"])
    code_expires, token_expires = _parse(grant["codeExpiresAt"]), _parse(grant["tokenExpiresAt"])
    second = timedelta(seconds=1)
    assert before + timedelta(minutes=60) - second <= code_expires <= after + timedelta(minutes=60)
    assert before + timedelta(minutes=15) - second <= token_expires <= after + timedelta(minutes=15)
    claims = _claims(grant["token"])
    assert claims["sub"] == account["user_id"]
    assert claims["tenant"] == account["login_name"].split("@")[1]
    assert grant["details"]["resourceOwner"] == account["org_id"]
    assert ("user.password.reset.requested", "admin") in [
        (e["type"], e["method"]) for e in _history(client, account)
    ]


def test_reset_lifetimes_follow_the_org_policy(stack, client):
    account = _account(client, policy={"resetCodeMinutes": 5, "resetTokenMinutes": 3})
    grant = _request(client, account)
    now = stack.clock()
    assert _parse(grant["codeExpiresAt"]) <= now + timedelta(minutes=5)
    assert _parse(grant["tokenExpiresAt"]) <= now + timedelta(minutes=3)
    stack.clock.advance(minutes=4)
    _problem(_with_token(client, account["user_id"], grant["token"]), 400, "reset_token_expired")
    assert _with_code(client, account["user_id"], grant["code"]).status_code == 200


def test_plain_user_cannot_request_a_reset_on_the_native_api(client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    reply = client.post(
        f"/v1/users/{account['user_id']}/password-reset",
        json={"delivery": "return"},
        headers=bearer(token),
    )
    _problem(reply, 403, "forbidden")


# --- redeeming the code ---


def test_reset_code_works_once_then_reset_not_pending(stack, client):
    account = _account(client)
    grant = _request(client, account)
    reply = _with_code(client, account["user_id"], grant["code"])
    assert reply.status_code == 200, reply.text
    details = reply.json()["details"]
    assert details["resourceOwner"] == account["org_id"]
    assert int(details["sequence"]) > int(grant["details"]["sequence"])
    version = stack.service.store.repository.get(UUID(account["user_id"])).version
    assert details["sequence"] == str(version)
    assert _logs_in(client, account["login_name"], NEW)
    assert not _logs_in(client, account["login_name"], GOOD_PASSWORD)
    again = _with_code(client, account["user_id"], grant["code"], NEWER)
    _problem(again, 400, "reset_not_pending")
    assert _logs_in(client, account["login_name"], NEW)
    completed = [e for e in _history(client, account) if e["type"].endswith("reset.completed")]
    assert [(e["method"], e["actor"]) for e in completed] == [("reset_code", "reset-code")]


def test_wrong_reset_code_is_reset_code_invalid_and_the_right_one_still_works(client):
    account = _account(client)
    grant = _request(client, account)
    wrong = _with_code(client, account["user_id"], _other_code(grant["code"]))
    _problem(wrong, 400, "reset_code_invalid")
    assert not _logs_in(client, account["login_name"], NEW)
    assert _with_code(client, account["user_id"], grant["code"]).status_code == 200


def test_four_wrong_codes_leave_the_reset_usable(client):
    account = _account(client)
    grant = _request(client, account)
    for _ in range(4):
        wrong = _with_code(client, account["user_id"], _other_code(grant["code"]))
        _problem(wrong, 400, "reset_code_invalid")
    assert _with_code(client, account["user_id"], grant["code"]).status_code == 200


def test_five_wrong_codes_burn_the_reset(client):
    account = _account(client)
    grant = _request(client, account)
    codes = [
        _with_code(client, account["user_id"], _other_code(grant["code"])).json()["code"]
        for _ in range(5)
    ]
    assert codes == ["reset_code_invalid"] * 5
    _problem(_with_code(client, account["user_id"], grant["code"]), 400, "reset_not_pending")
    # burned as if none were pending: the token of that reset is dead too
    _problem(_with_token(client, account["user_id"], grant["token"]), 400, "reset_token_invalid")
    # wrong codes count against the reset, not as failed password checks
    user = _read(client, account)
    assert (user["state"], user["failedAttempts"]) == ("active", 0)
    assert _logs_in(client, account["login_name"], GOOD_PASSWORD)
    # a new request works again
    fresh = _request(client, account)
    assert _with_code(client, account["user_id"], fresh["code"]).status_code == 200


def test_expired_reset_code_is_reset_code_expired(stack, client):
    account = _account(client)
    grant = _request(client, account)
    stack.clock.advance(minutes=61)
    _problem(_with_code(client, account["user_id"], grant["code"]), 400, "reset_code_expired")
    assert _logs_in(client, account["login_name"], GOOD_PASSWORD)


def test_reset_code_still_works_just_before_it_expires(stack, client):
    account = _account(client)
    grant = _request(client, account)
    stack.clock.advance(minutes=59)
    assert _with_code(client, account["user_id"], grant["code"]).status_code == 200


def test_new_request_replaces_the_old_code_and_token(client):
    account = _account(client)
    first = _request(client, account)
    second = _request(client, account)
    assert first["token"] != second["token"]
    if first["code"] != second["code"]:  # 1 in 36**6 they coincide
        old_code = _with_code(client, account["user_id"], first["code"])
        assert old_code.status_code == 400
        assert old_code.json()["code"] in {"reset_code_invalid", "reset_not_pending"}
    _problem(_with_token(client, account["user_id"], first["token"]), 400, "reset_token_invalid")
    assert not _logs_in(client, account["login_name"], NEW)
    assert _with_code(client, account["user_id"], second["code"]).status_code == 200
    assert _logs_in(client, account["login_name"], NEW)


def test_new_request_token_works_after_the_old_one_was_replaced(client):
    account = _account(client)
    first = _request(client, account)
    second = _request(client, account)
    _problem(_with_token(client, account["user_id"], first["token"]), 400, "reset_token_invalid")
    assert _with_token(client, account["user_id"], second["token"]).status_code == 200
    assert _logs_in(client, account["login_name"], NEW)


# --- redeeming the token ---


def test_reset_token_works_once_then_reset_token_invalid(client):
    account = _account(client)
    grant = _request(client, account)
    reply = _with_token(client, account["user_id"], grant["token"])
    assert reply.status_code == 200, reply.text
    assert _logs_in(client, account["login_name"], NEW)
    again = _with_token(client, account["user_id"], grant["token"], NEWER)
    _problem(again, 400, "reset_token_invalid")
    # one reset: using the token used up the code as well
    _problem(_with_code(client, account["user_id"], grant["code"], NEWER), 400, "reset_not_pending")
    assert _logs_in(client, account["login_name"], NEW)
    completed = [e for e in _history(client, account) if e["type"].endswith("reset.completed")]
    assert [(e["method"], e["actor"]) for e in completed] == [("reset_token", "reset-token")]


def test_tampered_reset_token_is_reset_token_invalid(client):
    account = _account(client)
    grant = _request(client, account)
    header, payload, signature = grant["token"].split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    claims = _claims(grant["token"])
    longer = _b64(json.dumps({**claims, "exp": claims["exp"] + 86_400}).encode())
    forged = jwt.encode(claims, "not-the-instance-key-" + "x" * 32, algorithm="HS256")
    for token in (
        f"{header}.{payload}.{flipped}",
        f"{header}.{longer}.{signature}",
        forged,
        "not-a-jwt",
    ):
        _problem(_with_token(client, account["user_id"], token), 400, "reset_token_invalid")
    assert not _logs_in(client, account["login_name"], NEW)
    assert _with_token(client, account["user_id"], grant["token"]).status_code == 200


def test_expired_reset_token_is_reset_token_expired(stack, client):
    account = _account(client)
    grant = _request(client, account)
    stack.clock.advance(minutes=16)
    _problem(_with_token(client, account["user_id"], grant["token"]), 400, "reset_token_expired")
    assert _logs_in(client, account["login_name"], GOOD_PASSWORD)


def test_reset_token_still_works_just_before_it_expires(stack, client):
    account = _account(client)
    grant = _request(client, account)
    stack.clock.advance(minutes=14)
    assert _with_token(client, account["user_id"], grant["token"]).status_code == 200


def test_reset_token_for_another_user_in_the_path_is_invalid(client):
    account = _account(client)
    other_id, other_name = new_user(client, account["admin"], account["org_id"])
    grant = _request(client, account)
    for path_user in (other_id, UNKNOWN_USER):
        _problem(_with_token(client, path_user, grant["token"]), 400, "reset_token_invalid")
    other_login = f"{other_name}@{account['login_name'].split('@')[1]}"
    assert _logs_in(client, other_login, GOOD_PASSWORD)
    assert not _logs_in(client, other_login, NEW)
    # the token is still good on its own user's path
    assert _with_token(client, account["user_id"], grant["token"]).status_code == 200


def test_code_and_token_together_are_invalid_request(client):
    account = _account(client)
    grant = _request(client, account)
    reply = _redeem(
        client,
        account["user_id"],
        newPassword=NEW,
        verificationCode=grant["code"],
        resetToken=grant["token"],
    )
    _problem(reply, 400, "invalid_request")
    assert _with_code(client, account["user_id"], grant["code"]).status_code == 200


# --- indistinguishable unknown users ---


def test_unknown_user_with_a_code_answers_like_no_reset_pending(client):
    account = _account(client)  # a real user without any pending reset
    nothing_pending = _with_code(client, account["user_id"], "ABC123")
    unknown = _with_code(client, UNKNOWN_USER, "ABC123")
    body = _problem(nothing_pending, 400, "reset_not_pending")
    assert (unknown.status_code, unknown.json()) == (400, body)
    assert unknown.headers["content-type"] == nothing_pending.headers["content-type"]


def test_removed_user_with_their_old_code_answers_like_no_reset_pending(client):
    account = _account(client)
    grant = _request(client, account)
    removed = client.delete(f"/v1/users/{account['user_id']}", headers=account["admin"])
    assert removed.status_code == 204
    reply = _with_code(client, account["user_id"], grant["code"])
    unknown = _with_code(client, UNKNOWN_USER, grant["code"])
    assert _problem(reply, 400, "reset_not_pending") == unknown.json()


# --- locks ---


@pytest.mark.parametrize("redeem_with", ["code", "token"])
def test_locked_user_completes_a_reset_and_is_unlocked(client, redeem_with):
    account = _account(client, policy=LOCK_AFTER_3)
    for _ in range(3):
        assert not _logs_in(client, account["login_name"], WRONG)
    assert _read(client, account)["state"] == "locked"
    assert not _logs_in(client, account["login_name"], GOOD_PASSWORD)
    grant = _request(client, account)  # a reset may be requested while locked
    if redeem_with == "code":
        reply = _with_code(client, account["user_id"], grant["code"])
    else:
        reply = _with_token(client, account["user_id"], grant["token"])
    assert reply.status_code == 200, reply.text
    user = _read(client, account)
    assert (user["state"], user["failedAttempts"], user["lockedUntil"]) == ("active", 0, None)
    assert _logs_in(client, account["login_name"], NEW)
    types = [e["type"] for e in _history(client, account)]
    assert types.index("user.unlocked") > types.index("user.password.reset.completed")


def test_lock_does_not_cancel_a_pending_reset(client):
    account = _account(client, policy=LOCK_AFTER_3)
    grant = _request(client, account)
    for _ in range(3):
        assert not _logs_in(client, account["login_name"], WRONG)
    assert _read(client, account)["state"] == "locked"
    assert _with_code(client, account["user_id"], grant["code"]).status_code == 200
    assert _logs_in(client, account["login_name"], NEW)


# --- sessions ---


def test_completed_reset_ends_the_users_sessions(client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    grant = _request(client, account)
    assert _with_code(client, account["user_id"], grant["code"]).status_code == 200
    after = client.get(f"/v1/users/{account['user_id']}", headers=bearer(token))
    _problem(after, 401, "session_invalid")


def test_completed_reset_keeps_sessions_when_the_policy_does_not_revoke(client):
    account = _account(client, policy={"revokeSessionsOnChange": False})
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    grant = _request(client, account)
    assert _with_token(client, account["user_id"], grant["token"]).status_code == 200
    assert client.get(f"/v1/users/{account['user_id']}", headers=bearer(token)).status_code == 200


def test_reset_with_change_required_is_reported_at_login(client):
    account = _account(client)
    grant = _request(client, account)
    reply = _redeem(
        client,
        account["user_id"],
        newPassword=NEW,
        verificationCode=grant["code"],
        changeRequired=True,
    )
    assert reply.status_code == 200, reply.text
    assert login(client, account["login_name"], NEW)["changeRequired"] is True


# --- delivery by email ---


class _CapturingOutbox:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    def send(self, mail: Mail) -> None:
        self.sent.append(mail)


def test_email_delivery_returns_no_code_or_token_and_mails_a_working_code(
    stack, client, monkeypatch
):
    outbox = _CapturingOutbox()
    monkeypatch.setattr(stack.service, "outbox", outbox)
    email = f"{unique('m')}@example.org"
    account = _account(client, email=email)
    grant = _request(client, account, delivery="email")
    assert grant["code"] is None and grant["token"] is None
    assert RFC3339_Z.match(grant["codeExpiresAt"]) and RFC3339_Z.match(grant["tokenExpiresAt"])
    assert [mail.to for mail in outbox.sent] == [email]
    mailed = re.search(r"\b([A-Z0-9]{6})\b", outbox.sent[0].body)
    assert mailed is not None
    assert _with_code(client, account["user_id"], mailed.group(1)).status_code == 200
    assert _logs_in(client, account["login_name"], NEW)


def test_email_delivery_for_a_user_without_email_is_invalid_request(stack, client, monkeypatch):
    outbox = _CapturingOutbox()
    monkeypatch.setattr(stack.service, "outbox", outbox)
    account = _account(client)
    reply = client.post(
        f"/v1/users/{account['user_id']}/password-reset",
        json={"delivery": "email"},
        headers=account["admin"],
    )
    body = _problem(reply, 400, "invalid_request")
    assert [issue["field"] for issue in body["errors"]] == ["delivery"]
    assert outbox.sent == []
    assert "user.password.reset.requested" not in [e["type"] for e in _history(client, account)]


def test_unknown_delivery_is_invalid_request(client):
    account = _account(client)
    reply = client.post(
        f"/v1/users/{account['user_id']}/password-reset",
        json={"delivery": "pigeon"},
        headers=account["admin"],
    )
    _problem(reply, 400, "invalid_request")


# --- policy ---


def test_policy_violation_on_reset_by_code_is_password_policy_and_keeps_the_code(client):
    account = _account(client, policy={"minLength": 12, "requireDigit": True})
    grant = _request(client, account)
    short = _with_code(client, account["user_id"], grant["code"], "short")
    assert _problem(short, 400, "password_policy")["violations"] == ["too_short", "missing_digit"]
    same = _with_code(client, account["user_id"], grant["code"], GOOD_PASSWORD)
    assert _problem(same, 400, "password_policy")["violations"] == ["same_as_current"]
    # policy violations are no wrong codes: even five of them do not burn the reset
    for _ in range(4):
        _problem(
            _with_code(client, account["user_id"], grant["code"], "short"), 400, "password_policy"
        )
    assert _with_code(client, account["user_id"], grant["code"]).status_code == 200
    assert _logs_in(client, account["login_name"], NEW)


def test_policy_violation_on_reset_by_token_is_password_policy_and_keeps_the_token(client):
    account = _account(client, policy={"requireSymbol": True})
    grant = _request(client, account)
    plain = _with_token(client, account["user_id"], grant["token"], "plainletters12")
    assert _problem(plain, 400, "password_policy")["violations"] == ["missing_symbol"]
    assert _with_token(client, account["user_id"], grant["token"]).status_code == 200
    assert _logs_in(client, account["login_name"], NEW)
