"""Reducers are pure: a domain event and its position in, SQL statements out, no database.

Events are made by driving the real aggregates, so these tests also pin down which events a
command emits and what each read model makes of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.indexes import AliasIndex, Instance, UsernameIndex
from domain.organization import Organization
from domain.policy import PasswordPolicy
from domain.session import Session
from domain.user import PendingReset, User
from projections import history as history_module
from projections import users as users_module
from projections.event_types import USER_EVENTS, iso
from projections.history import HistoryModel
from projections.organizations import OrganizationsModel
from projections.statements import Statement
from projections.users import INSERT, UPDATE, UsersModel

CLIENT = {"remoteAddress": "10.0.0.9", "userAgent": "reducer-test/1"}
ADMIN_AUDIT = {"actor": "admin-id", "method": "admin", "dialect": "native", "client": CLIENT}
SELF_AUDIT = {"actor": "self-id", "method": "self", "dialect": "zitadel", "client": CLIENT}
CODE_AUDIT = {"actor": "reset-code", "method": "reset_code", "dialect": "kendox", "client": {}}
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$first-secret-looking-hash"
HASH_2 = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$second-secret-looking-hash"
HASH_3 = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$upgraded-secret-looking-hash"
CODE_DIGEST = "c0de" * 16
TOKEN_DIGEST = "70ce" * 16

# The stable history names of CONTRACTS §2 (check.succeeded is this product's addition).
STABLE_NAMES = {
    User.Registered: "user.registered",
    User.PasswordSet: "user.password.set",
    User.PasswordChanged: "user.password.changed",
    User.PasswordResetRequested: "user.password.reset.requested",
    User.PasswordResetCompleted: "user.password.reset.completed",
    User.PasswordResetFailed: "user.password.reset.failed",
    User.PasswordCheckFailed: "user.password.check.failed",
    User.PasswordCheckSucceeded: "user.password.check.succeeded",
    User.Removed: "user.removed",
    User.HashUpgraded: "user.password.hash.upgraded",
    User.Locked: "user.locked",
    User.Unlocked: "user.unlocked",
    User.SessionsRevoked: "user.sessions.revoked",
    User.RolesChanged: "user.roles.changed",
    User.Erased: "user.erased",
}

# The parameters of the one users UPDATE, by meaning (see projections/users.py).
UPDATE_PARAMS = (
    "sets_change_required", "change_required", "sets_password_changed_at", "password_changed_at",
    "clears_failures", "counts_failure", "locks_until", "locked_until", "clears_until",
    "locks", "unlocks", "roles", "removes", "sequence", "change_date", "position", "user_id",
)  # fmt: skip
NO_EFFECT = {
    "sets_change_required": False, "change_required": False,
    "sets_password_changed_at": False, "clears_failures": False, "counts_failure": False,
    "locks_until": False, "locked_until": None, "clears_until": False,
    "locks": False, "unlocks": False, "roles": None, "removes": False,
}  # fmt: skip


def _named(statement: Statement) -> dict[str, Any]:
    assert statement.sql == UPDATE
    assert len(statement.args) == len(UPDATE_PARAMS)
    return dict(zip(UPDATE_PARAMS, statement.args, strict=True))


def _effect(statement: Statement) -> dict[str, Any]:
    """The UPDATE's parameters without the details (sequence, date, position, id)."""
    named = _named(statement)
    named.pop("password_changed_at")  # the event time, checked where it matters
    for key in ("sequence", "change_date", "position", "user_id"):
        named.pop(key)
    return named


def _expected(**changes: Any) -> dict[str, Any]:
    effect = {**NO_EFFECT, **changes}
    effect.pop("password_changed_at", None)
    return effect


def _user(roles: list[str] | None = None) -> User:
    return User(
        id=uuid4(), org_id=uuid4(), username="Bob.Builder", numeric_id=4711,
        email="bob@example.org", full_name="Bob Builder", roles=roles or [], audit=ADMIN_AUDIT,
    )  # fmt: skip


def _registered_user(roles: list[str] | None = None) -> User:
    user = _user(roles)
    user.collect_events()
    return user


def _pending_reset() -> PendingReset:
    now = datetime.now(UTC)
    return PendingReset(
        uuid4().hex,
        CODE_DIGEST,
        TOKEN_DIGEST,
        now + timedelta(hours=1),
        now + timedelta(minutes=15),
    )


def _one_update(event: Any, position: int = 100) -> Statement:
    (statement,) = UsersModel().reduce(event, position)
    return statement


def _lifecycle() -> tuple[User, list[Any]]:
    """One user through every kind of user event the aggregate knows."""
    user = _user(["auditor"])
    user.set_password(HASH, True, ADMIN_AUDIT)
    user.record_failed_check(2, None, SELF_AUDIT)
    user.record_successful_check(SELF_AUDIT)
    user.upgrade_hash(HASH_3, SELF_AUDIT)
    user.change_password(HASH_2, False, SELF_AUDIT)
    user.revoke_sessions("kept-session", SELF_AUDIT)
    user.record_failed_check(2, None, SELF_AUDIT)
    user.record_failed_check(2, None, SELF_AUDIT)  # the second failure locks
    reset = _pending_reset()
    user.request_reset(reset, "return", ADMIN_AUDIT)
    user.record_failed_reset_code(reset.reset_id, CODE_AUDIT)
    user.complete_reset(reset.reset_id, HASH, False, CODE_AUDIT)  # + Unlocked (was locked)
    user.unlock(ADMIN_AUDIT)
    user.change_roles(["admin", "auditor"], ADMIN_AUDIT)
    user.remove(ADMIN_AUDIT)
    user.erase(ADMIN_AUDIT)
    return user, list(user.collect_events())


# --- users ---


def test_registration_inserts_the_user_row_with_identity_and_details():
    user = _user(["auditor", "admin"])
    (registered,) = user.collect_events()
    (statement,) = UsersModel().reduce(registered, 42)
    assert statement.sql == INSERT
    assert statement.args == (
        str(user.id), str(user.org_id), "Bob.Builder", '["auditor","admin"]',
        "bob@example.org", "Bob Builder", 4711, 1, iso(registered.timestamp), 42,
    )  # fmt: skip
    assert statement.args[8].endswith("Z")


def test_a_set_password_stamps_change_required_and_time_and_clears_failures():
    user = _registered_user()
    user.set_password(HASH, True, ADMIN_AUDIT)
    (event,) = user.collect_events()
    statement = _one_update(event, 7)
    assert _effect(statement) == _expected(
        sets_change_required=True, change_required=True, sets_password_changed_at=True,
        clears_failures=True,
    )  # fmt: skip
    assert _named(statement)["password_changed_at"] == iso(event.timestamp)


def test_a_self_change_stamps_the_password_time_like_a_set():
    user = _registered_user()
    user.set_password(HASH, True, ADMIN_AUDIT)
    user.change_password(HASH_2, False, SELF_AUDIT)
    _, changed = user.collect_events()
    statement = _one_update(changed)
    assert _effect(statement) == _expected(
        sets_change_required=True, change_required=False, sets_password_changed_at=True,
        clears_failures=True,
    )  # fmt: skip
    assert _named(statement)["password_changed_at"] == iso(changed.timestamp)


def test_a_failed_check_counts_and_lifts_an_expired_lock_in_the_same_update():
    user = _registered_user()
    user.record_failed_check(3, None, SELF_AUDIT)
    (failed,) = user.collect_events()
    # counts a failure; the unlock flags let a failure after an expired timed lock start over
    assert _effect(_one_update(failed)) == _expected(
        counts_failure=True, clears_until=True, unlocks=True
    )


def test_the_nth_failure_and_the_timed_lock_are_two_updates_with_the_lock_end():
    user = _registered_user()
    until = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    user.record_failed_check(2, until, SELF_AUDIT)
    user.record_failed_check(2, until, SELF_AUDIT)
    first, second, locked = user.collect_events()
    assert [type(e) for e in (first, second, locked)] == [
        User.PasswordCheckFailed, User.PasswordCheckFailed, User.Locked,
    ]  # fmt: skip
    statement = _one_update(locked, 12)
    assert _effect(statement) == _expected(
        locks_until=True, locked_until="2031-05-06T07:08:09.123456Z", locks=True
    )
    assert _named(statement)["position"] == 12


def test_a_lock_without_an_end_stores_no_lock_end():
    user = _registered_user()
    user.record_failed_check(1, None, SELF_AUDIT)
    _, locked = user.collect_events()
    assert _effect(_one_update(locked)) == _expected(locks_until=True, locks=True)


def test_a_success_after_failures_and_an_unlock_clear_failures_and_the_lock():
    user = _registered_user()
    user.record_failed_check(5, None, SELF_AUDIT)
    user.record_successful_check(SELF_AUDIT)
    user.unlock(ADMIN_AUDIT)
    _, succeeded, unlocked = user.collect_events()
    cleared = _expected(clears_failures=True, clears_until=True, unlocks=True)
    assert _effect(_one_update(succeeded)) == cleared
    assert _effect(_one_update(unlocked)) == cleared


def test_a_success_without_failures_records_nothing():
    user = _registered_user()
    user.record_successful_check(SELF_AUDIT)
    assert user.collect_events() == []


def test_a_completed_reset_sets_the_password_and_unlocks():
    user = _registered_user()
    user.set_password(HASH, False, ADMIN_AUDIT)
    user.record_failed_check(1, None, SELF_AUDIT)  # locked
    reset = _pending_reset()
    user.request_reset(reset, "return", ADMIN_AUDIT)
    user.complete_reset(reset.reset_id, HASH_2, True, CODE_AUDIT)
    *_, requested, completed, unlocked = user.collect_events()
    assert isinstance(requested, User.PasswordResetRequested)
    assert isinstance(unlocked, User.Unlocked)  # the unlock is visible, not only implied
    statement = _one_update(completed)
    assert _effect(statement) == _expected(
        sets_change_required=True, change_required=True, sets_password_changed_at=True,
        clears_failures=True, clears_until=True, unlocks=True,
    )  # fmt: skip
    assert _named(statement)["password_changed_at"] == iso(completed.timestamp)


def test_roles_change_rewrites_the_roles_and_removal_flags_the_row():
    user = _registered_user(["auditor"])
    user.change_roles(["admin", "auditor"], ADMIN_AUDIT)
    user.remove(ADMIN_AUDIT)
    changed, removed = user.collect_events()
    assert _effect(_one_update(changed)) == _expected(roles='["admin","auditor"]')
    assert _effect(_one_update(removed)) == _expected(removes=True)


@pytest.mark.parametrize(
    "emit",
    [
        lambda u: u.upgrade_hash(HASH_3, SELF_AUDIT),
        lambda u: u.request_reset(_pending_reset(), "email", ADMIN_AUDIT),
        lambda u: u.record_failed_reset_code("some-reset", CODE_AUDIT),
        lambda u: u.revoke_sessions(None, ADMIN_AUDIT),
    ],
    ids=["hash upgraded", "reset requested", "reset failed", "sessions revoked"],
)
def test_events_without_state_effect_only_move_the_details(emit):
    user = _registered_user()
    emit(user)
    (event,) = user.collect_events()
    statement = _one_update(event, 77)
    assert _effect(statement) == _expected()
    assert _named(statement)["sequence"] == 2 and _named(statement)["position"] == 77


def test_every_user_event_after_registration_moves_sequence_change_date_and_position():
    user, events = _lifecycle()
    # The lifecycle covers every user event class, so a new one cannot go unreduced here.
    concrete = set(USER_EVENTS) - {User.Event, User.Created}  # the library's base classes
    assert {type(e) for e in events} == concrete == set(STABLE_NAMES)
    registered, *later = events
    assert UsersModel().reduce(registered, 1000)[0].args[-3:] == (
        1,
        iso(registered.timestamp),
        1000,
    )
    *later, erased = later
    for offset, event in enumerate(later, start=1001):
        named = _named(_one_update(event, offset))
        assert (named["sequence"], named["change_date"], named["position"], named["user_id"]) == (
            event.originator_version, iso(event.timestamp), offset, str(user.id),
        )  # fmt: skip
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert _one_update(erased, 2000).args == (
        erased.originator_version, iso(erased.timestamp), 2000, str(user.id),
    )  # fmt: skip


def test_erasure_blanks_the_person_in_the_users_row_and_every_client_of_their_history():
    user = _registered_user()
    user.erase(ADMIN_AUDIT)
    (erased,) = user.collect_events()
    (statement,) = UsersModel().reduce(erased, 9)
    assert statement.sql == users_module.ERASE
    assert "username = ''" in statement.sql and "email = NULL" in statement.sql
    assert "full_name = NULL" in statement.sql and "removed = TRUE" in statement.sql
    row, forget = HistoryModel().reduce(erased, 9)
    assert row.sql == history_module.INSERT_FOR_USER and row.args[4] == "user.erased"
    # After the row: the erasure's own client (the admin's, sealed under the person's key)
    # is gone on replay too, so live and rebuilt rows agree.
    assert forget.sql == history_module.FORGET_CLIENT and forget.args == (str(user.id),)


def test_the_users_model_ignores_everything_but_user_events():
    org = Organization(name="Acme", alias="acme", policy=PasswordPolicy().to_dict(), audit={})
    org.change_policy(PasswordPolicy(min_length=10), ADMIN_AUDIT)
    index = UsernameIndex(id=uuid4(), user_id=uuid4())
    index.release()
    others = [
        *org.collect_events(),
        *index.collect_events(),
        *AliasIndex(id=uuid4(), org_id=uuid4()).collect_events(),
        *Instance(id=uuid4(), default_org_id=uuid4(), admin_user_id=uuid4()).collect_events(),
    ]
    assert [UsersModel().reduce(e, 1) for e in others] == [[]] * len(others)


def test_reducing_is_deterministic_and_leaves_the_event_alone():
    _, events = _lifecycle()
    for model in (UsersModel(), HistoryModel(), OrganizationsModel()):
        for position, event in enumerate(events, 1):
            before = dict(vars(event))
            assert model.reduce(event, position) == model.reduce(event, position)
            assert dict(vars(event)) == before


# --- history ---


def test_registration_remembers_the_owner_org_then_writes_the_first_history_row():
    user = _user()
    (registered,) = user.collect_events()
    remember, row = HistoryModel().reduce(registered, 3)
    assert remember == Statement(history_module.REMEMBER_OWNER, (str(user.id), str(user.org_id)))
    assert row.sql == history_module.INSERT_FOR_USER
    assert "(SELECT org_id FROM {history_owners} WHERE user_id = ?)" in row.sql
    assert row.args == (
        3, str(user.id), str(user.id), 1, "user.registered", iso(registered.timestamp),
        "admin-id", "admin", "native", json.dumps(CLIENT, sort_keys=True, separators=(",", ":")),
    )  # fmt: skip


def test_every_user_event_is_one_history_row_with_its_stable_type_and_audit():
    user, events = _lifecycle()
    for position, event in enumerate(events[1:], start=2):
        row, *_ = HistoryModel().reduce(event, position)  # erasure adds a statement (below)
        assert row.sql == history_module.INSERT_FOR_USER
        position_, user_id, owner_lookup, sequence, kind, at, actor, method, dialect, client = (
            row.args
        )
        assert (position_, user_id, owner_lookup) == (position, str(user.id), str(user.id))
        assert (sequence, kind, at) == (
            event.originator_version, STABLE_NAMES[type(event)], iso(event.timestamp),
        )  # fmt: skip
        audit = event.audit
        assert (actor, method, dialect) == (audit["actor"], audit["method"], audit["dialect"])
        assert json.loads(client) == audit["client"]


def test_a_hash_upgrade_carries_the_logins_audit_and_without_one_is_the_systems():
    user = _registered_user()
    user.upgrade_hash(HASH_3, SELF_AUDIT)
    user.upgrade_hash(HASH_2)  # e.g. an upgrade recorded before upgrades carried an audit
    with_audit, without = user.collect_events()
    (row,) = HistoryModel().reduce(with_audit, 2)
    assert row.args[4:9] == (
        "user.password.hash.upgraded", iso(with_audit.timestamp), "self-id", "self", "zitadel",
    )  # fmt: skip
    assert json.loads(row.args[9]) == CLIENT
    (row,) = HistoryModel().reduce(without, 3)
    assert row.args[6:] == ("system", None, None, "{}")


def test_history_rows_never_carry_a_hash_or_a_reset_digest():
    _, events = _lifecycle()
    statements = [s for n, e in enumerate(events, 1) for s in HistoryModel().reduce(e, n)]
    assert len(statements) == len(events) + 2  # + the owner row and the erasure's scrub
    text = repr([s.args for s in statements])
    for secret in (HASH, HASH_2, HASH_3, "$argon2", CODE_DIGEST, TOKEN_DIGEST):
        assert secret not in text


def test_session_and_index_events_are_not_credential_history():
    session = Session(
        id=uuid4(), user_id=uuid4(), org_id=uuid4(), generation=0,
        expires_at=datetime.now(UTC) + timedelta(hours=1), audit=SELF_AUDIT,
    )  # fmt: skip
    session.end(SELF_AUDIT)
    index = UsernameIndex(id=uuid4(), user_id=uuid4())
    index.release()
    index.reclaim(uuid4())
    events = [
        *session.collect_events(),
        *index.collect_events(),
        *AliasIndex(id=uuid4(), org_id=uuid4()).collect_events(),
        *Instance(id=uuid4(), default_org_id=uuid4(), admin_user_id=uuid4()).collect_events(),
    ]
    assert len(events) == 7
    for model in (HistoryModel(), UsersModel(), OrganizationsModel()):
        assert [model.reduce(e, 9) for e in events] == [[]] * len(events)


def test_org_events_are_history_rows_of_the_org_without_a_user():
    org = Organization(
        name="Acme", alias="acme", policy=PasswordPolicy().to_dict(), audit=ADMIN_AUDIT
    )
    org.change_policy(PasswordPolicy(min_length=12), ADMIN_AUDIT)
    registered, changed = org.collect_events()
    cases = ((5, registered, "org.registered"), (6, changed, "org.policy.changed"))
    for position, event, kind in cases:
        (row,) = HistoryModel().reduce(event, position)
        assert row.sql == history_module.INSERT_FOR_ORG
        assert row.args[:6] == (
            position, None, str(org.id), event.originator_version, kind, iso(event.timestamp),
        )  # fmt: skip
        assert row.args[6:9] == ("admin-id", "admin", "native")


# --- organizations ---


def test_org_registration_inserts_name_alias_and_the_camel_case_policy():
    policy = PasswordPolicy(max_failed_attempts=3, lockout_minutes=1)
    org = Organization(name="Acme Corp", alias="acme", policy=policy.to_dict(), audit=ADMIN_AUDIT)
    (registered,) = org.collect_events()
    (statement,) = OrganizationsModel().reduce(registered, 11)
    assert statement.sql.startswith("INSERT INTO {orgs}")
    org_id, name, alias, policy_json, *details = statement.args
    assert (org_id, name, alias) == (str(org.id), "Acme Corp", "acme")
    assert json.loads(policy_json) == policy.to_camel()
    assert json.loads(policy_json)["maxFailedAttempts"] == 3
    assert details == [1, iso(registered.timestamp), 11]


def test_policy_change_rewrites_the_policy_and_moves_the_org_details():
    org = Organization(name="Acme", alias="acme", policy=PasswordPolicy().to_dict(), audit={})
    org.change_policy(PasswordPolicy(min_length=12, require_symbol=True), ADMIN_AUDIT)
    _, changed = org.collect_events()
    (statement,) = OrganizationsModel().reduce(changed, 9)
    assert statement.sql.startswith("UPDATE {orgs} SET policy = ?")
    assert statement.args[1:] == (2, iso(changed.timestamp), 9, str(org.id))
    policy = json.loads(statement.args[0])
    assert policy == PasswordPolicy(min_length=12, require_symbol=True).to_camel()
    assert policy["minLength"] == 12 and policy["requireSymbol"] is True


def test_the_organizations_model_ignores_user_events():
    _, events = _lifecycle()
    assert [OrganizationsModel().reduce(e, 1) for e in events] == [[]] * len(events)


def test_stored_times_are_utc_with_z_and_microseconds_whatever_the_input_zone():
    from datetime import timezone

    moment = datetime(2030, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert iso(moment) == "2030-01-02T03:04:05.000000Z"
    assert iso(None) is None
