"""Organizations and users through the native API (CONTRACTS §1, §2): creation, names,
uniqueness, removal, read shapes, and who may do what."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.api_helpers import (
    GOOD_PASSWORD,
    PROBLEM_JSON,
    RFC3339_Z,
    admin_headers,
    bearer,
    login,
    new_org,
    new_user,
    unique,
)

OTHER_PASSWORD = "Amber-Quarry-17-meadow"

USER_FIELDS = {
    "userId",
    "orgId",
    "username",
    "loginName",
    "roles",
    "state",
    "lockedUntil",
    "changeRequired",
    "passwordChangedAt",
    "failedAttempts",
    "details",
}
POLICY_FIELDS = {
    "minLength",
    "maxLength",
    "requireLowercase",
    "requireUppercase",
    "requireDigit",
    "requireSymbol",
    "historyCount",
    "blockCommon",
    "maxFailedAttempts",
    "lockoutMinutes",
    "revokeSessionsOnChange",
    "resetCodeMinutes",
    "resetTokenMinutes",
    "resetUrlPrefixes",
}


# --- helpers ---


def assert_problem(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body = reply.json()
    assert body["code"] == code
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


def assert_timestamp(value: str, near: datetime) -> datetime:
    assert RFC3339_Z.match(value), value
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert abs(moment - near) < timedelta(minutes=1)
    return moment


def full_width(text: str) -> str:
    """ASCII → the full-width forms (U+FF01..U+FF5E) that NFKC folds back."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def post_org(client, headers, alias: str, name: str = "Some org") -> Any:
    return client.post("/v1/orgs", json={"name": name, "alias": alias}, headers=headers)


def post_user(client, headers, org_id: str, username: str, **extra: Any) -> Any:
    body = {"username": username, "password": GOOD_PASSWORD, **extra}
    return client.post(f"/v1/orgs/{org_id}/users", json=body, headers=headers)


def member(client, headers, org_id: str, alias: str, roles: list[str]) -> tuple[str, dict]:
    """A user of the org with the given roles, logged in; returns (userId, their headers)."""
    user_id, username = new_user(client, headers, org_id, roles=roles)
    return user_id, bearer(login(client, f"{username}@{alias}", GOOD_PASSWORD)["token"])


# --- organizations ---


def test_instance_admin_creates_org_with_details(client, stack):
    headers = admin_headers(client)
    alias = unique("org")
    reply = post_org(client, headers, alias, name="Acme Corporation")
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert set(body) == {"orgId", "details"}
    org_id = body["orgId"]
    assert str(uuid.UUID(org_id)) == org_id
    details = body["details"]
    assert set(details) == {"sequence", "changeDate", "resourceOwner"}
    assert details["sequence"] == "1"
    assert_timestamp(details["changeDate"], stack.clock())
    assert details["resourceOwner"] == org_id


def test_get_org_returns_name_alias_policy_and_details(client, stack):
    headers = admin_headers(client)
    alias = unique("org")
    created = post_org(client, headers, alias, name="Acme Corporation").json()
    reply = client.get(f"/v1/orgs/{created['orgId']}", headers=headers)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"orgId", "name", "alias", "passwordPolicy", "details"}
    assert body["orgId"] == created["orgId"]
    assert body["name"] == "Acme Corporation"
    assert body["alias"] == alias
    assert set(body["passwordPolicy"]) == POLICY_FIELDS
    assert body["details"] == created["details"]


def test_get_org_details_follow_the_last_policy_change(client, stack):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    registered = client.get(f"/v1/orgs/{org_id}", headers=headers).json()["details"]
    changed = client.put(
        f"/v1/orgs/{org_id}/password-policy", json={"minLength": 10}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    details = client.get(f"/v1/orgs/{org_id}", headers=headers).json()["details"]
    assert details == changed.json()["details"]
    assert details["sequence"] == "2"
    assert details["resourceOwner"] == org_id
    changed_at = assert_timestamp(details["changeDate"], stack.clock())
    assert changed_at >= assert_timestamp(registered["changeDate"], stack.clock())


def test_alias_is_stored_lower_cased(client):
    headers = admin_headers(client)
    alias = unique("org")
    reply = post_org(client, headers, alias.upper())
    assert reply.status_code == 201, reply.text
    org = client.get(f"/v1/orgs/{reply.json()['orgId']}", headers=headers).json()
    assert org["alias"] == alias


def test_alias_taken_twice_is_409(client):
    headers = admin_headers(client)
    alias = unique("org")
    assert post_org(client, headers, alias).status_code == 201
    assert_problem(post_org(client, headers, alias), 409, "alias_taken")


def test_alias_differing_only_in_case_is_taken(client):
    headers = admin_headers(client)
    alias = unique("acme")
    assert post_org(client, headers, alias).status_code == 201
    assert_problem(post_org(client, headers, alias.upper()), 409, "alias_taken")


def test_alias_in_full_width_letters_is_taken(client):
    headers = admin_headers(client)
    alias = unique("acme")
    assert post_org(client, headers, alias).status_code == 201
    assert_problem(post_org(client, headers, full_width(alias.upper())), 409, "alias_taken")


def test_upper_case_alias_blocks_its_lower_case_form(client):
    headers = admin_headers(client)
    alias = unique("acme")
    assert post_org(client, headers, alias.upper()).status_code == 201
    assert_problem(post_org(client, headers, alias), 409, "alias_taken")


@pytest.mark.parametrize(
    "alias",
    [
        pytest.param("", id="empty"),
        pytest.param("a", id="one-char"),
        pytest.param("x" * 64, id="64-chars"),
        pytest.param("acme corp", id="space"),
        pytest.param("acme_corp", id="underscore"),
        pytest.param("acme.corp", id="dot"),
        pytest.param("acme@corp", id="at-sign"),
        pytest.param("\u00e1cme", id="non-ascii-letter"),
    ],
)
def test_bad_alias_is_invalid_request(client, alias):
    headers = admin_headers(client)
    body = assert_problem(post_org(client, headers, alias), 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["alias"]


def test_alias_of_63_characters_is_accepted(client):
    headers = admin_headers(client)
    alias = unique("org").ljust(63, "x")
    assert post_org(client, headers, alias).status_code == 201


def test_missing_org_name_is_invalid_request(client):
    headers = admin_headers(client)
    reply = client.post("/v1/orgs", json={"alias": unique("org")}, headers=headers)
    body = assert_problem(reply, 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["name"]


# --- usernames: unique per org, case- and Unicode-insensitively ---


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("Bob", "Bob", id="identical"),
        pytest.param("Bob", "bob", id="lower"),
        pytest.param("Bob", "BOB", id="upper"),
        pytest.param("Bob", "\uff22\uff4f\uff42", id="full-width"),
        pytest.param("\uff22\uff4f\uff42", "bob", id="full-width-first"),
        pytest.param("Jos\u00e9", "Jose\u0301", id="nfc-then-nfd"),
        pytest.param("Jose\u0301", "Jos\u00e9", id="nfd-then-nfc"),
        pytest.param("Jos\u00e9", "JOS\u00c9", id="non-ascii-case"),
        pytest.param("Stra\u00dfe", "STRASSE", id="sharp-s-casefold"),
    ],
)
def test_username_differing_only_in_case_or_unicode_form_is_taken(client, first, second):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert post_user(client, headers, org_id, first).status_code == 201
    assert_problem(post_user(client, headers, org_id, second), 409, "username_taken")


def test_same_username_in_another_org_is_fine(client):
    headers = admin_headers(client)
    first_org, first_alias = new_org(client, headers)
    second_org, second_alias = new_org(client, headers)
    first = post_user(client, headers, first_org, "Bob")
    second = post_user(client, headers, second_org, "bob")
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert first.json()["userId"] != second.json()["userId"]
    assert login(client, f"bob@{first_alias}", GOOD_PASSWORD)["orgId"] == first_org
    assert login(client, f"bob@{second_alias}", GOOD_PASSWORD)["orgId"] == second_org


def test_username_keeps_the_form_it_was_registered_with(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id = post_user(client, headers, org_id, "Jose\u0301").json()["userId"]
    user = client.get(f"/v1/users/{user_id}", headers=headers).json()
    assert user["username"] == "Jos\u00e9"  # NFC of what was typed, case kept
    assert user["loginName"] == f"Jos\u00e9@{alias}"


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("", id="empty"),
        pytest.param("bob@acme", id="at-sign"),
        pytest.param("bob smith", id="space"),
        pytest.param("bob\tsmith", id="tab"),
        pytest.param("x" * 129, id="129-chars"),
    ],
)
def test_bad_username_is_invalid_request(client, username):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    body = assert_problem(post_user(client, headers, org_id, username), 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["username"]


# --- login names ---


@pytest.mark.parametrize("typed", ["bob", "BOB", "bOb", "\uff42\uff4f\uff42"])
def test_login_is_case_insensitive_on_username(client, typed):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id = post_user(client, headers, org_id, "Bob").json()["userId"]
    assert login(client, f"{typed}@{alias}", GOOD_PASSWORD)["userId"] == user_id


def test_login_is_case_insensitive_on_alias(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    assert login(client, f"{username}@{alias.upper()}", GOOD_PASSWORD)["userId"] == user_id


def test_login_accepts_full_width_alias(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    assert login(client, f"{username}@{full_width(alias)}", GOOD_PASSWORD)["userId"] == user_id


def test_login_with_nfd_username_finds_the_nfc_user(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id = post_user(client, headers, org_id, "Jos\u00e9").json()["userId"]
    assert login(client, f"Jose\u0301@{alias}", GOOD_PASSWORD)["userId"] == user_id


def test_login_with_wrong_alias_is_invalid_credentials(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    _, username = new_user(client, headers, org_id)
    reply = client.post(
        "/v1/sessions",
        json={"loginName": f"{username}@{unique('nowhere')}", "password": GOOD_PASSWORD},
    )
    assert_problem(reply, 401, "invalid_credentials")


# --- removing a user ---


def test_removed_user_can_no_longer_log_in(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    reply = client.delete(f"/v1/users/{user_id}", headers=headers)
    assert reply.status_code == 204, reply.text
    assert reply.content == b""
    reply = client.post(
        "/v1/sessions", json={"loginName": f"{username}@{alias}", "password": GOOD_PASSWORD}
    )
    assert_problem(reply, 401, "invalid_credentials")


def test_removing_a_user_ends_their_sessions(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    first = bearer(login(client, f"{username}@{alias}", GOOD_PASSWORD)["token"])
    second = bearer(login(client, f"{username}@{alias}", GOOD_PASSWORD)["token"])
    assert client.get(f"/v1/users/{user_id}", headers=first).status_code == 200
    assert client.delete(f"/v1/users/{user_id}", headers=headers).status_code == 204
    for token_headers in (first, second):
        reply = client.get(f"/v1/users/{user_id}", headers=token_headers)
        assert_problem(reply, 401, "session_invalid")


def test_removed_user_reads_as_not_found(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    user_id, _ = new_user(client, headers, org_id)
    assert client.delete(f"/v1/users/{user_id}", headers=headers).status_code == 204
    assert_problem(client.get(f"/v1/users/{user_id}", headers=headers), 404, "not_found")
    assert_problem(client.delete(f"/v1/users/{user_id}", headers=headers), 404, "not_found")


def test_removing_a_user_frees_the_username(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    old_id = post_user(client, headers, org_id, "Bob").json()["userId"]
    assert client.delete(f"/v1/users/{old_id}", headers=headers).status_code == 204
    reply = client.post(
        f"/v1/orgs/{org_id}/users",
        json={"username": "BOB", "password": OTHER_PASSWORD},
        headers=headers,
    )
    assert reply.status_code == 201, reply.text
    new_id = reply.json()["userId"]
    assert new_id != old_id
    assert login(client, f"bob@{alias}", OTHER_PASSWORD)["userId"] == new_id
    # The old password belonged to the removed user, not to the name.
    stale = client.post(
        "/v1/sessions", json={"loginName": f"bob@{alias}", "password": GOOD_PASSWORD}
    )
    assert_problem(stale, 401, "invalid_credentials")
    # And the name is taken again by the new user.
    assert_problem(post_user(client, headers, org_id, "bob"), 409, "username_taken")


# --- reading a user ---


def test_get_user_returns_every_read_model_field(client, stack):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id, roles=["auditor", "admin"])
    reply = client.get(f"/v1/users/{user_id}", headers=headers)
    assert reply.status_code == 200, reply.text
    user = reply.json()
    assert set(user) == USER_FIELDS
    assert user["userId"] == user_id
    assert user["orgId"] == org_id
    assert user["username"] == username
    assert user["loginName"] == f"{username}@{alias}"
    assert sorted(user["roles"]) == ["admin", "auditor"]
    assert user["state"] == "active"
    assert user["lockedUntil"] is None
    assert user["changeRequired"] is False
    assert user["failedAttempts"] == 0
    assert_timestamp(user["passwordChangedAt"], stack.clock())
    details = user["details"]
    assert set(details) == {"sequence", "changeDate", "resourceOwner"}
    assert details["sequence"] == "2"  # registered, then password set
    assert details["changeDate"] == user["passwordChangedAt"]
    assert details["resourceOwner"] == org_id


def test_created_user_details_match_the_read(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    reply = post_user(client, headers, org_id, unique("user"))
    assert reply.status_code == 201, reply.text
    created = reply.json()
    assert set(created) == {"userId", "details"}
    read = client.get(f"/v1/users/{created['userId']}", headers=headers).json()
    assert read["details"] == created["details"]


def test_user_without_password_has_no_password_changed_at(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    user_id, _ = new_user(client, headers, org_id, password=None)
    user = client.get(f"/v1/users/{user_id}", headers=headers).json()
    assert user["passwordChangedAt"] is None
    assert user["roles"] == []
    assert user["details"]["sequence"] == "1"


def test_user_created_with_change_required_reads_so(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id, changeRequired=True)
    assert client.get(f"/v1/users/{user_id}", headers=headers).json()["changeRequired"] is True
    assert login(client, f"{username}@{alias}", GOOD_PASSWORD)["changeRequired"] is True


def test_failed_login_shows_in_the_user_read(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    wrong = client.post(
        "/v1/sessions", json={"loginName": f"{username}@{alias}", "password": "not-it-at-all"}
    )
    assert_problem(wrong, 401, "invalid_credentials")
    user = client.get(f"/v1/users/{user_id}", headers=headers).json()
    assert user["failedAttempts"] == 1
    assert user["details"]["sequence"] == "3"


def test_plain_user_reads_themself(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, own = member(client, headers, org_id, alias, roles=[])
    reply = client.get(f"/v1/users/{user_id}", headers=own)
    assert reply.status_code == 200, reply.text
    assert reply.json()["userId"] == user_id


# --- permissions ---


def test_org_admin_cannot_see_a_user_of_another_org(client):
    headers = admin_headers(client)
    org_a, alias_a = new_org(client, headers)
    org_b, _ = new_org(client, headers)
    _, admin_a = member(client, headers, org_a, alias_a, roles=["admin"])
    user_b, _ = new_user(client, headers, org_b)
    foreign = assert_problem(client.get(f"/v1/users/{user_b}", headers=admin_a), 404, "not_found")
    missing = client.get(f"/v1/users/{uuid.uuid4()}", headers=admin_a).json()
    assert foreign == missing  # indistinguishable from a user that does not exist


def test_org_admin_cannot_see_another_org(client):
    headers = admin_headers(client)
    org_a, alias_a = new_org(client, headers)
    org_b, _ = new_org(client, headers)
    _, admin_a = member(client, headers, org_a, alias_a, roles=["admin"])
    foreign = assert_problem(client.get(f"/v1/orgs/{org_b}", headers=admin_a), 404, "not_found")
    missing = client.get(f"/v1/orgs/{uuid.uuid4()}", headers=admin_a).json()
    assert foreign == missing


def test_plain_user_cannot_see_a_user_or_org_of_another_org(client):
    headers = admin_headers(client)
    org_a, alias_a = new_org(client, headers)
    org_b, _ = new_org(client, headers)
    _, user_a = member(client, headers, org_a, alias_a, roles=[])
    user_b, _ = new_user(client, headers, org_b)
    assert_problem(client.get(f"/v1/users/{user_b}", headers=user_a), 404, "not_found")
    assert_problem(client.get(f"/v1/orgs/{org_b}", headers=user_a), 404, "not_found")


def test_org_admin_cannot_manage_another_org(client):
    headers = admin_headers(client)
    org_a, alias_a = new_org(client, headers)
    org_b, _ = new_org(client, headers)
    _, admin_a = member(client, headers, org_a, alias_a, roles=["admin"])
    user_b, _ = new_user(client, headers, org_b)
    assert_problem(post_user(client, admin_a, org_b, unique("user")), 404, "not_found")
    assert_problem(client.delete(f"/v1/users/{user_b}", headers=admin_a), 404, "not_found")
    policy = client.put(f"/v1/orgs/{org_b}/password-policy", json={}, headers=admin_a)
    assert_problem(policy, 404, "not_found")
    password = client.post(
        f"/v1/users/{user_b}/password", json={"newPassword": OTHER_PASSWORD}, headers=admin_a
    )
    assert_problem(password, 404, "not_found")


def test_org_admin_manages_users_of_own_org(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, org_admin = member(client, headers, org_id, alias, roles=["admin"])
    reply = post_user(client, org_admin, org_id, unique("user"))
    assert reply.status_code == 201, reply.text
    user_id = reply.json()["userId"]
    assert client.get(f"/v1/users/{user_id}", headers=org_admin).status_code == 200
    assert client.delete(f"/v1/users/{user_id}", headers=org_admin).status_code == 204


def test_plain_user_creating_users_in_own_org_is_forbidden(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, plain = member(client, headers, org_id, alias, roles=[])
    assert_problem(post_user(client, plain, org_id, unique("user")), 403, "forbidden")


def test_plain_user_reading_another_user_of_own_org_is_forbidden(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, plain = member(client, headers, org_id, alias, roles=[])
    other_id, _ = new_user(client, headers, org_id)
    assert_problem(client.get(f"/v1/users/{other_id}", headers=plain), 403, "forbidden")


def test_plain_user_reads_own_org_but_cannot_change_its_policy(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, plain = member(client, headers, org_id, alias, roles=[])
    assert client.get(f"/v1/orgs/{org_id}", headers=plain).status_code == 200
    reply = client.put(f"/v1/orgs/{org_id}/password-policy", json={}, headers=plain)
    assert_problem(reply, 403, "forbidden")


def test_plain_user_removing_another_user_is_forbidden(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, plain = member(client, headers, org_id, alias, roles=[])
    other_id, _ = new_user(client, headers, org_id)
    assert_problem(client.delete(f"/v1/users/{other_id}", headers=plain), 403, "forbidden")


def test_auditor_reads_users_of_own_org(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, auditor = member(client, headers, org_id, alias, roles=["auditor"])
    other_id, _ = new_user(client, headers, org_id)
    reply = client.get(f"/v1/users/{other_id}", headers=auditor)
    assert reply.status_code == 200, reply.text
    assert reply.json()["userId"] == other_id


def test_auditor_cannot_set_passwords(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, auditor = member(client, headers, org_id, alias, roles=["auditor"])
    other_id, other_name = new_user(client, headers, org_id)
    reply = client.post(
        f"/v1/users/{other_id}/password", json={"newPassword": OTHER_PASSWORD}, headers=auditor
    )
    assert_problem(reply, 403, "forbidden")
    # The password did not change.
    assert login(client, f"{other_name}@{alias}", GOOD_PASSWORD)["userId"] == other_id


def test_auditor_cannot_create_or_remove_users(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, auditor = member(client, headers, org_id, alias, roles=["auditor"])
    other_id, _ = new_user(client, headers, org_id)
    assert_problem(post_user(client, auditor, org_id, unique("user")), 403, "forbidden")
    assert_problem(client.delete(f"/v1/users/{other_id}", headers=auditor), 403, "forbidden")


@pytest.mark.parametrize("roles", [[], ["auditor"], ["admin"], ["admin", "auditor"]])
def test_non_instance_admin_creating_an_org_is_forbidden(client, roles):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, caller = member(client, headers, org_id, alias, roles=roles)
    assert_problem(post_org(client, caller, unique("org")), 403, "forbidden")


def test_no_token_is_authentication_required(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    user_id, _ = new_user(client, headers, org_id)
    assert_problem(client.get(f"/v1/users/{user_id}"), 401, "authentication_required")
    assert_problem(client.get(f"/v1/orgs/{org_id}"), 401, "authentication_required")
    assert_problem(
        client.post("/v1/orgs", json={"name": "x", "alias": unique("org")}),
        401,
        "authentication_required",
    )


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer   ", "Basic YWRtaW46cGFzc3dvcmQ=", "Token abc"],
)
def test_authorization_without_a_bearer_token_is_authentication_required(client, authorization):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    reply = client.get(f"/v1/orgs/{org_id}", headers={"Authorization": authorization})
    assert_problem(reply, 401, "authentication_required")


@pytest.mark.parametrize("token", ["garbage", "x" * 43, "0b5c1d2e-3f40-4a51-8b62-7c83d94ea5f6"])
def test_garbage_token_is_session_invalid(client, token):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert_problem(client.get(f"/v1/orgs/{org_id}", headers=bearer(token)), 401, "session_invalid")


def test_token_after_logout_is_session_invalid(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, own = member(client, headers, org_id, alias, roles=[])
    assert client.delete("/v1/sessions/current", headers=own).status_code == 204
    assert_problem(client.get(f"/v1/users/{user_id}", headers=own), 401, "session_invalid")


def test_instance_admin_reads_users_of_any_org(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    user_id, _ = new_user(client, headers, org_id)
    assert client.get(f"/v1/users/{user_id}", headers=headers).status_code == 200
    assert client.get(f"/v1/orgs/{org_id}", headers=headers).status_code == 200


def test_unknown_org_id_is_not_found_for_instance_admin(client):
    headers = admin_headers(client)
    assert_problem(client.get(f"/v1/orgs/{uuid.uuid4()}", headers=headers), 404, "not_found")
    reply = post_user(client, headers, str(uuid.uuid4()), unique("user"))
    assert_problem(reply, 404, "not_found")
