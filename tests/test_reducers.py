"""Reducers are pure: event in, statements out, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from domain.organization import Organization
from domain.policy import PasswordPolicy
from domain.session import Session
from domain.user import User
from projections.history import HistoryModel
from projections.organizations import OrganizationsModel
from projections.users import INSERT, UPDATE, UsersModel

AUDIT = {"actor": "a", "method": "admin", "dialect": "native", "client": {"userAgent": "x"}}
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$secret-looking-hash"


def _user() -> User:
    return User(
        id=uuid4(), org_id=uuid4(), username="bob", numeric_id=7, email=None,
        full_name=None, roles=["auditor"], audit=AUDIT,
    )  # fmt: skip


def test_registration_inserts_the_user_row_with_its_details():
    user = _user()
    (registered,) = user.collect_events()
    (statement,) = UsersModel().reduce(registered, 42)
    assert statement.sql == INSERT
    assert statement.args[:7] == (
        str(user.id), str(user.org_id), "bob", '["auditor"]', None, None, 7,
    )  # fmt: skip
    assert statement.args[7] == 1 and statement.args[9] == 42


def test_a_failed_check_is_counted_and_a_lock_records_its_end():
    user = _user()
    user.collect_events()
    user.record_failed_check(1, None, AUDIT)
    failed, locked = user.collect_events()
    (count,) = UsersModel().reduce(failed, 5)
    assert count.sql == UPDATE
    # flags: new_password, change_required, new_password, at, clears, failure, locks, until,
    # unlocks, locks, unlocks, roles, removes, sequence, change_date, position, user_id
    assert count.args[4:7] == (False, True, False)
    assert count.args[-4:] == (2, count.args[-3], 5, str(user.id))
    (lock,) = UsersModel().reduce(locked, 6)
    assert lock.args[6] is True and lock.args[7] is None and lock.args[-2] == 6


def test_history_rows_never_carry_hashes_or_reset_digests():
    user = _user()
    user.set_password(HASH, False, AUDIT)
    user.upgrade_hash(HASH + "2")
    events = user.collect_events()
    statements = [
        s for position, e in enumerate(events, 1) for s in HistoryModel().reduce(e, position)
    ]
    assert statements
    assert all(HASH not in str(arg) for s in statements for arg in s.args)
    upgraded = HistoryModel().reduce(events[-1], 3)[-1]
    assert "user.password.hash.upgraded" in upgraded.args and "system" in upgraded.args


def test_session_events_are_not_credential_history_and_leave_users_alone():
    session = Session(
        id=uuid4(), user_id=uuid4(), org_id=uuid4(), generation=0,
        expires_at=datetime.now(UTC), audit=AUDIT,
    )  # fmt: skip
    (started,) = session.collect_events()
    assert HistoryModel().reduce(started, 1) == []
    assert UsersModel().reduce(started, 1) == []
    assert OrganizationsModel().reduce(started, 1) == []


def test_policy_change_rewrites_the_org_policy_in_camel_case():
    org = Organization(name="Acme", alias="acme", policy=PasswordPolicy().to_dict(), audit=AUDIT)
    org.change_policy(PasswordPolicy(min_length=12), AUDIT)
    _, changed = org.collect_events()
    (statement,) = OrganizationsModel().reduce(changed, 9)
    assert '"minLength":12' in statement.args[0]
    assert statement.args[1:] == (2, statement.args[2], 9, str(org.id))
