"""Login, own change, admin set, reset by code and by token, session revocation, rehash."""

from __future__ import annotations

from uuid import UUID

from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import RateLimiter
from tests.api_helpers import GOOD_PASSWORD, admin_headers, bearer, login, new_org, new_user

NEW = "fresh-Orchid-77-meadow"
NEWER = "quiet-Harbor-15-lantern"


def _user(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    return headers, user_id, f"{username}@{alias}"


def _password(client, user_id, body, headers=None):
    return client.post(f"/v1/users/{user_id}/password", json=body, headers=headers or {})


def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    _, _, name = _user(client)
    wrong = client.post("/v1/sessions", json={"loginName": name, "password": "nope-nope-1"})
    unknown = client.post("/v1/sessions", json={"loginName": "ghost@nowhere", "password": "x1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["content-type"] == "application/problem+json"


def test_own_change_needs_the_right_current_password(client):
    _, user_id, name = _user(client)
    token = login(client, name, GOOD_PASSWORD)["token"]
    missing = _password(client, user_id, {"newPassword": NEW}, bearer(token))
    assert (missing.status_code, missing.json()["code"]) == (400, "current_password_required")
    wrong = _password(
        client, user_id, {"newPassword": NEW, "currentPassword": "x" * 10}, bearer(token)
    )
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_current_password")
    right = _password(
        client, user_id, {"newPassword": NEW, "currentPassword": GOOD_PASSWORD}, bearer(token)
    )
    assert right.status_code == 200
    assert (
        client.post("/v1/sessions", json={"loginName": name, "password": GOOD_PASSWORD}).status_code
        == 401
    )
    login(client, name, NEW)


def test_change_keeps_the_changing_session_and_revokes_the_others(client):
    _, user_id, name = _user(client)
    a = login(client, name, GOOD_PASSWORD)["token"]
    b = login(client, name, GOOD_PASSWORD)["token"]
    _password(client, user_id, {"newPassword": NEW, "currentPassword": GOOD_PASSWORD}, bearer(a))
    assert client.get(f"/v1/users/{user_id}", headers=bearer(a)).status_code == 200
    revoked = client.get(f"/v1/users/{user_id}", headers=bearer(b))
    assert (revoked.status_code, revoked.json()["code"]) == (401, "session_invalid")


def test_admin_set_needs_no_current_password_and_ends_every_session(client):
    headers, user_id, name = _user(client)
    token = login(client, name, GOOD_PASSWORD)["token"]
    reply = _password(client, user_id, {"newPassword": NEW, "changeRequired": True}, headers)
    assert reply.status_code == 200
    assert client.get(f"/v1/users/{user_id}", headers=bearer(token)).status_code == 401
    assert login(client, name, NEW)["changeRequired"] is True


def test_reset_code_works_once_and_expires(stack, client):
    headers, user_id, name = _user(client)
    grant = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    ).json()
    assert len(grant["code"]) == 6 and grant["code"].isalnum() and grant["code"].isupper()
    assert (
        _password(
            client, user_id, {"newPassword": NEW, "verificationCode": grant["code"]}
        ).status_code
        == 200
    )
    again = _password(client, user_id, {"newPassword": NEWER, "verificationCode": grant["code"]})
    assert again.json()["code"] == "reset_not_pending"
    login(client, name, NEW)

    later = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    ).json()
    stack.clock.advance(minutes=61)
    expired = _password(client, user_id, {"newPassword": NEWER, "verificationCode": later["code"]})
    assert expired.json()["code"] == "reset_code_expired"


def test_new_reset_replaces_the_old_code_and_token(client):
    headers, user_id, _ = _user(client)
    first = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    ).json()
    second = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    ).json()
    old_code = _password(client, user_id, {"newPassword": NEW, "verificationCode": first["code"]})
    assert old_code.json()["code"] in {"reset_code_invalid", "reset_not_pending"}
    old_token = _password(client, user_id, {"newPassword": NEW, "resetToken": first["token"]})
    assert old_token.json()["code"] == "reset_token_invalid"
    assert (
        _password(client, user_id, {"newPassword": NEW, "resetToken": second["token"]}).status_code
        == 200
    )


def test_reset_token_works_once_and_expires(stack, client):
    headers, user_id, name = _user(client)
    grant = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    ).json()
    assert (
        _password(client, user_id, {"newPassword": NEW, "resetToken": grant["token"]}).status_code
        == 200
    )
    reused = _password(client, user_id, {"newPassword": NEWER, "resetToken": grant["token"]})
    assert reused.json()["code"] == "reset_token_invalid"
    tampered = grant["token"][:-3] + ("AAA" if not grant["token"].endswith("AAA") else "BBB")
    assert (
        _password(client, user_id, {"newPassword": NEWER, "resetToken": tampered}).json()["code"]
        == "reset_token_invalid"
    )
    later = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    ).json()
    stack.clock.advance(minutes=16)
    expired = _password(client, user_id, {"newPassword": NEWER, "resetToken": later["token"]})
    assert expired.json()["code"] == "reset_token_expired"
    login(client, name, NEW)


def test_successful_login_upgrades_a_hash_made_with_old_parameters(stack, client):
    _, user_id, name = _user(client)
    old_hash = stack.service.store.repository.get(UUID(user_id)).password_hash
    assert ",t=1," in old_hash
    stronger = stack.another_service(argon2_time_cost=2)
    with TestClient(create_app(stronger, stack.runtime.reads, RateLimiter(0))) as upgraded:
        login(upgraded, name, GOOD_PASSWORD)
    new_hash = stack.service.store.repository.get(UUID(user_id)).password_hash
    assert ",t=2," in new_hash and new_hash != old_hash
    topics = [e.topic for e in stack.service.store.recorder.select_events(UUID(user_id))]
    assert topics[-1].endswith("User.HashUpgraded")
    session = login(client, name, GOOD_PASSWORD)
    history = client.get(f"/v1/users/{user_id}/history", headers=bearer(session["token"])).json()
    upgraded = [e for e in history["events"] if e["type"] == "user.password.hash.upgraded"]
    # Two upgrades: this test's first service (t=1) also finds the t=2 hash outdated.
    assert {(e["actor"], e["method"], e["dialect"]) for e in upgraded} == {
        (user_id, "self", "native")
    }
    stronger.store.close()


def test_five_wrong_codes_burn_the_reset_and_unknown_users_look_the_same(client):
    headers, user_id, _ = _user(client)
    grant = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    ).json()
    wrong = "ZZZZZ9" if grant["code"] != "ZZZZZ9" else "ZZZZZ8"
    codes = [
        _password(client, user_id, {"newPassword": NEW, "verificationCode": wrong}).json()["code"]
        for _ in range(5)
    ]
    assert codes == ["reset_code_invalid"] * 5
    burned = _password(client, user_id, {"newPassword": NEW, "verificationCode": grant["code"]})
    assert burned.json()["code"] == "reset_not_pending"
    ghost = _password(
        client,
        "00000000-0000-4000-8000-000000000000",
        {"newPassword": NEW, "verificationCode": wrong},
    )
    assert (ghost.status_code, ghost.json()) == (burned.status_code, burned.json())


def test_password_paths_are_rate_limited_per_account_with_retry_after(stack):
    with stack.client(rate_limit=3) as limited:
        body = {"loginName": "nobody@nowhere", "password": "whatever-123"}
        statuses = [limited.post("/v1/sessions", json=body).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        refused = limited.post("/v1/sessions", json=body)
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_logout_ends_the_session(client):
    _, user_id, name = _user(client)
    token = login(client, name, GOOD_PASSWORD)["token"]
    assert client.delete("/v1/sessions/current", headers=bearer(token)).status_code == 204
    after = client.get(f"/v1/users/{user_id}", headers=bearer(token))
    assert (after.status_code, after.json()["code"]) == (401, "session_invalid")


def test_sessions_expire_after_the_configured_minutes(stack, client):
    _, user_id, name = _user(client)
    session = login(client, name, GOOD_PASSWORD)
    assert session["expiresAt"].endswith("Z")
    stack.clock.advance(minutes=719)
    assert client.get(f"/v1/users/{user_id}", headers=bearer(session["token"])).status_code == 200
    stack.clock.advance(minutes=2)
    expired = client.get(f"/v1/users/{user_id}", headers=bearer(session["token"]))
    assert (expired.status_code, expired.json()["code"]) == (401, "session_invalid")


def test_metrics_count_requests_by_route_template(client):
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'credledger_http_requests_total{method="GET",route="/healthz",status="200"}' in text
