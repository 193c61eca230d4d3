"""Lockout (CONTRACTS §1.1 maxFailedAttempts/lockoutMinutes, §1.2): counted exactly, even
under concurrent failures; the Nth failure and the lock land in one save; a locked account is
refused without verifying or recording; timed locks end by themselves, permanent ones by an
admin unlock; a success resets the count; 0 never locks."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from tests.api_helpers import GOOD_PASSWORD, admin_headers, bearer, login, new_org, new_user

WRONG = "Not-the-password-4471"
NEW_PASSWORD = "fresh-Orchid-77-meadow"
FIVE_THEN_15_MINUTES = {"maxFailedAttempts": 5, "lockoutMinutes": 15}


def _account(client, policy: dict[str, Any]) -> tuple[dict[str, str], str, str]:
    """An org with `policy` and one user; returns (admin headers, userId, loginName)."""
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, policy)
    user_id, username = new_user(client, headers, org_id)
    return headers, user_id, f"{username}@{alias}"


def _attempt(client, login_name: str, password: str):
    return client.post("/v1/sessions", json={"loginName": login_name, "password": password})


def _events(stack, user_id: str) -> list[tuple[int, str]]:
    """(version, event class name) of every stored event of the user, oldest first."""
    stored = stack.service.store.recorder.select_events(UUID(user_id))
    return [(e.originator_version, e.topic.rsplit(".", 1)[-1]) for e in stored]


def _names(stack, user_id: str) -> list[str]:
    return [name for _, name in _events(stack, user_id)]


def _fail(client, login_name: str, times: int) -> list[tuple[int, str]]:
    replies = [_attempt(client, login_name, WRONG) for _ in range(times)]
    return [(r.status_code, r.json()["code"]) for r in replies]


def _user(client, headers: dict[str, str], user_id: str) -> dict[str, Any]:
    reply = client.get(f"/v1/users/{user_id}", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_twenty_concurrent_wrong_logins_answer_exactly_five_401_and_fifteen_423(stack, client):
    headers, user_id, login_name = _account(client, FIVE_THEN_15_MINUTES)
    barrier = threading.Barrier(20)

    def wrong_login(_: int) -> tuple[int, str]:
        barrier.wait(timeout=30)
        reply = _attempt(client, login_name, WRONG)
        return reply.status_code, reply.json()["code"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = Counter(pool.map(wrong_login, range(20)))

    assert answers == {(401, "invalid_credentials"): 5, (423, "account_locked"): 15}
    events = _events(stack, user_id)
    names = [name for _, name in events]
    assert names.count("PasswordCheckFailed") == 5
    assert names.count("Locked") == 1
    # The lock directly follows the fifth failure: nothing slipped in between.
    failure_versions = [v for v, name in events if name == "PasswordCheckFailed"]
    lock_version = next(v for v, name in events if name == "Locked")
    assert lock_version == max(failure_versions) + 1
    me = _user(client, headers, user_id)
    assert (me["state"], me["failedAttempts"]) == ("locked", 5)
    assert me["lockedUntil"] is not None


def test_fifth_failure_and_the_lock_are_written_in_one_save(stack, client, monkeypatch):
    _, user_id, login_name = _account(client, FIVE_THEN_15_MINUTES)
    recorder = stack.service.store.recorder
    original_insert = recorder.insert_events
    saves: list[list[str]] = []

    def recording_insert(stored_events, **kwargs):
        mine = [e for e in stored_events if e.originator_id == UUID(user_id)]
        if mine:
            saves.append([e.topic.rsplit(".", 1)[-1] for e in mine])
        return original_insert(stored_events, **kwargs)

    monkeypatch.setattr(recorder, "insert_events", recording_insert)
    answers = _fail(client, login_name, 5)

    assert answers == [(401, "invalid_credentials")] * 5  # the locking attempt still says 401
    assert saves == [["PasswordCheckFailed"]] * 4 + [["PasswordCheckFailed", "Locked"]]


def test_locked_user_is_refused_423_without_verifying_or_recording(stack, client, monkeypatch):
    _, user_id, login_name = _account(client, FIVE_THEN_15_MINUTES)
    _fail(client, login_name, 5)
    before = _events(stack, user_id)
    hasher = stack.service.hasher
    original_verify = hasher.verify
    verifications: list[str] = []

    def counting_verify(encoded: str, password: str) -> bool:
        verifications.append(password)
        return original_verify(encoded, password)

    monkeypatch.setattr(hasher, "verify", counting_verify)
    right = _attempt(client, login_name, GOOD_PASSWORD)
    wrong = _attempt(client, login_name, WRONG)

    assert right.status_code == 423
    assert right.json()["code"] == "account_locked"
    assert right.json()["lockedUntil"] is not None
    assert (wrong.status_code, wrong.json()["code"]) == (423, "account_locked")
    assert verifications == []
    assert _events(stack, user_id) == before  # no new PasswordCheckFailed, no second lock


def test_timed_lock_ends_by_itself_without_an_unlocked_event(stack, client):
    headers, user_id, login_name = _account(client, FIVE_THEN_15_MINUTES)
    _fail(client, login_name, 5)
    stack.clock.advance(minutes=14)
    assert _attempt(client, login_name, GOOD_PASSWORD).status_code == 423  # still in force

    stack.clock.advance(minutes=2)  # lockoutMinutes + 1 after the lock
    assert _user(client, headers, user_id)["state"] == "active"  # reported against the clock
    session = login(client, login_name, GOOD_PASSWORD)

    assert session["userId"] == user_id
    names = _names(stack, user_id)
    assert "Unlocked" not in names
    assert names.count("Locked") == 1
    me = _user(client, headers, user_id)
    assert (me["state"], me["failedAttempts"]) == ("active", 0)


def test_lockout_minutes_zero_locks_until_an_admin_unlocks(stack, client):
    headers, user_id, login_name = _account(client, {"maxFailedAttempts": 5, "lockoutMinutes": 0})
    org_id = _user(client, headers, user_id)["orgId"]
    _fail(client, login_name, 5)
    stack.clock.advance(days=1)

    refused = _attempt(client, login_name, GOOD_PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (423, "account_locked")
    headers = admin_headers(client)  # the earlier admin session ended with the day
    locked = _user(client, headers, user_id)
    assert (locked["state"], locked["lockedUntil"]) == ("locked", None)

    unlocked = client.post(f"/v1/users/{user_id}/unlock", headers=headers)
    assert unlocked.status_code == 200, unlocked.text
    details = unlocked.json()["details"]
    assert details["sequence"] == str(len(_events(stack, user_id)))
    assert details["resourceOwner"] == org_id
    assert details["changeDate"].endswith("Z")
    assert _names(stack, user_id)[-1] == "Unlocked"
    login(client, login_name, GOOD_PASSWORD)
    me = _user(client, headers, user_id)
    assert (me["state"], me["failedAttempts"]) == ("active", 0)


def test_wrong_current_passwords_on_self_service_change_count_toward_the_lock(stack, client):
    headers, user_id, login_name = _account(client, FIVE_THEN_15_MINUTES)
    own = bearer(login(client, login_name, GOOD_PASSWORD)["token"])
    path = f"/v1/users/{user_id}/password"
    wrong_body = {"currentPassword": WRONG, "newPassword": NEW_PASSWORD}

    answers = [client.post(path, json=wrong_body, headers=own) for _ in range(5)]
    assert [(r.status_code, r.json()["code"]) for r in answers] == [
        (400, "invalid_current_password")
    ] * 5
    right_body = {"currentPassword": GOOD_PASSWORD, "newPassword": NEW_PASSWORD}
    change = client.post(path, json=right_body, headers=own)
    assert (change.status_code, change.json()["code"]) == (423, "account_locked")
    assert _attempt(client, login_name, GOOD_PASSWORD).status_code == 423

    names = _names(stack, user_id)
    assert names.count("PasswordCheckFailed") == 5
    assert names.count("Locked") == 1
    assert "PasswordChanged" not in names
    # Locking does not end the user's existing session.
    me = _user(client, own, user_id)
    assert (me["state"], me["failedAttempts"]) == ("locked", 5)


def test_max_failed_attempts_zero_never_locks(stack, client):
    headers, user_id, login_name = _account(client, {"maxFailedAttempts": 0, "lockoutMinutes": 15})

    assert _fail(client, login_name, 15) == [(401, "invalid_credentials")] * 15
    names = _names(stack, user_id)
    assert names.count("PasswordCheckFailed") == 15
    assert "Locked" not in names
    me = _user(client, headers, user_id)
    assert (me["state"], me["failedAttempts"]) == ("active", 15)
    login(client, login_name, GOOD_PASSWORD)


def test_successful_login_resets_the_failure_count(stack, client):
    headers, user_id, login_name = _account(client, FIVE_THEN_15_MINUTES)
    _fail(client, login_name, 4)
    login(client, login_name, GOOD_PASSWORD)
    assert _user(client, headers, user_id)["failedAttempts"] == 0

    assert _fail(client, login_name, 4) == [(401, "invalid_credentials")] * 4  # 8 in all
    me = _user(client, headers, user_id)
    assert (me["state"], me["failedAttempts"]) == ("active", 4)
    assert "Locked" not in _names(stack, user_id)
    # Counting restarted at the success: the fifth failure since then locks.
    assert _fail(client, login_name, 2) == [(401, "invalid_credentials"), (423, "account_locked")]
    assert _names(stack, user_id).count("Locked") == 1
