"""Kendox InfoShare invitation and SetPasswordWithToken (CONTRACTS §3.3), mail over real SMTP."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes

import jwt
import pytest
from aiosmtpd.controller import Controller

from service.outbox import SmtpOutbox
from tests.api_helpers import GOOD_PASSWORD, login, new_account

BASE = "/InfoShare/Json/Authentication"
TARGET = "https://dms.example.org/reset?token=%LoginToken%&x=1"
NEW = "green-Forest-99-tide"
# The org allows links under the DMS's reset page (the default would be our own /ui/).
ALLOWED = {"resetUrlPrefixes": ["https://dms.example.org/reset"]}


def kendox_account(client, policy=None):
    return new_account(client, {**ALLOWED, **(policy or {})})


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox(stack, monkeypatch):
    """A real SMTP server on loopback; the service's outbox speaks to it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(stack.service, "outbox", SmtpOutbox("127.0.0.1", port))
    yield handler
    controller.stop()


def _invite(client, account, tenant=None, user=None):
    body = {"tenantName": tenant or account["alias"], "user": user or account["username"],
            "targetURL": TARGET}  # fmt: skip
    reply = client.post(f"{BASE}/SendPasswordResetInvitation", json=body)
    client.app.state.service.background.wait_idle()  # the mail goes out after the answer
    return reply


def _token_from(inbox: Inbox) -> str:
    for _ in range(50):
        if inbox.messages:
            break
        time.sleep(0.02)
    body = inbox.messages[-1].get_payload(decode=True).decode()
    assert body.startswith("https://dms.example.org/reset?token=") and body.strip().endswith("&x=1")
    return body.split("token=")[1].split("&x=1")[0]


def _set(client, tenant, token, password=NEW):
    body = {"tenantName": tenant, "newPassword": password, "token": token}
    return client.post(f"{BASE}/SetPasswordWithToken", json=body)


def _error(reply, status: int, code: int) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body == {"type": "ServiceException", "errorCode": code, "message": body["message"]}
    assert body["message"].endswith(f"({code})")


def test_invitation_mails_the_target_url_with_a_signed_token_that_sets_the_password(client, inbox):
    account = kendox_account(client)
    reply = _invite(client, account, tenant=account["alias"].upper())
    assert (reply.status_code, reply.json()) == (200, {})
    token = _token_from(inbox)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"sub", "upn", "tenant", "jti", "iat", "exp"}
    assert (claims["sub"], claims["upn"], claims["tenant"]) == (
        account["user_id"], account["username"], account["alias"],
    )  # fmt: skip
    assert (_set(client, account["alias"], token).status_code,) == (200,)
    login(client, account["login_name"], NEW)
    _error(_set(client, account["alias"], token, NEW + "2"), 400, 10376)  # single use


def test_invitation_answers_the_same_for_unknown_tenants_and_users(client, inbox):
    account = kendox_account(client)
    assert _invite(client, account, tenant="no-such-tenant").json() == {}
    assert _invite(client, account, user="nobody").json() == {}
    assert inbox.messages == []
    _error(client.post(f"{BASE}/SendPasswordResetInvitation", json={"user": "x"}), 400, 10169)


@pytest.mark.parametrize(
    ("policy", "password", "code"),
    [
        ({"minLength": 12}, "short-1A!", 10081),
        ({"requireSymbol": True}, "NoSymbolsHere12", 10083),
        ({"requireUppercase": True}, "no-upper-case-12", 10084),
        ({"requireLowercase": True}, "NO-LOWER-CASE-12", 10084),
        ({"requireDigit": True}, "No-Digits-Here!", 10086),
        ({}, "password1", 10169),
    ],
    ids=[
        "too_short",
        "missing_symbol",
        "missing_upper",
        "missing_lower",
        "missing_digit",
        "common",
    ],
)
def test_policy_violations_have_their_error_codes(client, inbox, policy, password, code):
    account = kendox_account(client, policy)
    _invite(client, account)
    _error(_set(client, account["alias"], _token_from(inbox), password), 400, code)


def test_token_errors(stack, client, inbox):
    account = kendox_account(client)
    _invite(client, account)
    token = _token_from(inbox)
    _error(_set(client, "no-such-tenant", token), 400, 10038)
    other = kendox_account(client)
    _error(_set(client, other["alias"], token), 400, 10376)  # tenant mismatch
    _error(_set(client, account["alias"], token[:-4] + "AAAA"), 400, 10376)  # signature
    _error(_set(client, account["alias"], "not-a-jwt"), 400, 10376)
    stack.clock.advance(minutes=16)
    _error(_set(client, account["alias"], token), 400, 10063)


def test_replaced_token_is_refused_and_a_removed_user_is_10244(client, inbox):
    account = kendox_account(client)
    _invite(client, account)
    first = _token_from(inbox)
    # An admin's reset replaces the invitation's (an anonymous one never replaces anything).
    second = client.post(
        f"/v1/users/{account['user_id']}/password-reset",
        json={"delivery": "return"},
        headers=account["admin"],
    ).json()["token"]
    _error(_set(client, account["alias"], first), 400, 10376)
    client.delete(f"/v1/users/{account['user_id']}", headers=account["admin"])
    _error(_set(client, account["alias"], second), 400, 10244)


def test_a_valid_token_works_while_locked_and_unlocks(client, inbox):
    account = kendox_account(client, {"maxFailedAttempts": 1})
    client.post("/v1/sessions", json={"loginName": account["login_name"], "password": "wrong-1a"})
    locked = client.post(
        "/v1/sessions", json={"loginName": account["login_name"], "password": GOOD_PASSWORD}
    )
    assert locked.status_code == 423
    _invite(client, account)
    assert _set(client, account["alias"], _token_from(inbox)).status_code == 200
    login(client, account["login_name"], NEW)


def test_malformed_wrong_method_and_unknown_route_use_10169(client):
    bad = client.post(
        f"{BASE}/SetPasswordWithToken", content="{x", headers={"content-type": "application/json"}
    )
    _error(bad, 400, 10169)
    _error(client.get(f"{BASE}/SetPasswordWithToken"), 405, 10169)
    _error(client.post(f"{BASE}/NoSuchOperation", json={}), 404, 10169)


def test_rate_limited_is_429_10168(stack, client):
    account = kendox_account(client)
    with stack.client(rate_limit=1) as limited:
        _set(limited, account["alias"], "x")
        _error(_set(limited, account["alias"], "x"), 429, 10168)


def test_identity_and_reused_passwords_are_10169(client, inbox):
    account = kendox_account(client)
    _invite(client, account)
    _error(
        _set(client, account["alias"], _token_from(inbox), account["username"] + "-Xy9!"),
        400,
        10169,
    )
    client.post(
        f"/v1/users/{account['user_id']}/password",
        json={"newPassword": NEW},
        headers=account["admin"],
    )
    _invite(client, account)
    _error(_set(client, account["alias"], _token_from(inbox), GOOD_PASSWORD), 400, 10169)
