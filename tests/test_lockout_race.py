"""Lockout at exactly maxFailedAttempts, even under 20 concurrent wrong attempts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from tests.api_helpers import GOOD_PASSWORD, admin_headers, bearer, login, new_org, new_user


def _topics(stack, user_id: str) -> list[str]:
    events = stack.service.store.recorder.select_events(UUID(user_id))
    return [e.topic.rsplit(".", 1)[-1] for e in events]


def test_twenty_concurrent_wrong_logins_record_exactly_max_failures_and_one_lock(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, {"maxFailedAttempts": 5, "lockoutMinutes": 15})
    user_id, username = new_user(client, headers, org_id)
    barrier = threading.Barrier(20)

    def wrong_login(_: int) -> int:
        barrier.wait()
        body = {"loginName": f"{username}@{alias}", "password": "not-the-password-1"}
        return client.post("/v1/sessions", json=body).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(wrong_login, range(20)))

    assert statuses.count(401) == 5
    assert statuses.count(423) == 15
    topics = _topics(stack, user_id)
    assert topics.count("PasswordCheckFailed") == 5
    assert topics.count("Locked") == 1
    # The lock is recorded right after (in the same save as) the fifth failure.
    assert topics[topics.index("Locked") - 1] == "PasswordCheckFailed"
    me = client.get(f"/v1/users/{user_id}", headers=headers).json()
    assert (me["state"], me["failedAttempts"]) == ("locked", 5)


def test_locked_user_is_refused_without_verifying_or_recording(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, {"maxFailedAttempts": 2})
    user_id, username = new_user(client, headers, org_id)
    for _ in range(2):
        client.post("/v1/sessions", json={"loginName": f"{username}@{alias}", "password": "x" * 9})
    before = _topics(stack, user_id)
    right = client.post(
        "/v1/sessions", json={"loginName": f"{username}@{alias}", "password": GOOD_PASSWORD}
    )
    assert right.status_code == 423
    assert right.json()["code"] == "account_locked"
    assert _topics(stack, user_id) == before


def test_timed_lock_ends_by_itself_and_admin_unlock_ends_a_permanent_one(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, {"maxFailedAttempts": 1, "lockoutMinutes": 15})
    timed_id, timed = new_user(client, headers, org_id)
    client.post("/v1/sessions", json={"loginName": f"{timed}@{alias}", "password": "wrong-pw-1"})
    stack.clock.advance(minutes=16)
    login(client, f"{timed}@{alias}", GOOD_PASSWORD)
    assert "Unlocked" not in _topics(stack, timed_id)

    permanent_org, permanent_alias = new_org(
        client, headers, {"maxFailedAttempts": 1, "lockoutMinutes": 0}
    )
    user_id, username = new_user(client, headers, permanent_org)
    name = f"{username}@{permanent_alias}"
    client.post("/v1/sessions", json={"loginName": name, "password": "wrong-pw-1"})
    stack.clock.advance(days=1)
    assert (
        client.post("/v1/sessions", json={"loginName": name, "password": GOOD_PASSWORD}).status_code
        == 423
    )
    headers = admin_headers(client)  # the earlier admin session expired with the day
    unlocked = client.post(f"/v1/users/{user_id}/unlock", headers=headers)
    assert unlocked.status_code == 200
    assert unlocked.json()["details"]["sequence"] == str(len(_topics(stack, user_id)))
    session = login(client, name, GOOD_PASSWORD)
    me = client.get(f"/v1/users/{user_id}", headers=bearer(session["token"])).json()
    assert (me["state"], me["failedAttempts"]) == ("active", 0)


def test_wrong_current_passwords_count_toward_the_lock(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, {"maxFailedAttempts": 2})
    user_id, username = new_user(client, headers, org_id)
    token = login(client, f"{username}@{alias}", GOOD_PASSWORD)["token"]
    body = {"currentPassword": "wrong-current-1", "newPassword": "fresh-Orchid-77-meadow"}
    codes = [
        client.post(f"/v1/users/{user_id}/password", json=body, headers=bearer(token)).json()[
            "code"
        ]
        for _ in range(3)
    ]
    assert codes == ["invalid_current_password", "invalid_current_password", "account_locked"]
