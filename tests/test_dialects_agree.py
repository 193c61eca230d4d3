"""One domain behind five dialects: the same rule refuses the same password everywhere, and no
malformed request ever gets a framework body or a 500."""

from __future__ import annotations

import json

import pytest

from tests.api_helpers import GOOD_PASSWORD, bearer, new_account

WEAK = "password1"  # on the common list: rule `common` (no composition rule is on)


def _lifepos(client, a):
    return client.post(
        f"/orgs/{a['org_id']}/me/set-credentials",
        json={"old_password": GOOD_PASSWORD, "new_password": WEAK},
        headers={**bearer(a["token"]), "X-LP-Client-Identifier": "t", "X-LP-Client-Type": "App"},
    )


def _assure(client, a):
    body = {"Username": a["login_name"], "OldPassword": GOOD_PASSWORD, "NewPassword": WEAK,
            "RepeatNewPassword": WEAK}  # fmt: skip
    return client.post("/api/core/ChangePassword/executeChangePassword", json=body)


def _kendox(client, a):
    grant = client.post(
        f"/v1/users/{a['user_id']}/password-reset", json={"delivery": "return"}, headers=a["admin"]
    ).json()
    body = {"tenantName": a["alias"], "newPassword": WEAK, "token": grant["token"]}
    return client.post("/InfoShare/Json/Authentication/SetPasswordWithToken", json=body)


def _horizon(client, a):
    body = {"password": WEAK, "previousPassword": GOOD_PASSWORD}
    return client.post(
        "/api/v1/security/identity/local/password", json=body,
        headers={"X-API-ID": a["login_name"], "X-API-KEY": GOOD_PASSWORD},
    )  # fmt: skip


def _zitadel(client, a):
    body = {"newPassword": {"password": WEAK}, "currentPassword": GOOD_PASSWORD}
    return client.post(f"/v2/users/{a['user_id']}/password", json=body, headers=bearer(a["token"]))


def _native(client, a):
    body = {"newPassword": WEAK, "currentPassword": GOOD_PASSWORD}
    return client.post(f"/v1/users/{a['user_id']}/password", json=body, headers=bearer(a["token"]))


# How each dialect names the `common` rule.
EXPECTED = {
    "native": (_native, 400, lambda b: b["violations"] == ["common"]),
    "lifepos": (
        _lifepos,
        422,
        lambda b: b["code"] == "RequestIsNotValid" and "common" in b["info"],
    ),
    "assure": (_assure, 400, lambda b: "common" in json.dumps(b["errors"])),
    "kendox": (_kendox, 400, lambda b: b["errorCode"] == 10169 and "common" in b["message"]),
    "horizon": (_horizon, 400, lambda b: b["error"] == "LOCAL-ID-010" and "common" in b["detail"]),
    "zitadel": (_zitadel, 400, lambda b: b["message"].endswith("(DOMAIN-Blk01)")),
}


@pytest.mark.parametrize("dialect", list(EXPECTED))
def test_the_same_password_is_refused_by_the_same_rule_in_every_dialect(client, dialect):
    call, status, names_rule = EXPECTED[dialect]
    account = new_account(client)
    reply = call(client, account)
    assert reply.status_code == status, reply.text
    assert names_rule(reply.json()), reply.text


ENDPOINTS = {
    "native": ("POST", "/v1/sessions"),
    "lifepos": ("POST", "/orgs/00000000-0000-4000-8000-000000000000/me/set-credentials"),
    "assure": ("POST", "/api/core/ChangePassword/executeChangePassword"),
    "kendox": ("POST", "/InfoShare/Json/Authentication/SetPasswordWithToken"),
    "horizon": ("POST", "/api/v1/security/identity/local/password"),
    "zitadel": ("POST", "/v2/users/00000000-0000-4000-8000-000000000000/password"),
    "connect": ("POST", "/zitadel.user.v2.UserService/SetPassword"),
}
BAD_BODIES = {
    "bad-json": b"{not json",
    "array": b"[1, 2, 3]",
    "wrong-types": json.dumps({"newPassword": 5, "password": [], "token": {}}).encode(),
    "empty": b"",
    "huge": b'{"x": "' + b"a" * 200_000 + b'"}',
    "not-utf8": b'{"x": "\xff\xfe"}',
}


def _not_framework(reply) -> None:
    assert reply.status_code < 500, reply.text[:300]
    body = reply.json()
    assert set(body) != {"detail"}, f"framework default body: {body}"


@pytest.mark.parametrize("bad", list(BAD_BODIES))
@pytest.mark.parametrize("dialect", list(ENDPOINTS))
def test_malformed_bodies_get_the_dialects_error_never_a_framework_body(client, dialect, bad):
    method, path = ENDPOINTS[dialect]
    headers = {"content-type": "application/json", **bearer("whatever")}
    _not_framework(client.request(method, path, content=BAD_BODIES[bad], headers=headers))


@pytest.mark.parametrize("dialect", list(ENDPOINTS))
def test_wrong_methods_and_unknown_routes_stay_in_the_dialect(client, dialect):
    method, path = ENDPOINTS[dialect]
    for verb in ("GET", "PUT", "PATCH", "DELETE"):
        reply = client.request(verb, path)
        if reply.status_code != 200:  # GET /v2/users/{id} is a real route elsewhere
            _not_framework(reply)
    _not_framework(client.post(path.rsplit("/", 1)[0] + "/no-such-thing", json={}))


UNEXPECTED = {
    "lifepos": (_lifepos, lambda b: b["code"] == "InternalServerError"),
    "assure": (_assure, lambda b: b["success"] is False and b["message"] == "Unexpected error"),
    "kendox": (_kendox, lambda b: b["errorCode"] == 10085),
    "horizon": (_horizon, lambda b: b["error"] == "LOCAL-ID-001"),
    "zitadel": (_zitadel, lambda b: b["code"] == 13 and b["message"].endswith("(INTERNAL-1)")),
    "native": (_native, lambda b: b["code"] == "internal_error"),
}


@pytest.mark.parametrize("dialect", list(UNEXPECTED))
def test_an_unexpected_failure_is_a_500_in_the_dialects_shape_without_details(
    stack, client, monkeypatch, dialect
):
    call, shaped = UNEXPECTED[dialect]
    account = new_account(client)
    if dialect == "kendox":  # the token must be issued before the store "breaks"
        grant = client.post(
            f"/v1/users/{account['user_id']}/password-reset", json={}, headers=account["admin"]
        ).json()
        body = {"tenantName": account["alias"], "newPassword": "x" * 12, "token": grant["token"]}

        def call(c, a):  # noqa: F811 - the kendox call, with the token issued above
            return c.post("/InfoShare/Json/Authentication/SetPasswordWithToken", json=body)

    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(stack.service, "live_user", explode)
    reply = call(client, account)
    assert reply.status_code == 500, reply.text
    assert shaped(reply.json()), reply.text
    assert "secret internal detail" not in reply.text
