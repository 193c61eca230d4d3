"""The history rule at the cost of one hash (issue 9, README "Password history").

Every path pins the rule itself: each of the last N passwords is refused, the one N+1 back is
allowed, the current one is refused on self-service, admin set, reset code and reset token.
And the cost: a self-service change proves the current password (one verification), checks
every kept password against one history hash of the new one, and hashes the new one for
login: three argon2 computations whatever `historyCount` is, two when it is 0. What is stored
stays memory-hard: history hashes are argon2id with the configured parameters, under one salt
per user; login hashes keep a random salt each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from argon2 import extract_parameters

from domain.errors import PasswordPolicyViolation
from service.context import Actor, RequestContext
from tests.api_helpers import bearer, login, new_org, new_user
from tests.test_password_policy import (
    P0,
    P1,
    P2,
    P3,
    P4,
    P5,
    admin_headers,
    admin_set,
    assert_policy_violation,
    put_policy,
)


@pytest.fixture
def argon2_calls(stack, monkeypatch) -> Iterator[Counter[str]]:
    """Counts every argon2 computation of the service's hasher, by kind."""
    calls: Counter[str] = Counter()
    hasher = stack.service.hasher
    for name in ("hash", "verify", "history_hash"):
        real = getattr(hasher, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(hasher, name, counted)
    yield calls


def _user_with_passwords(client, policy: dict[str, Any], *passwords: str) -> dict[str, Any]:
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers, policy=policy)
    user_id, username = new_user(client, headers, org_id, password=passwords[0])
    for password in passwords[1:]:
        assert admin_set(client, headers, user_id, password).status_code == 200
    return {"admin": headers, "org_id": org_id, "user_id": user_id,
            "login": f"{username}@{alias}"}  # fmt: skip


def _self_change(client, user: dict[str, Any], current: str, new: str) -> Any:
    token = login(client, user["login"], current)["token"]
    return client.post(
        f"/v1/users/{user['user_id']}/password",
        json={"currentPassword": current, "newPassword": new},
        headers=bearer(token),
    )


def _stored_history_hash(stack, user_id: str) -> str:
    user = stack.service.store.repository.get(UUID(user_id))
    assert user.history_hash is not None
    return user.history_hash


# --- the cost ---


def test_a_self_change_with_four_kept_passwords_costs_three_argon2_computations(
    client, argon2_calls
):
    user = _user_with_passwords(client, {}, P0, P1, P2, P3, P4)
    token = login(client, user["login"], P4)["token"]
    argon2_calls.clear()
    reply = client.post(
        f"/v1/users/{user['user_id']}/password",
        json={"currentPassword": P4, "newPassword": P5},
        headers=bearer(token),
    )
    assert reply.status_code == 200, reply.text
    assert argon2_calls == Counter(verify=1, history_hash=1, hash=1)


def test_with_history_count_zero_a_self_change_costs_what_a_plain_app_does(client, argon2_calls):
    user = _user_with_passwords(client, {"historyCount": 0}, P0, P1)
    token = login(client, user["login"], P1)["token"]
    argon2_calls.clear()
    reply = client.post(
        f"/v1/users/{user['user_id']}/password",
        json={"currentPassword": P1, "newPassword": P2},
        headers=bearer(token),
    )
    assert reply.status_code == 200, reply.text
    assert argon2_calls == Counter(verify=1, hash=1)


def test_an_admin_set_or_a_refused_reuse_costs_one_history_hash(client, argon2_calls):
    user = _user_with_passwords(client, {}, P0, P1, P2, P3, P4)
    argon2_calls.clear()
    assert_policy_violation(admin_set(client, user["admin"], user["user_id"], P1), ["reused"])
    assert argon2_calls == Counter(history_hash=1)
    argon2_calls.clear()
    assert admin_set(client, user["admin"], user["user_id"], P5).status_code == 200
    assert argon2_calls == Counter(history_hash=1, hash=1)


# --- the rule, on every path ---


def test_each_of_the_last_four_is_refused_and_the_fifth_back_is_allowed(client):
    user = _user_with_passwords(client, {}, P0, P1, P2, P3, P4, P5)
    # Current P5; the four before it are P4, P3, P2, P1; P0 is the fifth back.
    for old in (P4, P3, P2, P1):
        assert_policy_violation(_self_change(client, user, P5, old), ["reused"])
    assert _self_change(client, user, P5, P0).status_code == 200


def test_the_current_password_is_refused_on_every_path(client):
    user = _user_with_passwords(client, {}, P0)
    user_id, admin = user["user_id"], user["admin"]
    assert_policy_violation(_self_change(client, user, P0, P0), ["same_as_current"])
    assert_policy_violation(admin_set(client, admin, user_id, P0), ["same_as_current"])
    grant = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=admin
    ).json()
    for proof in ({"verificationCode": grant["code"]}, {"resetToken": grant["token"]}):
        reply = client.post(f"/v1/users/{user_id}/password", json={"newPassword": P0, **proof})
        assert_policy_violation(reply, ["same_as_current"])


def test_passwords_kept_before_history_hashes_existed_are_still_checked(client, stack):
    """Set while `historyCount` was 0 (no history hash kept): verified one by one instead."""
    user = _user_with_passwords(client, {"historyCount": 0}, P0, P1, P2)
    assert stack.service.store.repository.get(UUID(user["user_id"])).history_hash is None
    policy = {"historyCount": 2}
    assert put_policy(client, user["admin"], user["org_id"], policy).status_code == 200
    assert_policy_violation(
        admin_set(client, user["admin"], user["user_id"], P2), ["same_as_current"]
    )
    assert_policy_violation(admin_set(client, user["admin"], user["user_id"], P0), ["reused"])
    assert_policy_violation(_self_change(client, user, P2, P1), ["reused"])
    assert admin_set(client, user["admin"], user["user_id"], P3).status_code == 200


def test_history_hashes_from_older_argon2_parameters_still_match(client, stack):
    """Raising the cost must not let someone reuse a password kept under the old one."""
    user = _user_with_passwords(client, {}, P0)
    stronger = stack.another_service(argon2_time_cost=2)
    user_id = UUID(user["user_id"])
    actor = Actor(UUID(int=1), UUID(user["org_id"]), ("instance_admin",))
    stronger.set_password(actor, user_id, P1, False, RequestContext())
    with pytest.raises(PasswordPolicyViolation) as refused:
        stronger.set_password(actor, user_id, P0, False, RequestContext())
    assert refused.value.violations == ["reused"]


# --- what is stored ---


def test_history_hashes_are_argon2id_with_the_configured_cost_and_one_salt_per_user(client, stack):
    first = _user_with_passwords(client, {}, P0)
    second = _user_with_passwords(client, {}, P0)
    one, two = (_stored_history_hash(stack, u["user_id"]) for u in (first, second))
    parameters = extract_parameters(one)
    configured = stack.service.hasher.parameters
    assert one.startswith("$argon2id$")
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        configured.time_cost, configured.memory_cost, configured.parallelism,
    )  # fmt: skip
    assert one != two  # the same password, another user: another salt
    logins = [stack.service.store.repository.get(UUID(u["user_id"])).password_hash
              for u in (first, second)]  # fmt: skip
    assert logins[0] != logins[1] and one not in logins
    assert one.split("$")[4] not in (login.split("$")[4] for login in logins)  # salts differ
