"""Own password change and admin set through `POST /v1/users/{userId}/password`
(CONTRACTS §1.1, §1.2, §2): the current-password rules, failed checks and locks, details,
session revocation, and the rehash of outdated argon2 parameters on login."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tests.api_helpers import (
    GOOD_PASSWORD,
    PROBLEM_JSON,
    RFC3339_Z,
    bearer,
    login,
    new_user,
)
from tests.api_helpers import new_org_user as _account

NEW = "fresh-Orchid-77-meadow"
NEWER = "quiet-Harbor-15-lantern"
WRONG = "wrong-Current-31-pebble"
LOCK_AFTER_3 = {"maxFailedAttempts": 3, "lockoutMinutes": 0}


def _password(client: Any, user_id: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"/v1/users/{user_id}/password", json=body, headers=headers)


def _change(client: Any, account: dict[str, Any], token: str, new: str, current: str) -> Any:
    body = {"newPassword": new, "currentPassword": current}
    return _password(client, account["user_id"], body, bearer(token))


def _attempt(client: Any, login_name: str, password: str) -> Any:
    return client.post("/v1/sessions", json={"loginName": login_name, "password": password})


def _read(client: Any, account: dict[str, Any]) -> dict[str, Any]:
    reply = client.get(f"/v1/users/{account['user_id']}", headers=account["admin"])
    assert reply.status_code == 200, reply.text
    return reply.json()


def _can_read(client: Any, account: dict[str, Any], token: str) -> int:
    return client.get(f"/v1/users/{account['user_id']}", headers=bearer(token)).status_code


def _problem(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith(PROBLEM_JSON)
    body = reply.json()
    assert body["code"] == code, body
    return body


def _history_types(client: Any, account: dict[str, Any]) -> list[tuple[str, str | None]]:
    reply = client.get(f"/v1/users/{account['user_id']}/history", headers=account["admin"])
    assert reply.status_code == 200, reply.text
    return [(e["type"], e["method"]) for e in reply.json()["events"]]


def _lock_by_wrong_logins(client: Any, account: dict[str, Any], count: int = 3) -> None:
    for _ in range(count):
        _problem(_attempt(client, account["login_name"], WRONG), 401, "invalid_credentials")
    _problem(_attempt(client, account["login_name"], GOOD_PASSWORD), 423, "account_locked")


# --- own change: the current password ---


def test_own_change_without_current_password_is_current_password_required(client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    reply = _password(client, account["user_id"], {"newPassword": NEW}, bearer(token))
    _problem(reply, 400, "current_password_required")
    login(client, account["login_name"], GOOD_PASSWORD)
    assert _attempt(client, account["login_name"], NEW).status_code == 401


def test_own_change_with_wrong_current_password_is_refused_and_counts_one_failure(client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    _problem(_change(client, account, token, NEW, WRONG), 400, "invalid_current_password")
    user = _read(client, account)
    assert user["failedAttempts"] == 1
    assert user["state"] == "active"
    assert ("user.password.check.failed", "self") in _history_types(client, account)
    # nothing changed, and the session that tried is still good
    assert _can_read(client, account, token) == 200
    login(client, account["login_name"], GOOD_PASSWORD)
    assert _read(client, account)["failedAttempts"] == 0


def test_own_change_with_right_current_password_replaces_the_login_password(client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    reply = _change(client, account, token, NEW, GOOD_PASSWORD)
    assert reply.status_code == 200, reply.text
    assert set(reply.json()) == {"details"}
    assert _history_types(client, account)[-2:] == [
        ("user.password.changed", "self"),
        ("user.sessions.revoked", "self"),
    ]
    _problem(_attempt(client, account["login_name"], GOOD_PASSWORD), 401, "invalid_credentials")
    login(client, account["login_name"], NEW)


def test_change_details_sequence_increments_and_equals_the_users_version(stack, client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    before = _read(client, account)["details"]
    reply = _change(client, account, token, NEW, GOOD_PASSWORD)
    assert reply.status_code == 200, reply.text
    details = reply.json()["details"]
    assert isinstance(details["sequence"], str) and details["sequence"].isdigit()
    assert int(details["sequence"]) > int(before["sequence"])
    version = stack.service.store.repository.get(UUID(account["user_id"])).version
    assert details["sequence"] == str(version)
    assert details["resourceOwner"] == account["org_id"]
    assert RFC3339_Z.match(details["changeDate"])
    # a read right after the write reports the same last event
    assert _read(client, account)["details"] == details

    second = _change(client, account, token, NEWER, NEW)
    assert second.status_code == 200, second.text
    assert int(second.json()["details"]["sequence"]) > int(details["sequence"])
    version = stack.service.store.repository.get(UUID(account["user_id"])).version
    assert second.json()["details"]["sequence"] == str(version)


def test_own_change_that_breaks_the_policy_is_password_policy_and_changes_nothing(client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    short = _problem(
        _change(client, account, token, "Ab1-x", GOOD_PASSWORD), 400, "password_policy"
    )
    assert short["violations"] == ["too_short"]
    same = _change(client, account, token, GOOD_PASSWORD, GOOD_PASSWORD)
    assert _problem(same, 400, "password_policy")["violations"] == ["same_as_current"]
    login(client, account["login_name"], GOOD_PASSWORD)
    assert _read(client, account)["failedAttempts"] == 0


def test_wrong_current_passwords_lock_the_account_and_then_even_the_right_one_is_423(client):
    account = _account(client, policy=LOCK_AFTER_3)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    for _ in range(3):
        _problem(_change(client, account, token, NEW, WRONG), 400, "invalid_current_password")
    assert _read(client, account)["state"] == "locked"
    _problem(_change(client, account, token, NEW, GOOD_PASSWORD), 423, "account_locked")
    # locking does not revoke the session, and no further failure was recorded
    assert _can_read(client, account, token) == 200
    assert _read(client, account)["failedAttempts"] == 3
    _problem(_attempt(client, account["login_name"], NEW), 423, "account_locked")


def test_change_required_given_on_own_change_is_reported_at_the_next_login(client):
    account = _account(client)
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    body = {"newPassword": NEW, "currentPassword": GOOD_PASSWORD, "changeRequired": True}
    assert _password(client, account["user_id"], body, bearer(token)).status_code == 200
    assert login(client, account["login_name"], NEW)["changeRequired"] is True


def test_own_change_without_a_session_is_authentication_required(client):
    account = _account(client)
    body = {"newPassword": NEW, "currentPassword": GOOD_PASSWORD}
    reply = client.post(f"/v1/users/{account['user_id']}/password", json=body)
    _problem(reply, 401, "authentication_required")
    login(client, account["login_name"], GOOD_PASSWORD)


def test_org_admin_changing_their_own_password_must_give_the_current_one(client):
    account = _account(client, roles=["admin"])
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    reply = _password(client, account["user_id"], {"newPassword": NEW}, bearer(token))
    _problem(reply, 400, "current_password_required")
    reply = _change(client, account, token, NEW, WRONG)
    _problem(reply, 400, "invalid_current_password")
    login(client, account["login_name"], GOOD_PASSWORD)


# --- admin set ---


def test_admin_sets_a_password_without_the_current_one_and_can_require_a_change(client):
    account = _account(client)
    body = {"newPassword": NEW, "changeRequired": True}
    reply = _password(client, account["user_id"], body, account["admin"])
    assert reply.status_code == 200, reply.text
    assert reply.json()["details"]["resourceOwner"] == account["org_id"]
    _problem(_attempt(client, account["login_name"], GOOD_PASSWORD), 401, "invalid_credentials")
    session = login(client, account["login_name"], NEW)
    assert session["changeRequired"] is True
    assert _read(client, account)["changeRequired"] is True
    assert ("user.password.set", "admin") in _history_types(client, account)


def test_org_admin_sets_the_password_of_a_user_in_their_own_org(client):
    account = _account(client)
    org_admin_id, org_admin_name = new_user(
        client, account["admin"], account["org_id"], roles=["admin"]
    )
    alias = account["login_name"].split("@")[1]
    org_admin = bearer(login(client, f"{org_admin_name}@{alias}", GOOD_PASSWORD)["token"])
    reply = _password(client, account["user_id"], {"newPassword": NEW}, org_admin)
    assert reply.status_code == 200, reply.text
    login(client, account["login_name"], NEW)
    history = client.get(f"/v1/users/{account['user_id']}/history", headers=org_admin).json()
    assert [e["actor"] for e in history["events"] if e["type"] == "user.password.set"][-1] == (
        org_admin_id
    )


def test_plain_user_setting_another_users_password_is_forbidden(client):
    account = _account(client)
    _, other_name = new_user(client, account["admin"], account["org_id"])
    alias = account["login_name"].split("@")[1]
    other = bearer(login(client, f"{other_name}@{alias}", GOOD_PASSWORD)["token"])
    reply = _password(client, account["user_id"], {"newPassword": NEW}, other)
    _problem(reply, 403, "forbidden")
    login(client, account["login_name"], GOOD_PASSWORD)


def test_org_admin_setting_a_password_in_another_org_is_not_found(client):
    account = _account(client)
    stranger = _account(client, roles=["admin"])
    token = login(client, stranger["login_name"], GOOD_PASSWORD)["token"]
    reply = _password(client, account["user_id"], {"newPassword": NEW}, bearer(token))
    _problem(reply, 404, "not_found")
    login(client, account["login_name"], GOOD_PASSWORD)


def test_admin_set_without_change_required_clears_it(client):
    account = _account(client, changeRequired=True)
    reply = _password(client, account["user_id"], {"newPassword": NEW}, account["admin"])
    assert reply.status_code == 200, reply.text
    assert login(client, account["login_name"], NEW)["changeRequired"] is False


def test_admin_set_breaking_the_policy_is_password_policy(client):
    account = _account(client, policy={"requireSymbol": True})
    reply = _password(
        client, account["user_id"], {"newPassword": "plainletters1"}, account["admin"]
    )
    assert _problem(reply, 400, "password_policy")["violations"] == ["missing_symbol"]
    login(client, account["login_name"], GOOD_PASSWORD)


def test_admin_set_unlocks_a_locked_user(client):
    account = _account(client, policy=LOCK_AFTER_3)
    _lock_by_wrong_logins(client, account)
    locked = _read(client, account)
    assert (locked["state"], locked["failedAttempts"]) == ("locked", 3)
    reply = _password(client, account["user_id"], {"newPassword": NEW}, account["admin"])
    assert reply.status_code == 200, reply.text
    user = _read(client, account)
    assert (user["state"], user["failedAttempts"], user["lockedUntil"]) == ("active", 0, None)
    login(client, account["login_name"], NEW)
    assert ("user.unlocked", "admin") in _history_types(client, account)


# --- session revocation ---


def test_own_change_keeps_the_changing_session_and_revokes_the_others(client):
    account = _account(client)
    a = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    b = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    assert _change(client, account, a, NEW, GOOD_PASSWORD).status_code == 200
    assert _can_read(client, account, a) == 200
    revoked = client.get(f"/v1/users/{account['user_id']}", headers=bearer(b))
    _problem(revoked, 401, "session_invalid")
    # a session started after the change is good, and the next change (from it) ends A
    c = login(client, account["login_name"], NEW)["token"]
    assert _change(client, account, c, NEWER, NEW).status_code == 200
    assert _can_read(client, account, c) == 200
    assert _can_read(client, account, a) == 401


def test_admin_set_revokes_every_session_of_the_user(client):
    account = _account(client)
    a = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    b = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    reply = _password(client, account["user_id"], {"newPassword": NEW}, account["admin"])
    assert reply.status_code == 200, reply.text
    for token in (a, b):
        revoked = client.get(f"/v1/users/{account['user_id']}", headers=bearer(token))
        _problem(revoked, 401, "session_invalid")
    # the admin's own session is untouched
    assert _read(client, account)["userId"] == account["user_id"]


def test_sessions_survive_a_change_when_the_policy_does_not_revoke(client):
    account = _account(client, policy={"revokeSessionsOnChange": False})
    a = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    b = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    assert _change(client, account, a, NEW, GOOD_PASSWORD).status_code == 200
    assert _can_read(client, account, a) == 200
    assert _can_read(client, account, b) == 200
    reply = _password(client, account["user_id"], {"newPassword": NEWER}, account["admin"])
    assert reply.status_code == 200, reply.text
    assert _can_read(client, account, a) == 200
    assert _can_read(client, account, b) == 200
    assert "user.sessions.revoked" not in [t for t, _ in _history_types(client, account)]


# --- rehash ---


def _hash_upgrades(stack: Any, user_id: str) -> int:
    events = stack.service.store.recorder.select_events(UUID(user_id))
    return sum(1 for e in events if e.topic.endswith("User.HashUpgraded"))


def test_login_after_an_argon2_parameter_change_rehashes_and_records_it(stack, client):
    account = _account(client)
    user_id = UUID(account["user_id"])
    old_hash = stack.service.store.repository.get(user_id).password_hash
    assert old_hash.startswith("$argon2id$") and ",t=1," in old_hash
    assert _hash_upgrades(stack, account["user_id"]) == 0

    stronger = stack.another_service(argon2_time_cost=2)
    try:
        with stack.client(service=stronger) as upgraded:
            login(upgraded, account["login_name"], GOOD_PASSWORD)
            new_hash = stack.service.store.repository.get(user_id).password_hash
            assert new_hash.startswith("$argon2id$") and ",t=2," in new_hash
            assert new_hash != old_hash
            assert _hash_upgrades(stack, account["user_id"]) == 1
            # a hash already on the current parameters is not upgraded again
            login(upgraded, account["login_name"], GOOD_PASSWORD)
            assert _hash_upgrades(stack, account["user_id"]) == 1
    finally:
        stronger.store.close()

    assert "user.password.hash.upgraded" in [t for t, _ in _history_types(client, account)]
    # the same password still logs in, and the upgrade was no password change
    session = login(client, account["login_name"], GOOD_PASSWORD)
    assert session["changeRequired"] is False
    _problem(
        _change(client, account, session["token"], GOOD_PASSWORD, GOOD_PASSWORD),
        400,
        "password_policy",
    )
