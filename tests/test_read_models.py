"""The read side through the native API, on both stores: read-your-writes, details of the last
event, per-user history, the global feed, and who may read what (CONTRACTS §1, §2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from api.timefmt import rfc3339
from tests.api_helpers import GOOD_PASSWORD, admin_headers, bearer, login, new_org, new_user
from tests.conftest import ADMIN_PASSWORD

NEW = "fresh-Orchid-77-meadow"
NEWER = "quiet-Harbor-58-lantern"
NEWEST = "silver-Canyon-31-pebble"
WRONG = "definitely-Wrong-pw-9"
USER_KEYS = {
    "userId", "orgId", "username", "loginName", "roles", "state", "lockedUntil",
    "changeRequired", "passwordChangedAt", "failedAttempts", "details",
}  # fmt: skip
HISTORY_KEYS = {
    "position",
    "sequence",
    "type",
    "occurredAt",
    "actor",
    "method",
    "dialect",
    "client",
}
FEED_KEYS = HISTORY_KEYS | {"userId", "orgId"}


def _aggregate_details(stack, user_id: str) -> dict[str, str]:
    user = stack.service.store.repository.get(UUID(user_id))
    return {
        "sequence": str(user.version),
        "changeDate": rfc3339(user.modified_on),
        "resourceOwner": str(user.org_id),
    }


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _is_rfc3339_utc(text: str) -> bool:
    return text.endswith("Z") and datetime.fromisoformat(text).utcoffset().total_seconds() == 0


def _read(client: TestClient, user_id: str, headers: dict[str, str]) -> dict[str, Any]:
    reply = client.get(f"/v1/users/{user_id}", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _history(client: TestClient, user_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    reply = client.get(f"/v1/users/{user_id}/history", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()["events"]


def _problem(reply) -> tuple[int, str]:
    return reply.status_code, reply.json().get("code")


def _failed_login(client: TestClient, login_name: str) -> None:
    reply = client.post("/v1/sessions", json={"loginName": login_name, "password": WRONG})
    assert reply.status_code in (401, 423), reply.text


def _org_with_roles(client: TestClient, headers: dict[str, str], policy=None) -> dict[str, Any]:
    """An org with a plain user, an admin, an auditor and another plain user, all logged in."""
    org_id, alias = new_org(client, headers, policy)
    people: dict[str, Any] = {"org_id": org_id, "alias": alias}
    for role, roles in (("user", []), ("admin", ["admin"]), ("auditor", ["auditor"]), ("peer", [])):
        user_id, username = new_user(client, headers, org_id, roles=roles)
        token = login(client, f"{username}@{alias}", GOOD_PASSWORD)["token"]
        people[role] = {"id": user_id, "name": f"{username}@{alias}", "headers": bearer(token)}
    return people


# --- read-your-writes and details ---


def test_every_kind_of_write_is_visible_in_the_next_read_with_the_writes_details(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, {"maxFailedAttempts": 2, "lockoutMinutes": 0})
    reply = client.post(
        f"/v1/orgs/{org_id}/users",
        json={"username": "Reader.One", "password": GOOD_PASSWORD, "roles": ["auditor"]},
        headers=headers,
    )
    assert reply.status_code == 201, reply.text
    user_id, last = reply.json()["userId"], reply.json()["details"]
    name = f"reader.one@{alias}"
    url = f"/v1/users/{user_id}"

    def read_shows_the_last_write(details: dict[str, str] | None = None) -> dict[str, Any]:
        read = _read(client, user_id, headers)
        expected = _aggregate_details(stack, user_id)
        assert read["details"] == expected  # sequence = the aggregate's version, its event time
        if details is not None:
            assert details == expected  # ... and what the write itself answered
        return read

    read = read_shows_the_last_write(last)
    assert set(read) == USER_KEYS
    assert (read["userId"], read["orgId"], read["username"]) == (user_id, org_id, "Reader.One")
    assert (read["loginName"], read["roles"], read["state"]) == (
        f"Reader.One@{alias}", ["auditor"], "active",
    )  # fmt: skip
    assert (read["failedAttempts"], read["changeRequired"], read["lockedUntil"]) == (0, False, None)
    assert read["details"]["sequence"] == "2"  # registered + password set
    assert _is_rfc3339_utc(read["passwordChangedAt"])
    assert _is_rfc3339_utc(read["details"]["changeDate"])
    set_at = read["passwordChangedAt"]

    reply = client.post(url + "/password", json={"newPassword": NEW, "changeRequired": True},
                        headers=headers)  # fmt: skip
    read = read_shows_the_last_write(reply.json()["details"])
    assert read["changeRequired"] is True and _t(read["passwordChangedAt"]) > _t(set_at)

    token = login(client, name, NEW)["token"]
    reply = client.post(url + "/password", json={"currentPassword": NEW, "newPassword": NEWER},
                        headers=bearer(token))  # fmt: skip
    assert reply.status_code == 200, reply.text
    read = read_shows_the_last_write(reply.json()["details"])
    assert read["changeRequired"] is False

    _failed_login(client, name)
    read = read_shows_the_last_write()
    assert (read["failedAttempts"], read["state"]) == (1, "active")

    _failed_login(client, name)
    read = read_shows_the_last_write()
    assert (read["failedAttempts"], read["state"], read["lockedUntil"]) == (2, "locked", None)

    reply = client.post(url + "/unlock", headers=headers)
    read = read_shows_the_last_write(reply.json()["details"])
    assert (read["failedAttempts"], read["state"]) == (0, "active")

    _failed_login(client, name)
    assert read_shows_the_last_write()["failedAttempts"] == 1
    login(client, name, NEWER)  # a success clears the count
    assert read_shows_the_last_write()["failedAttempts"] == 0

    reply = client.post(url + "/password-reset", json={"delivery": "return"}, headers=headers)
    before_reset = read_shows_the_last_write(reply.json()["details"])
    code = reply.json()["code"]
    reply = client.post(url + "/password", json={"verificationCode": code, "newPassword": NEWEST})
    assert reply.status_code == 200, reply.text
    read = read_shows_the_last_write(reply.json()["details"])
    assert int(read["details"]["sequence"]) == int(before_reset["details"]["sequence"]) + 2
    assert _t(read["passwordChangedAt"]) > _t(before_reset["passwordChangedAt"])

    assert client.delete(url, headers=headers).status_code == 204
    assert _problem(client.get(url, headers=headers)) == (404, "not_found")


def test_a_timed_lock_ends_by_itself_and_the_read_keeps_its_end(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, {"maxFailedAttempts": 1, "lockoutMinutes": 1})
    user_id, username = new_user(client, headers, org_id)
    _failed_login(client, f"{username}@{alias}")
    locked = _read(client, user_id, headers)
    assert locked["state"] == "locked" and _is_rfc3339_utc(locked["lockedUntil"])
    assert _t(locked["lockedUntil"]) > stack.clock()
    stack.clock.advance(minutes=2)
    expired = _read(client, user_id, headers)
    # No event ends a timed lock: the row keeps lockedUntil, the state is judged against now.
    assert expired["state"] == "active"
    assert expired["lockedUntil"] == locked["lockedUntil"]
    assert expired["details"] == locked["details"]
    login(client, f"{username}@{alias}", GOOD_PASSWORD)
    after = _read(client, user_id, headers)
    assert (after["state"], after["lockedUntil"], after["failedAttempts"]) == ("active", None, 0)
    assert after["details"] == _aggregate_details(stack, user_id)


def test_writes_through_vendor_dialects_are_read_back_natively_with_their_details(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    token = login(client, f"{username}@{alias}", GOOD_PASSWORD)["token"]
    body = {"newPassword": {"password": NEW}, "currentPassword": GOOD_PASSWORD}
    reply = client.post(f"/v2/users/{user_id}/password", json=body, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    zitadel_details = reply.json()["details"]
    read = _read(client, user_id, headers)
    assert read["details"] == zitadel_details == _aggregate_details(stack, user_id)

    token = login(client, f"{username}@{alias}", NEW)["token"]
    lifepos_headers = {
        **bearer(token), "X-LP-Client-Identifier": "till-7", "X-LP-Client-Type": "App",
        "X-LP-Client-Name": "Front till",
    }  # fmt: skip
    body = {"old_password": NEW, "new_password": NEWER}
    reply = client.post(f"/orgs/{org_id}/me/set-credentials", json=body, headers=lifepos_headers)
    assert reply.status_code == 200, reply.text
    assert _read(client, user_id, headers)["details"] == _aggregate_details(stack, user_id)

    events = _history(client, user_id, headers)
    assert [(e["type"], e["dialect"]) for e in events[2:]] == [
        ("user.password.changed", "zitadel"), ("user.sessions.revoked", "zitadel"),
        ("user.password.changed", "lifepos"), ("user.sessions.revoked", "lifepos"),
    ]  # fmt: skip
    lifepos_client = events[4]["client"]
    assert lifepos_client["clientIdentifier"] == "till-7"
    assert lifepos_client["clientType"] == "App" and lifepos_client["clientName"] == "Front till"


# --- history ---


def test_history_lists_every_credential_event_oldest_first_with_stable_types(stack, client):
    headers = admin_headers(client)
    admin_id = client.post(
        "/v1/sessions", json={"loginName": "admin", "password": ADMIN_PASSWORD}
    ).json()["userId"]
    org_id, alias = new_org(client, headers, {"maxFailedAttempts": 1, "lockoutMinutes": 0})
    user_id, username = new_user(client, headers, org_id)
    name, url = f"{username}@{alias}", f"/v1/users/{user_id}"

    _failed_login(client, name)  # check failed + locked
    reset = client.post(url + "/password-reset", json={"delivery": "return"}, headers=headers)
    code, reset_token = reset.json()["code"], reset.json()["token"]
    wrong_code = "ZZZZZ9" if code != "ZZZZZ9" else "ZZZZZ8"
    body = {"verificationCode": wrong_code, "newPassword": NEW}
    assert client.post(url + "/password", json=body).status_code == 400
    body = {"verificationCode": code, "newPassword": NEW}
    assert client.post(url + "/password", json=body).status_code == 200  # + unlocked, revoked
    token = login(client, name, NEW)["token"]
    body = {"currentPassword": NEW, "newPassword": NEWER}
    assert client.post(url + "/password", json=body, headers=bearer(token)).status_code == 200
    second = client.post(url + "/password-reset", json={"delivery": "return"}, headers=headers)
    body = {"resetToken": second.json()["token"], "newPassword": NEWEST}
    assert client.post(url + "/password", json=body).status_code == 200
    assert client.post(url + "/unlock", headers=headers).status_code == 200

    events = _history(client, user_id, headers)
    expected = [
        ("user.registered", admin_id, "admin"),
        ("user.password.set", admin_id, "admin"),
        ("user.password.check.failed", user_id, "self"),
        ("user.locked", user_id, "self"),
        ("user.password.reset.requested", admin_id, "admin"),
        ("user.password.reset.failed", "reset-code", "reset_code"),
        ("user.password.reset.completed", "reset-code", "reset_code"),
        ("user.unlocked", "reset-code", "reset_code"),
        ("user.sessions.revoked", "reset-code", "reset_code"),
        ("user.password.changed", user_id, "self"),
        ("user.sessions.revoked", user_id, "self"),
        ("user.password.reset.requested", admin_id, "admin"),
        ("user.password.reset.completed", "reset-token", "reset_token"),
        ("user.sessions.revoked", "reset-token", "reset_token"),
        ("user.unlocked", admin_id, "admin"),
    ]
    assert [(e["type"], e["actor"], e["method"]) for e in events] == expected
    assert all(set(e) == HISTORY_KEYS for e in events)
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert [e["sequence"] for e in events] == [str(n) for n in range(1, len(events) + 1)]
    assert events[-1]["sequence"] == _aggregate_details(stack, user_id)["sequence"]
    assert all(e["dialect"] == "native" for e in events)
    assert all(_is_rfc3339_utc(e["occurredAt"]) for e in events)
    times = [_t(e["occurredAt"]) for e in events]
    assert times == sorted(times)
    assert events[2]["client"] == {"remoteAddress": "testclient", "userAgent": "testclient"}

    text = client.get(url + "/history", headers=headers).text
    for secret in (GOOD_PASSWORD, NEW, NEWER, NEWEST, "$argon2", code, reset_token,
                   second.json()["token"], "digest"):  # fmt: skip
        assert secret not in text


def test_history_stays_readable_by_admins_and_auditors_after_removal(client):
    headers = admin_headers(client)
    people = _org_with_roles(client, headers)
    victim = people["user"]["id"]
    before = _history(client, victim, headers)
    assert (
        client.delete(f"/v1/users/{victim}", headers=people["admin"]["headers"]).status_code == 204
    )
    assert _problem(client.get(f"/v1/users/{victim}", headers=headers)) == (404, "not_found")
    for reader in (headers, people["admin"]["headers"], people["auditor"]["headers"]):
        after = _history(client, victim, reader)
        assert after[: len(before)] == before
        assert [e["type"] for e in after[len(before) :]] == ["user.removed"]
        assert after[-1]["actor"] == people["admin"]["id"]
    # the removed user's own session ended with the removal
    own = client.get(f"/v1/users/{victim}/history", headers=people["user"]["headers"])
    assert own.status_code == 401


def test_self_org_admin_auditor_and_instance_admin_may_read_a_user_and_its_history(client):
    headers = admin_headers(client)
    people = _org_with_roles(client, headers)
    target = people["user"]["id"]
    readers = [people["user"], people["admin"], people["auditor"], {"headers": headers}]
    for reader in readers:
        for path in (f"/v1/users/{target}", f"/v1/users/{target}/history"):
            reply = client.get(path, headers=reader["headers"])
            assert reply.status_code == 200, (path, reply.text)


def test_a_plain_user_is_forbidden_and_other_orgs_see_nothing(client):
    headers = admin_headers(client)
    people = _org_with_roles(client, headers)
    others = _org_with_roles(client, headers)
    target = people["user"]["id"]
    for path in (f"/v1/users/{target}", f"/v1/users/{target}/history"):
        assert _problem(client.get(path, headers=people["peer"]["headers"])) == (403, "forbidden")
        for outsider in ("admin", "auditor", "user"):
            hidden = client.get(path, headers=others[outsider]["headers"])
            assert _problem(hidden) == (404, "not_found"), (outsider, path)
        assert client.get(path).status_code == 401
    unknown = "00000000-0000-4000-8000-000000000000"
    assert _problem(client.get(f"/v1/users/{unknown}/history", headers=headers)) == (
        404, "not_found",
    )  # fmt: skip


# --- the feed ---


def _walk(client: TestClient, headers: dict[str, str], after: int, limit: int) -> list[dict]:
    """Every page of the feed from `after`, following nextAfter until a page comes back empty."""
    items: list[dict] = []
    while True:
        reply = client.get(f"/v1/events?after={after}&limit={limit}", headers=headers)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        assert len(page["events"]) <= limit
        if not page["events"]:
            assert page["nextAfter"] == after  # an empty page stays where it was
            return items
        assert page["nextAfter"] == page["events"][-1]["position"]
        assert all(e["position"] > after for e in page["events"])
        items += page["events"]
        after = page["nextAfter"]


def test_an_auditor_reads_only_its_own_orgs_feed(client):
    headers = admin_headers(client)
    people = _org_with_roles(client, headers)
    others = _org_with_roles(client, headers)
    client.post("/v1/sessions", json={"loginName": others["user"]["name"], "password": WRONG})
    _failed_login(client, people["user"]["name"])
    own = _walk(client, people["auditor"]["headers"], 0, 1000)
    assert own and {e["orgId"] for e in own} == {people["org_id"]}
    assert all(set(e) == FEED_KEYS for e in own)
    org_events = [e for e in own if e["userId"] is None]
    assert [e["type"] for e in org_events] == ["org.registered"]
    member_ids = {people[r]["id"] for r in ("user", "admin", "auditor", "peer")}
    assert {e["userId"] for e in own if e["userId"]} == member_ids
    assert "user.password.check.failed" in {e["type"] for e in own}
    # The feed items of one user are that user's history, position for position.
    target = people["user"]["id"]
    history = _history(client, target, people["auditor"]["headers"])
    mine = [{k: v for k, v in e.items() if k in HISTORY_KEYS} for e in own if e["userId"] == target]
    assert mine == history


def test_the_instance_admin_reads_every_orgs_feed_and_a_plain_user_none(client):
    headers = admin_headers(client)
    first = _org_with_roles(client, headers)
    second = _org_with_roles(client, headers)
    start = _walk(client, first["auditor"]["headers"], 0, 1000)[0]["position"] - 1
    everything = _walk(client, headers, start, 1000)
    orgs = {e["orgId"] for e in everything}
    assert {first["org_id"], second["org_id"]} <= orgs
    second_own = _walk(client, second["auditor"]["headers"], start, 1000)
    assert [e for e in everything if e["orgId"] == second["org_id"]] == second_own
    for plain in (first["user"], first["peer"]):
        assert _problem(client.get("/v1/events", headers=plain["headers"])) == (403, "forbidden")
    assert client.get("/v1/events").status_code == 401


def test_the_feed_pages_by_position_with_next_after(client):
    headers = admin_headers(client)
    people = _org_with_roles(client, headers)
    auditor = people["auditor"]["headers"]
    whole = client.get("/v1/events?limit=1000", headers=auditor).json()
    assert whole["nextAfter"] == whole["events"][-1]["position"]
    positions = [e["position"] for e in whole["events"]]
    assert positions == sorted(set(positions))
    assert _walk(client, auditor, 0, 2) == whole["events"]
    assert _walk(client, auditor, 0, 3) == whole["events"]
    middle = positions[3]
    assert _walk(client, auditor, middle, 1000) == whole["events"][4:]
    assert client.get("/v1/events?limit=1", headers=auditor).json()["events"] == whole["events"][:1]
    default = client.get("/v1/events", headers=auditor).json()["events"]
    assert default == whole["events"][:100]


def test_the_feed_refuses_limits_beyond_1000_and_bad_positions(client):
    headers = admin_headers(client)
    assert client.get("/v1/events?limit=1000", headers=headers).status_code == 200
    for query in ("limit=1001", "limit=0", "after=-1", "limit=ten", "after=x"):
        reply = client.get(f"/v1/events?{query}", headers=headers)
        assert _problem(reply) == (400, "invalid_request"), query
        assert reply.headers["content-type"].startswith("application/problem+json")


def test_an_org_admin_without_the_auditor_role_may_not_read_the_feed(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, admin = new_user(client, headers, org_id, roles=["admin"])
    admin_token = login(client, f"{admin}@{alias}", GOOD_PASSWORD)["token"]
    refused = client.get("/v1/events", headers=bearer(admin_token))
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
