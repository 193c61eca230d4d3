"""The read models' writes, on both stores: events made by the real aggregates, stored by the
real event store, projected by the real projector, and the rows compared with the aggregates.

Rows must come out the same whether a user's events arrive one per batch (live) or all in one
batch (a rebuild folds them in memory), and a rebuild must reproduce the live tables exactly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.indexes import AliasIndex, UsernameIndex
from domain.organization import Organization
from domain.policy import PasswordPolicy
from domain.session import Session
from domain.user import PendingReset, User
from projections.event_types import USER_EVENTS, iso
from projections.facts import stored_moment, uuid_text
from projections.readstore import in_lists, physical
from projections.rebuild import rebuild

CLIENT = {"remoteAddress": "10.0.0.9", "userAgent": "models-test/1"}
ADMIN_AUDIT = {"actor": "admin-id", "method": "admin", "dialect": "native", "client": CLIENT}
SELF_AUDIT = {"actor": "self-id", "method": "self", "dialect": "zitadel", "client": CLIENT}
CODE_AUDIT = {"actor": "reset-code", "method": "reset_code", "dialect": "kendox", "client": {}}
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$first-secret-looking-hash"
HASH_2 = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$second-secret-looking-hash"
HASH_3 = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$upgraded-secret-looking-hash"
CODE_DIGEST = "c0de" * 16
TOKEN_DIGEST = "70ce" * 16
PAST = datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
FUTURE = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def _org(stack: Any) -> Organization:
    policy = PasswordPolicy(max_failed_attempts=3, lockout_minutes=1)
    alias = f"acme-{uuid4().hex[:8]}"
    org = Organization(name="Acme Corp", alias=alias, policy=policy.to_dict(), audit=ADMIN_AUDIT)
    stack.service.store.save(org)
    return org


def _user(org: Organization) -> User:
    return User(
        id=uuid4(), org_id=org.id, username=f"bob-{uuid4().hex[:8]}", numeric_id=4711,
        email="bob@example.org", full_name="Bob Builder", roles=["auditor"], audit=ADMIN_AUDIT,
    )  # fmt: skip


def _reset() -> PendingReset:
    now = datetime.now(UTC)
    code_ends, token_ends = now + timedelta(hours=1), now + timedelta(minutes=15)
    return PendingReset(uuid4().hex, CODE_DIGEST, TOKEN_DIGEST, code_ends, token_ends)


LEGACY_HASH = "$2b$04$" + "a" * 53  # an imported bcrypt hash (never checked here)


def _steps(user: User) -> list[Any]:
    """Every kind of user event, in an order that exercises each rule of the users model: a
    failure while a lock has run out starts counting again, a completed reset unlocks."""
    reset = _reset()
    return [
        lambda: user.import_password(LEGACY_HASH, "bcrypt", True, ADMIN_AUDIT),
        lambda: user.set_password(HASH, True, ADMIN_AUDIT),
        lambda: user.record_failed_check(5, None, SELF_AUDIT),
        lambda: user.record_successful_check(SELF_AUDIT),
        lambda: user.upgrade_hash(HASH_3, SELF_AUDIT),
        lambda: user.upgrade_hash(HASH_2),  # without an audit: the system's
        lambda: user.change_password(HASH_2, False, SELF_AUDIT),
        lambda: user.revoke_sessions("kept-session", SELF_AUDIT),
        lambda: user.record_failed_check(2, PAST, SELF_AUDIT),
        lambda: user.record_failed_check(2, PAST, SELF_AUDIT),  # locks, until a past moment
        lambda: user.record_failed_check(2, FUTURE, SELF_AUDIT),  # counts from 1 again
        lambda: user.record_failed_check(2, FUTURE, SELF_AUDIT),  # locks until the future
        lambda: user.request_reset(reset, "return", ADMIN_AUDIT),
        lambda: user.record_failed_reset_code(reset.reset_id, CODE_AUDIT),
        lambda: user.complete_reset(reset.reset_id, HASH, False, CODE_AUDIT),  # + Unlocked
        lambda: user.record_failed_check(1, None, SELF_AUDIT),  # locks without an end
        lambda: user.unlock(ADMIN_AUDIT),
        lambda: user.change_roles(["admin", "auditor"], ADMIN_AUDIT),
        lambda: user.remove(ADMIN_AUDIT),
    ]


def _expected_row(user: User) -> dict[str, Any]:
    return {
        "org_id": str(user.org_id),
        "username": user.username,
        "roles": list(user.roles),
        "email": user.email,
        "full_name": user.full_name,
        "numeric_id": user.numeric_id,
        "change_required": user.change_required,
        "password_changed_at": iso(user.password_changed_at),
        "failed_attempts": user.failed_attempts,
        "locked": user.locked,
        "locked_until": iso(user.locked_until) if user.locked else None,
        "removed": user.removed,
        "sequence": user.version,
        "change_date": iso(user.modified_on),
    }


def _row(stack: Any, user_id: Any) -> dict[str, Any]:
    """The users row, field for field as `_expected_row` names them."""
    models = stack.runtime.reads.models
    assert models.fresh()
    row = models.user(str(user_id))
    assert row is not None
    return {name: getattr(row, name) for name in ROW_FIELDS}


ROW_FIELDS = (
    "org_id", "username", "roles", "email", "full_name", "numeric_id", "change_required",
    "password_changed_at", "failed_attempts", "locked", "locked_until", "removed", "sequence",
    "change_date",
)  # fmt: skip


def _history_table(stack: Any) -> str:
    active = stack.runtime.projector.active()
    (generation,) = [c.generation for c in active if c.model.name == "history"]
    return physical("history", generation)


# --- users ---


def test_the_users_row_follows_the_aggregate_event_by_event(stack):
    user = _user(_org(stack))
    stack.service.store.save(user)
    assert _row(stack, user.id) == _expected_row(user)
    for step in _steps(user):
        step()
        stack.service.store.save(user)
        assert _row(stack, user.id) == _expected_row(user), step
    assert _row(stack, user.id)["failed_attempts"] == 0 and _row(stack, user.id)["removed"]


def test_a_whole_life_in_one_batch_folds_to_the_same_row(stack):
    user = _user(_org(stack))
    for step in _steps(user):
        step()
    concrete = set(USER_EVENTS) - {User.Event, User.Created, User.Erased}
    assert {type(e) for e in user.pending_events} == concrete  # every kind but erasure
    stack.service.store.save(user)
    assert _row(stack, user.id) == _expected_row(user)


def test_an_imported_hash_is_reported_until_its_upgrade_or_a_new_password(stack):
    org = _org(stack)
    org_id = org.id
    upgraded, replaced, removed = _user(org), _user(org), _user(org)
    for user in (upgraded, replaced, removed):
        user.import_password(LEGACY_HASH, "bcrypt", False, ADMIN_AUDIT)
    stack.service.store.save(upgraded, replaced, removed)
    models = stack.runtime.reads.models
    assert models.fresh()
    assert models.imported_schemes(str(org_id)) == {"bcrypt": 3}
    upgraded.upgrade_hash(HASH, SELF_AUDIT)
    replaced.change_password(HASH_2, False, SELF_AUDIT)
    stack.service.store.save(upgraded, replaced)
    assert models.fresh()
    assert models.imported_by_user().get(str(removed.id)) == "bcrypt"
    assert models.imported_schemes(str(org_id)) == {"bcrypt": 1}
    removed.remove(ADMIN_AUDIT)
    stack.service.store.save(removed)
    assert models.fresh() and models.imported_schemes(str(org_id)) == {}


def test_a_timed_lock_keeps_its_end_and_a_lock_ran_out_restarts_the_count(stack):
    user = _user(_org(stack))
    user.record_failed_check(2, PAST, SELF_AUDIT)
    user.record_failed_check(2, PAST, SELF_AUDIT)
    stack.service.store.save(user)
    locked = _row(stack, user.id)
    assert (locked["locked"], locked["locked_until"]) == (True, "2020-01-02T03:04:05.678901Z")
    user.record_failed_check(2, FUTURE, SELF_AUDIT)
    stack.service.store.save(user)
    again = _row(stack, user.id)
    assert (again["locked"], again["failed_attempts"]) == (False, 1)


def test_erasure_blanks_the_person_and_keeps_the_row(stack):
    user = _user(_org(stack))
    user.set_password(HASH, False, ADMIN_AUDIT)
    user.erase(ADMIN_AUDIT)
    stack.service.store.save(user)
    stack.service.store.data_keys.destroy(user.id)  # as the erasure use case does next
    row = _row(stack, user.id)
    assert (row["username"], row["email"], row["full_name"], row["removed"]) == (
        "", None, None, True,
    )  # fmt: skip
    assert row["org_id"] == str(user.org_id) and row["sequence"] == user.version


# --- history ---


def test_every_credential_event_is_one_history_row_with_its_type_audit_and_client(stack):
    user = _user(_org(stack))
    for step in _steps(user):
        step()
    events = list(user.pending_events)
    stack.service.store.save(user)
    stack.runtime.reads.models.fresh()
    rows = stack.runtime.reads.models.history(str(user.id))
    assert [(r.sequence, r.occurred_at) for r in rows] == [
        (e.originator_version, iso(e.timestamp)) for e in events
    ]
    for row, event in zip(rows, events, strict=True):
        audit = getattr(event, "audit", None) or {}
        assert (row.actor, row.method, row.dialect) == (
            audit.get("actor", "system"), audit.get("method"), audit.get("dialect"),
        )  # fmt: skip
        assert row.client == audit.get("client", {})
        assert (row.user_id, row.org_id) == (str(user.id), str(user.org_id))
    assert rows[0].type == "user.registered" and rows[-1].type == "user.removed"
    assert [r.actor for r in rows if r.type == "user.password.hash.upgraded"] == [
        "self-id", "system",
    ]  # fmt: skip


def test_the_history_table_keeps_client_metadata_sealed_and_no_secret(stack):
    user = _user(_org(stack))
    for step in _steps(user):
        step()
    with_client = [
        bool((getattr(e, "audit", None) or {}).get("client")) for e in user.pending_events
    ]
    stack.service.store.save(user)
    stack.runtime.reads.models.fresh()
    stored = stack.runtime.read_store.query(
        f"SELECT * FROM {_history_table(stack)} WHERE user_id = ? ORDER BY position",
        (str(user.id),),
    )
    text = repr(stored)
    for secret in (HASH, HASH_2, HASH_3, "$argon2", CODE_DIGEST, TOKEN_DIGEST, "10.0.0.9"):
        assert secret not in text
    # A sealed value is a JSON string (base64 ciphertext); events without a client keep {}.
    clients = [json.loads(row[-1]) for row in stored]
    assert [isinstance(c, str) for c in clients] == with_client
    assert [c for c in clients if not isinstance(c, str)] == [{}] * with_client.count(False)


def test_org_events_are_history_rows_of_the_org_and_session_or_index_events_none(stack):
    org = _org(stack)
    org.change_policy(PasswordPolicy(min_length=12), ADMIN_AUDIT)
    session = Session(
        id=uuid4(), user_id=uuid4(), org_id=org.id, generation=0,
        expires_at=datetime.now(UTC) + timedelta(hours=1), audit=SELF_AUDIT,
    )  # fmt: skip
    session.end(SELF_AUDIT)
    index = UsernameIndex(id=uuid4(), user_id=uuid4())
    index.release()
    stack.service.store.save(org, session, index, AliasIndex(id=uuid4(), org_id=org.id))
    models = stack.runtime.reads.models
    models.fresh()
    rows = [r for r in models.feed(0, 1000, str(org.id)) if r.user_id is None]
    assert [(r.type, r.sequence, r.actor, r.client) for r in rows] == [
        ("org.registered", 1, "admin-id", CLIENT),
        ("org.policy.changed", 2, "admin-id", CLIENT),
    ]
    assert models.history(str(session.user_id)) == []


# --- organizations ---


def test_the_org_row_carries_name_alias_and_the_camel_case_policy(stack):
    org = _org(stack)
    models = stack.runtime.reads.models
    models.fresh()
    row = models.org(str(org.id))
    assert row is not None
    assert (row.name, row.alias, row.sequence) == ("Acme Corp", org.alias, 1)
    assert row.policy["maxFailedAttempts"] == 3
    org.change_policy(PasswordPolicy(min_length=12, require_symbol=True), ADMIN_AUDIT)
    stack.service.store.save(org)
    models.fresh()
    row = models.org(str(org.id))
    assert row is not None and row.sequence == 2
    assert row.policy == PasswordPolicy(min_length=12, require_symbol=True).to_camel()
    assert row.change_date == iso(org.modified_on)


# --- rebuild ---


@pytest.mark.parametrize("batch_size", [1, 7, 5000])
def test_a_rebuild_reproduces_the_live_rows_whatever_its_batch_size(stack, batch_size):
    users = []
    for _ in range(2):
        user = _user(_org(stack))
        for step in _steps(user)[:9]:
            step()
            stack.service.store.save(user)
        users.append(user)
    models = stack.runtime.reads.models
    models.fresh()
    live = [(models.user(str(u.id)), models.history(str(u.id))) for u in users]
    rebuild(stack.runtime.projector, list(stack.runtime.projector.models), batch_size=batch_size)
    assert [(models.user(str(u.id)), models.history(str(u.id))) for u in users] == live
    assert [_expected_row(u) == _row(stack, u.id) for u in users] == [True, True]


# --- stored text ---


def test_stored_times_are_utc_with_z_and_microseconds_whatever_the_input():
    from datetime import timezone

    moment = datetime(2030, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert iso(moment) == "2030-01-02T03:04:05.000000Z"
    assert iso(None) is None
    assert stored_moment("2030-01-02T03:04:05+00:00") == "2030-01-02T03:04:05.000000Z"
    assert stored_moment("2030-01-02T03:04:05.000123+00:00") == "2030-01-02T03:04:05.000123Z"
    assert stored_moment("2030-01-02T05:04:05.5+02:00") == "2030-01-02T03:04:05.500000Z"
    assert stored_moment({"_type_": "datetime_iso", "_data_": moment.isoformat()}) == iso(moment)


def test_uuids_read_back_as_python_spells_them():
    value = uuid4()
    assert uuid_text(value.hex) == uuid_text(str(value)) == str(value)


def test_an_erasure_drops_the_generation_a_rebuild_kept_for_reads_in_flight(stack):
    user = _user(_org(stack))
    stack.service.store.save(user)
    projector, models = stack.runtime.projector, stack.runtime.reads.models
    models.fresh()
    rebuild(projector, list(projector.models))
    active = {c.model.name: c.generation for c in projector.active()}
    kept = [physical(t, active["users"] - 1) for t in projector.models["users"].tables]
    assert stack.runtime.read_store.query(
        f"SELECT username FROM {kept[0]} WHERE user_id = ?", (str(user.id),)
    ) == [(user.username,)]
    user.erase(ADMIN_AUDIT)
    stack.service.store.save(user)
    stack.service.store.data_keys.destroy(user.id)
    models.fresh()
    positions = stack.runtime.read_store.query("SELECT model, generation FROM rm_positions")
    assert sorted(positions) == sorted(active.items())  # one generation per model is left
    with pytest.raises(Exception, match="(?i)no such table|does not exist"):
        stack.runtime.read_store.query(f"SELECT username FROM {kept[0]}")


def test_many_keys_become_a_few_in_lists_each_key_once():
    keys = [f"k{i:04d}" for i in range(1001)]
    lists = list(in_lists(list(reversed(keys))))
    assert [len(chunk) for _, chunk in lists] == [500, 500, 1]
    assert [marks.count("?") for marks, _ in lists] == [500, 500, 1]
    assert [k for _, chunk in lists for k in chunk] == keys
