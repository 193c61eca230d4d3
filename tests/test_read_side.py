"""Reads from the read models: fresh after writes, details of the last event, history, feed."""

from __future__ import annotations

from uuid import UUID

from tests.api_helpers import GOOD_PASSWORD, admin_headers, bearer, login, new_org, new_user

NEW = "fresh-Orchid-77-meadow"


def _details_of_aggregate(stack, user_id: str) -> tuple[str, str]:
    user = stack.service.store.repository.get(UUID(user_id))
    return str(user.version), user.modified_on.isoformat().replace("+00:00", "Z")


def test_every_read_shows_the_details_of_the_last_write(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, {"maxFailedAttempts": 2})
    user_id, username = new_user(client, headers, org_id)
    name = f"{username}@{alias}"
    base = f"/v1/users/{user_id}"
    writes = [("/password", {"newPassword": NEW}), ("/password-reset", {}), ("/unlock", None)]
    for path, body in writes:
        details = client.post(base + path, json=body, headers=headers).json()["details"]
        read = client.get(f"/v1/users/{user_id}", headers=headers).json()
        assert read["details"] == details
        assert (details["sequence"], details["changeDate"]) == _details_of_aggregate(stack, user_id)
    client.post("/v1/sessions", json={"loginName": name, "password": "wrong-pw-123"})
    read = client.get(f"/v1/users/{user_id}", headers=headers).json()
    assert read["failedAttempts"] == 1
    assert (read["details"]["sequence"], read["details"]["changeDate"]) == _details_of_aggregate(
        stack, user_id
    )


def test_history_lists_credential_events_oldest_first_without_secrets(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    token = login(client, f"{username}@{alias}", GOOD_PASSWORD)["token"]
    body = {"currentPassword": GOOD_PASSWORD, "newPassword": NEW}
    client.post(f"/v1/users/{user_id}/password", json=body, headers=bearer(token))
    reply = client.get(f"/v1/users/{user_id}/history", headers=bearer(token))
    assert reply.status_code == 200
    events = reply.json()["events"]
    assert [e["type"] for e in events] == [
        "user.registered", "user.password.set", "user.password.changed", "user.sessions.revoked",
    ]  # fmt: skip
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    assert set(events[2]) == {
        "position", "sequence", "type", "occurredAt", "actor", "method", "dialect", "client",
    }  # fmt: skip
    assert (events[2]["actor"], events[2]["method"], events[2]["dialect"]) == (
        user_id, "self", "native",
    )  # fmt: skip
    assert events[2]["client"]["userAgent"] == "testclient"
    assert "argon2" not in reply.text and NEW not in reply.text


def test_history_stays_readable_after_removal_and_is_hidden_across_orgs(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    user_id, _ = new_user(client, headers, org_id)
    assert client.delete(f"/v1/users/{user_id}", headers=headers).status_code == 204
    types = [
        e["type"]
        for e in client.get(f"/v1/users/{user_id}/history", headers=headers).json()["events"]
    ]
    assert types[-1] == "user.removed"
    other_org, other_alias = new_org(client, headers)
    _, other_admin = new_user(client, headers, other_org, roles=["admin"])
    outsider = bearer(login(client, f"{other_admin}@{other_alias}", GOOD_PASSWORD)["token"])
    hidden = client.get(f"/v1/users/{user_id}/history", headers=outsider)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")


def test_feed_is_scoped_by_role_and_paged_by_position(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    new_user(client, headers, org_id)
    new_user(client, headers, org_id)
    _, auditor = new_user(client, headers, org_id, roles=["auditor"])
    _, plain = new_user(client, headers, org_id)
    auditor_headers = bearer(login(client, f"{auditor}@{alias}", GOOD_PASSWORD)["token"])
    own = client.get("/v1/events?limit=1000", headers=auditor_headers).json()["events"]
    assert own and {e["orgId"] for e in own} == {org_id}
    first = client.get("/v1/events?limit=2", headers=auditor_headers).json()
    second = client.get(f"/v1/events?after={first['nextAfter']}&limit=2", headers=auditor_headers)
    assert [e["position"] for e in first["events"] + second.json()["events"]] == [
        e["position"] for e in own[:4]
    ]
    everything = client.get("/v1/events?limit=1000", headers=headers).json()["events"]
    assert len({e["orgId"] for e in everything}) > 1
    plain_headers = bearer(login(client, f"{plain}@{alias}", GOOD_PASSWORD)["token"])
    assert client.get("/v1/events", headers=plain_headers).status_code == 403
    too_many = client.get("/v1/events?limit=1001", headers=headers)
    assert (too_many.status_code, too_many.json()["code"]) == (400, "invalid_request")
