"""Password policy (CONTRACTS §1.1): every rule id, its order, and how policies are set.

Most tests go through the native HTTP API on both stores; a few at the end exercise
`PasswordPolicy.cheap_violations` directly.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from domain.errors import InvalidArgument
from domain.policy import PasswordPolicy
from tests.api_helpers import (
    GOOD_PASSWORD,
    PROBLEM_JSON,
    admin_headers,
    bearer,
    login,
    new_org,
    new_user,
    unique,
)

# Passwords that pass every default rule and every composition rule.
P0 = "Violet-Lantern-42-harbor"
P1 = "Amber-Quarry-17-meadow"
P2 = "Cobalt-Ferry-93-thistle"
P3 = "Ember-Glacier-58-saddle"
P4 = "Juniper-Kettle-06-ravine"
P5 = "Saffron-Beacon-71-willow"

DEFAULT_POLICY = {
    "minLength": 8,
    "maxLength": 128,
    "requireLowercase": False,
    "requireUppercase": False,
    "requireDigit": False,
    "requireSymbol": False,
    "historyCount": 4,
    "blockCommon": True,
    "maxFailedAttempts": 10,
    "lockoutMinutes": 15,
    "revokeSessionsOnChange": True,
    "resetCodeMinutes": 60,
    "resetTokenMinutes": 15,
    "resetUrlPrefixes": None,  # this server's own /ui/ pages
}


# --- helpers ---


def assert_policy_violation(reply: Any, violations: list[str]) -> None:
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body = reply.json()
    assert body["code"] == "password_policy"
    assert body["status"] == 400
    assert body["violations"] == violations


def assert_invalid_request(reply: Any, field: str) -> None:
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body = reply.json()
    assert body["code"] == "invalid_request"
    assert [error["field"] for error in body["errors"]] == [field]
    assert all(error["message"] for error in body["errors"])


def register(client, headers, org_id: str, password: str, username: str | None = None) -> Any:
    body: dict[str, Any] = {"username": username or unique("user"), "password": password}
    return client.post(f"/v1/orgs/{org_id}/users", json=body, headers=headers)


def admin_set(client, headers, user_id: str, password: str) -> Any:
    return client.post(
        f"/v1/users/{user_id}/password", json={"newPassword": password}, headers=headers
    )


def put_policy(client, headers, org_id: str, policy: dict[str, Any]) -> Any:
    return client.put(f"/v1/orgs/{org_id}/password-policy", json=policy, headers=headers)


def get_policy(client, headers, org_id: str) -> dict[str, Any]:
    reply = client.get(f"/v1/orgs/{org_id}", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()["passwordPolicy"]


# --- cheap rules, one at a time ---


def test_password_shorter_than_min_length_is_too_short(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert_policy_violation(register(client, headers, org_id, "Tq7-zx!"), ["too_short"])


def test_password_of_exactly_min_length_is_accepted(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert register(client, headers, org_id, "Tq7-zx!w").status_code == 201


def test_raised_min_length_reports_too_short(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"minLength": 30})
    assert_policy_violation(register(client, headers, org_id, P0), ["too_short"])


def test_password_longer_than_max_length_is_too_long(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"maxLength": 16})
    assert_policy_violation(register(client, headers, org_id, "Tq7-zx!w" * 2 + "k"), ["too_long"])
    assert register(client, headers, org_id, "Tq7-zx!w" * 2).status_code == 201


def test_default_max_length_is_128_code_points(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert register(client, headers, org_id, "Tq7-zx!w" * 16).status_code == 201
    assert_policy_violation(register(client, headers, org_id, "Tq7-zx!w" * 16 + "k"), ["too_long"])


def test_password_beyond_hard_ceiling_is_reported_as_too_long(client):
    """1025 code points break every policy (ceiling 1024): a policy error, not a schema one."""
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"maxLength": 1024})
    assert register(client, headers, org_id, "Tq7-zx!w" * 128).status_code == 201
    assert_policy_violation(register(client, headers, org_id, "Tq7-zx!w" * 128 + "k"), ["too_long"])


@pytest.mark.parametrize(
    ("rule", "flag", "password"),
    [
        ("missing_lowercase", "requireLowercase", "VIOLET-LANTERN-42-HARBOR"),
        ("missing_uppercase", "requireUppercase", "violet-lantern-42-harbor"),
        ("missing_digit", "requireDigit", "Violet-Lantern-Harbor"),
        ("missing_symbol", "requireSymbol", "VioletLantern42Harbor"),
    ],
)
def test_composition_rule_is_reported_when_required(client, rule, flag, password):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={flag: True})
    assert_policy_violation(register(client, headers, org_id, password), [rule])


def test_composition_rules_are_off_by_default(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert register(client, headers, org_id, "violetlanternharbor").status_code == 201


def test_password_meeting_all_composition_rules_is_accepted(client):
    headers = admin_headers(client)
    flags = ("requireLowercase", "requireUppercase", "requireDigit", "requireSymbol")
    org_id, _ = new_org(client, headers, policy=dict.fromkeys(flags, True))
    assert register(client, headers, org_id, P0).status_code == 201


def test_non_ascii_letters_count_as_letters_not_symbols(client):
    headers = admin_headers(client)
    policy = {"requireUppercase": True, "requireLowercase": True, "requireSymbol": True}
    org_id, _ = new_org(client, headers, policy=policy)
    assert_policy_violation(
        register(client, headers, org_id, "ÄrgerlichÖlÜberßee"), ["missing_symbol"]
    )
    assert register(client, headers, org_id, "Ärgerlich-Öl-Überßee").status_code == 201


@pytest.mark.parametrize("password", ["password", "iloveyou", "sunshine", "trustno1"])
def test_password_on_common_list_is_common(client, password):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert_policy_violation(register(client, headers, org_id, password), ["common"])


@pytest.mark.parametrize("password", ["PASSWORD", "Password", "iLoveYou", "SunShine"])
def test_common_password_in_other_case_is_still_common(client, password):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert_policy_violation(register(client, headers, org_id, password), ["common"])


def test_common_password_allowed_when_block_common_is_off(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"blockCommon": False})
    assert register(client, headers, org_id, "password").status_code == 201


def test_password_containing_username_in_other_case_is_contains_identity(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    username = unique("Marlow")
    password = f"kite-{username.upper()}-9!"
    reply = register(client, headers, org_id, password, username=username)
    assert_policy_violation(reply, ["contains_identity"])


def test_password_containing_org_alias_in_other_case_is_contains_identity(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    assert_policy_violation(
        register(client, headers, org_id, f"Kite9!{alias.upper()}"), ["contains_identity"]
    )


def test_identity_rule_applies_to_admin_set_password(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    reply = admin_set(client, headers, user_id, f"Zq9-{username.title()}-kite")
    assert_policy_violation(reply, ["contains_identity"])
    reply = admin_set(client, headers, user_id, f"Zq9-{alias.swapcase()}-kite")
    assert_policy_violation(reply, ["contains_identity"])


def test_identity_allowed_when_block_common_is_off(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, policy={"blockCommon": False})
    assert register(client, headers, org_id, f"Kite9!{alias}").status_code == 201


# --- several rules at once: all cheap failures, in §1.1 order ---


def test_all_failing_cheap_rules_are_listed_in_contract_order(client):
    headers = admin_headers(client)
    policy = {
        "minLength": 12,
        "requireUppercase": True,
        "requireDigit": True,
        "requireSymbol": True,
    }
    org_id, _ = new_org(client, headers, policy=policy)
    reply = register(client, headers, org_id, "dragon", username="dragon")
    assert_policy_violation(
        reply,
        [
            "too_short",
            "missing_uppercase",
            "missing_digit",
            "missing_symbol",
            "common",
            "contains_identity",
        ],
    )


def test_too_long_and_missing_classes_are_listed_together(client):
    headers = admin_headers(client)
    policy = {
        "maxLength": 10,
        "requireLowercase": True,
        "requireUppercase": True,
        "requireDigit": True,
        "requireSymbol": True,
    }
    org_id, _ = new_org(client, headers, policy=policy)
    assert_policy_violation(
        register(client, headers, org_id, "!#%&*+-=?@^~"),
        ["too_long", "missing_lowercase", "missing_uppercase", "missing_digit"],
    )


def test_violations_detail_names_the_rules(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"requireDigit": True})
    body = register(client, headers, org_id, "pw").json()
    assert body["violations"] == ["too_short", "missing_digit"]
    assert "too_short" in body["detail"] and "missing_digit" in body["detail"]


# --- length counts code points after NFC ---

EMOJI_8 = "🔑🌋🦊🎻🧭🪁🐙🍄"


def test_eight_emoji_are_eight_code_points(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"minLength": 8, "maxLength": 8})
    assert register(client, headers, org_id, EMOJI_8).status_code == 201
    assert_policy_violation(register(client, headers, org_id, EMOJI_8[:7]), ["too_short"])
    assert_policy_violation(register(client, headers, org_id, EMOJI_8 + "🦉"), ["too_long"])


def test_combining_sequences_count_after_nfc_composition(client):
    # 16 code points as sent, 8 precomposed letters after NFC.
    decomposed = "".join(letter + "\u0301" for letter in "aeiouync")
    assert len(decomposed) == 16
    assert len(unicodedata.normalize("NFC", decomposed)) == 8
    headers = admin_headers(client)
    short_org, _ = new_org(client, headers, policy={"maxLength": 8})
    assert register(client, headers, short_org, decomposed).status_code == 201
    long_org, _ = new_org(client, headers, policy={"minLength": 9})
    assert_policy_violation(register(client, headers, long_org, decomposed), ["too_short"])


def test_decomposed_password_longer_than_ceiling_as_sent_fits_after_nfc(client):
    """1200 code points as sent, 600 after NFC: within maxLength 1024."""
    decomposed = "e\u0301" * 600
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"maxLength": 1024})
    assert register(client, headers, org_id, decomposed).status_code == 201


def test_password_set_in_nfd_logs_in_with_nfc(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    _, username = new_user(client, headers, org_id, password="Jose\u0301-Lantern-42")
    session = login(client, f"{username}@{alias}", "Jos\u00e9-Lantern-42")
    assert session["orgId"] == org_id


# --- hash rules: same_as_current and reused ---


def test_admin_setting_the_current_password_is_same_as_current(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    user_id, _ = new_user(client, headers, org_id, password=P0)
    assert_policy_violation(admin_set(client, headers, user_id, P0), ["same_as_current"])


def test_self_change_to_the_current_password_is_same_as_current(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id, password=P0)
    token = login(client, f"{username}@{alias}", P0)["token"]
    reply = client.post(
        f"/v1/users/{user_id}/password",
        json={"currentPassword": P0, "newPassword": P0},
        headers=bearer(token),
    )
    assert_policy_violation(reply, ["same_as_current"])


def test_same_as_current_is_refused_even_with_history_count_zero(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"historyCount": 0})
    user_id, _ = new_user(client, headers, org_id, password=P0)
    assert_policy_violation(admin_set(client, headers, user_id, P0), ["same_as_current"])


def test_nfd_form_of_the_current_password_is_same_as_current(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    user_id, _ = new_user(client, headers, org_id, password="Jos\u00e9-Lantern-42")
    reply = admin_set(client, headers, user_id, "Jose\u0301-Lantern-42")
    assert_policy_violation(reply, ["same_as_current"])


def test_password_within_history_count_is_reused(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"historyCount": 2})
    user_id, _ = new_user(client, headers, org_id, password=P0)
    for password in (P1, P2):
        assert admin_set(client, headers, user_id, password).status_code == 200
    # Current P2; the two before it are P1 and P0.
    assert_policy_violation(admin_set(client, headers, user_id, P1), ["reused"])
    assert_policy_violation(admin_set(client, headers, user_id, P0), ["reused"])


def test_self_change_to_a_recent_password_is_reused(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id, password=P0)
    token = login(client, f"{username}@{alias}", P0)["token"]
    changed = client.post(
        f"/v1/users/{user_id}/password",
        json={"currentPassword": P0, "newPassword": P1},
        headers=bearer(token),
    )
    assert changed.status_code == 200, changed.text
    reply = client.post(
        f"/v1/users/{user_id}/password",
        json={"currentPassword": P1, "newPassword": P0},
        headers=bearer(token),
    )
    assert_policy_violation(reply, ["reused"])


def test_password_older_than_history_count_is_not_reused(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"historyCount": 2})
    user_id, _ = new_user(client, headers, org_id, password=P0)
    for password in (P1, P2, P3):
        assert admin_set(client, headers, user_id, password).status_code == 200
    # Current P3; the two before it are P2 and P1, so P0 has aged out.
    reply = admin_set(client, headers, user_id, P0)
    assert reply.status_code == 200, reply.text


def test_default_history_count_remembers_four_previous_passwords(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    user_id, _ = new_user(client, headers, org_id, password=P0)
    for password in (P1, P2, P3, P4):
        assert admin_set(client, headers, user_id, password).status_code == 200
    # Current P4; previous four: P3, P2, P1, P0.
    assert_policy_violation(admin_set(client, headers, user_id, P0), ["reused"])
    assert admin_set(client, headers, user_id, P5).status_code == 200
    # Current P5; previous four: P4, P3, P2, P1. P0 is the fifth.
    assert admin_set(client, headers, user_id, P0).status_code == 200


def test_history_count_zero_allows_the_previous_password(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"historyCount": 0})
    user_id, _ = new_user(client, headers, org_id, password=P0)
    assert admin_set(client, headers, user_id, P1).status_code == 200
    assert admin_set(client, headers, user_id, P0).status_code == 200


def test_lowering_history_count_applies_to_the_next_change(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    user_id, _ = new_user(client, headers, org_id, password=P0)
    for password in (P1, P2):
        assert admin_set(client, headers, user_id, password).status_code == 200
    assert_policy_violation(admin_set(client, headers, user_id, P0), ["reused"])
    assert put_policy(client, headers, org_id, {"historyCount": 1}).status_code == 200
    assert admin_set(client, headers, user_id, P0).status_code == 200


def test_hash_rules_are_not_reported_when_a_cheap_rule_fails(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    current = "VioletLantern42Harbor"
    previous = "AmberQuarry17Meadow"
    user_id, _ = new_user(client, headers, org_id, password=previous)
    assert admin_set(client, headers, user_id, current).status_code == 200
    assert put_policy(client, headers, org_id, {"requireSymbol": True}).status_code == 200
    # Equal to the current / a previous password, but the cheap rule decides the answer.
    assert_policy_violation(admin_set(client, headers, user_id, current), ["missing_symbol"])
    assert_policy_violation(admin_set(client, headers, user_id, previous), ["missing_symbol"])


def test_common_current_password_reports_only_common(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"blockCommon": False})
    user_id, _ = new_user(client, headers, org_id, password="sunshine")
    assert put_policy(client, headers, org_id, {"blockCommon": True}).status_code == 200
    assert_policy_violation(admin_set(client, headers, user_id, "sunshine"), ["common"])


def test_refused_password_leaves_the_current_one_in_place(client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id, password=P0)
    assert_policy_violation(admin_set(client, headers, user_id, "password"), ["common"])
    assert login(client, f"{username}@{alias}", P0)["userId"] == user_id


# --- setting policies ---


def test_org_created_without_policy_has_the_defaults(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert get_policy(client, headers, org_id) == DEFAULT_POLICY


def test_policy_given_on_creation_is_stored_with_defaults_for_omitted_fields(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"minLength": 12, "requireDigit": True})
    assert get_policy(client, headers, org_id) == {
        **DEFAULT_POLICY,
        "minLength": 12,
        "requireDigit": True,
    }


def test_put_policy_replaces_the_whole_policy(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"minLength": 12, "requireDigit": True})
    reply = put_policy(client, headers, org_id, {"historyCount": 7})
    assert reply.status_code == 200, reply.text
    details = reply.json()["details"]
    assert details["sequence"] == "2"
    assert details["resourceOwner"] == org_id
    assert get_policy(client, headers, org_id) == {**DEFAULT_POLICY, "historyCount": 7}


def test_put_policy_takes_effect_on_the_next_registration(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert register(client, headers, org_id, "violetlanternharbor").status_code == 201
    assert put_policy(client, headers, org_id, {"requireDigit": True}).status_code == 200
    assert_policy_violation(
        register(client, headers, org_id, "violetlanternharbor"), ["missing_digit"]
    )


def test_max_length_at_the_ceiling_is_accepted(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"minLength": 1024, "maxLength": 1024})
    assert get_policy(client, headers, org_id)["maxLength"] == 1024


INVALID_POLICIES = [
    pytest.param({"minLength": 20, "maxLength": 10}, "minLength", id="min-above-max"),
    pytest.param({"minLength": 200}, "minLength", id="min-above-default-max"),
    pytest.param({"maxLength": 2000}, "maxLength", id="max-above-ceiling"),
    pytest.param({"maxLength": 1025}, "maxLength", id="max-just-above-ceiling"),
    pytest.param({"minLength": 0}, "minLength", id="min-zero"),
    pytest.param({"historyCount": -1}, "historyCount", id="history-negative"),
    pytest.param({"historyCount": "4"}, "historyCount", id="history-string"),
    pytest.param({"historyCount": 4.5}, "historyCount", id="history-float"),
    pytest.param({"historyCount": True}, "historyCount", id="history-bool"),
    pytest.param({"blockCommon": 1}, "blockCommon", id="flag-int"),
    pytest.param({"minimumLength": 12}, "minimumLength", id="unknown-field"),
    pytest.param({"min_length": 12}, "min_length", id="snake-case-field"),
]


@pytest.mark.parametrize(("policy", "field"), INVALID_POLICIES)
def test_invalid_policy_on_org_creation_is_invalid_request(client, policy, field):
    headers = admin_headers(client)
    alias = unique("org")
    body = {"name": "Invalid policy", "alias": alias, "passwordPolicy": policy}
    assert_invalid_request(client.post("/v1/orgs", json=body, headers=headers), field)
    # Nothing was registered: the alias is still free.
    body["passwordPolicy"] = None
    assert client.post("/v1/orgs", json=body, headers=headers).status_code == 201


@pytest.mark.parametrize(("policy", "field"), INVALID_POLICIES)
def test_invalid_policy_update_is_invalid_request_and_keeps_the_old_one(client, policy, field):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers, policy={"minLength": 10})
    assert_invalid_request(put_policy(client, headers, org_id, policy), field)
    assert get_policy(client, headers, org_id) == {**DEFAULT_POLICY, "minLength": 10}


def test_policy_that_is_not_an_object_is_invalid_request(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    reply = put_policy(client, headers, org_id, [{"minLength": 10}])  # type: ignore[arg-type]
    assert reply.status_code == 400, reply.text
    assert reply.json()["code"] == "invalid_request"


def test_user_created_with_good_password_under_strict_policy_can_log_in(client):
    headers = admin_headers(client)
    policy = {
        "minLength": 20,
        "requireLowercase": True,
        "requireUppercase": True,
        "requireDigit": True,
        "requireSymbol": True,
    }
    org_id, alias = new_org(client, headers, policy=policy)
    user_id, username = new_user(client, headers, org_id, password=GOOD_PASSWORD.title())
    assert login(client, f"{username}@{alias}", GOOD_PASSWORD.title())["userId"] == user_id


# --- unit tests of the cheap rules, without the API ---


def test_unit_good_password_has_no_cheap_violations():
    assert PasswordPolicy().cheap_violations(P0, ("alice", "acme")) == []


def test_unit_every_cheap_rule_in_contract_order():
    policy = PasswordPolicy(
        min_length=10,
        require_lowercase=True,
        require_uppercase=True,
        require_digit=True,
        require_symbol=True,
    )
    assert policy.cheap_violations("DRAGON", ("dragon", "acme")) == [
        "too_short",
        "missing_lowercase",
        "missing_digit",
        "missing_symbol",
        "common",
        "contains_identity",
    ]


def test_unit_length_counts_code_points_after_nfc():
    policy = PasswordPolicy(min_length=8, max_length=8)
    assert policy.cheap_violations(EMOJI_8) == []
    assert policy.cheap_violations("e\u0301" * 8) == []
    assert policy.cheap_violations("e\u0301" * 4) == ["too_short"]


def test_unit_identity_match_is_case_insensitive():
    policy = PasswordPolicy()
    assert policy.cheap_violations("Kite-MARLOW-9!", ("marlow", "acme")) == ["contains_identity"]
    assert policy.cheap_violations("Kite-AcMe-9!x", ("marlow", "acme")) == ["contains_identity"]


def test_unit_block_common_off_disables_common_and_identity():
    policy = PasswordPolicy(block_common=False)
    assert policy.cheap_violations("password", ("password", "acme")) == []


def test_unit_common_is_case_insensitive():
    assert PasswordPolicy().cheap_violations("PaSsWoRd") == ["common"]


def test_unit_min_length_above_max_length_is_refused():
    with pytest.raises(InvalidArgument) as caught:
        PasswordPolicy(min_length=20, max_length=10)
    assert caught.value.field == "minLength"


def test_unit_from_camel_refuses_unknown_fields_and_fills_defaults():
    with pytest.raises(InvalidArgument) as caught:
        PasswordPolicy.from_camel({"minimumLength": 3})
    assert caught.value.field == "minimumLength"
    assert PasswordPolicy.from_camel({"minLength": 12}) == PasswordPolicy(min_length=12)
