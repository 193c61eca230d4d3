"""`verify` finds zero drift after thousands of random commands, and finds planted drift."""

from __future__ import annotations

import random
from uuid import UUID

from domain.errors import DomainError
from domain.policy import PasswordPolicy
from projections.readstore import physical
from projections.verify import verify
from service.context import Actor, RequestContext
from tests.conftest import ADMIN_PASSWORD

COMMANDS = 2500
PASSWORDS = [
    f"Scenario-pass-{n}-{word}" for n, word in enumerate("amber birch cedar delta".split())
]


def _admin(service) -> Actor:
    grant = service.start_session("admin", ADMIN_PASSWORD, RequestContext())
    return service.authenticate(grant.token)


def _run_scenario(stack, seed: int) -> tuple[UUID, list[UUID]]:
    service, rng, ctx = stack.service, random.Random(seed), RequestContext("native", {"t": "v"})
    admin = _admin(service)
    policy = PasswordPolicy(max_failed_attempts=3, lockout_minutes=1, history_count=2)
    org = service.register_org(admin, "Scenario", f"scn-{seed}-{rng.randrange(10**9)}", policy, ctx)
    alias = service.org(org.id).alias
    users: list[UUID] = []
    for n in range(40):
        created = service.register_user(
            admin, org.id, f"u{n}", PASSWORDS[0], None, None, [], False, ctx
        )
        users.append(created.id)
    current = dict.fromkeys(users, PASSWORDS[0])
    for _ in range(COMMANDS):
        user_id = rng.choice(users)
        name = f"u{users.index(user_id)}@{alias}"
        action = rng.random()
        try:
            if action < 0.35:
                password = current[user_id] if rng.random() < 0.5 else "Wrong-password-99"
                service.start_session(name, password, ctx)
            elif action < 0.5:
                new = rng.choice(PASSWORDS)
                finder = service.user_finder(user_id)
                given = current[user_id] if rng.random() < 0.7 else "Wrong-password-98"
                service.change_own_password(finder, given, new, False, ctx)
                current[user_id] = new
            elif action < 0.6:
                new = rng.choice(PASSWORDS)
                service.set_password(admin, user_id, new, rng.random() < 0.3, ctx)
                current[user_id] = new
            elif action < 0.7:
                grant = service.request_reset(admin, user_id, "return", ctx)
                code = grant.code if rng.random() < 0.8 else "WRONG1"
                new = rng.choice(PASSWORDS)
                service.complete_reset_with_code(user_id, code or "", new, ctx)
                current[user_id] = new
            elif action < 0.8:
                service.unlock(admin, user_id, ctx)
            elif action < 0.83:
                changed = PasswordPolicy(
                    max_failed_attempts=rng.choice([0, 2, 3]), lockout_minutes=rng.choice([0, 1])
                )
                service.update_policy(admin, org.id, changed, ctx)
            elif action < 0.84 and len(users) > 10:
                service.remove_user(admin, user_id, ctx)
                users.remove(user_id)
            else:
                stack.clock.advance(seconds=rng.choice([5, 30, 90]))
        except DomainError:
            pass  # refusals (wrong password, lock, policy) are outcomes too
    return org.id, users


def test_verify_reports_no_drift_after_thousands_of_random_commands(stack):
    org_id, _ = _run_scenario(stack, seed=7)
    report = verify(stack.runtime.projector, stack.runtime.reads.models)
    assert report.drift == []
    assert report.users >= 40
    types = {row.type for row in stack.runtime.reads.models.feed(0, 1000000, str(org_id))}
    # The scenario really exercised locks, unlocks, resets, rehash-free changes and removals.
    assert {
        "user.locked", "user.unlocked", "user.password.check.failed",
        "user.password.reset.completed", "user.password.reset.failed",
        "user.password.changed", "user.password.set", "user.removed", "org.policy.changed",
    } <= types  # fmt: skip


def test_verify_reports_a_tampered_read_model_row(stack):
    org_id, users = _run_scenario(stack, seed=11)
    victim = users[0]
    verify(stack.runtime.projector, stack.runtime.reads.models)  # caught up, clean
    generation = dict(stack.runtime.read_store.query("SELECT model, generation FROM rm_active"))
    with stack.runtime.read_store.transaction() as tx:
        tx.execute(
            f"UPDATE {physical('users', generation['users'])} SET failed_attempts = 99 "
            f"WHERE user_id = ?",
            (str(victim),),
        )
    report = verify(stack.runtime.projector, stack.runtime.reads.models)
    assert len(report.drift) == 1
    assert str(victim) in report.drift[0] and "failed_attempts is 99" in report.drift[0]
    with stack.runtime.read_store.transaction() as tx:  # leave the shared store clean
        real = stack.service.store.repository.get(victim).failed_attempts
        tx.execute(
            f"UPDATE {physical('users', generation['users'])} SET failed_attempts = ? "
            f"WHERE user_id = ?",
            (real, str(victim)),
        )
