"""`verify` replays every aggregate and finds no drift after thousands of random commands, and
finds exactly the drift planted in a read-model row (also as `credledger verify`'s exit code)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import pytest

from credledger.bootstrap import bootstrap
from credledger.wiring import build_runtime
from domain.errors import DomainError
from domain.policy import PasswordPolicy
from projections.readstore import physical
from projections.verify import verify
from service.context import Actor, RequestContext
from tests.conftest import ADMIN_PASSWORD, CIPHER_ENV, _settings
from tests.conftest import TestClock as Clock

COMMANDS = 2500
USERS = 40
REUSED = ["Scenario-pass-amber", "Scenario-pass-birch", "Scenario-pass-cedar"]
WRONG = "Wrong-password-99"
SCENARIO_POLICY = PasswordPolicy(max_failed_attempts=3, lockout_minutes=1, history_count=2)


@dataclass
class Scenario:
    org_id: UUID
    alias: str
    users: dict[UUID, str]  # live user id -> username
    removed: list[UUID] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)

    @property
    def every_user(self) -> set[UUID]:
        return set(self.users) | set(self.removed)


def _admin(service) -> Actor:
    grant = service.start_session("admin", ADMIN_PASSWORD, RequestContext())
    return service.authenticate(grant.token)


def _new_password(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(REUSED)  # sometimes refused as same-as-current or reused
    return f"Scn-{rng.randrange(10**8):08d}-Kite"


def run_scenario(service, clock, seed: int, commands: int = COMMANDS, users: int = USERS):
    """Random commands against one fresh org; refusals are outcomes, not failures."""
    rng = random.Random(seed)
    ctx = RequestContext("native", {"userAgent": f"scenario-{seed}"})
    admin = _admin(service)
    alias = f"vfy-{seed}-{rng.randrange(16**8):08x}"
    org = service.register_org(admin, "Verify scenario", alias, SCENARIO_POLICY, ctx)
    scenario = Scenario(org.id, alias, {})
    current: dict[UUID, str] = {}
    freed: list[str] = []

    def register(username: str) -> None:
        created = service.register_user(
            admin, org.id, username, REUSED[0], None, None, [], False, ctx
        )
        scenario.users[created.id] = username
        current[created.id] = REUSED[0]

    for n in range(users):
        register(f"u{n}")
    for _ in range(commands):
        user_id = rng.choice(sorted(scenario.users))
        name = f"{scenario.users[user_id]}@{alias}"
        action = rng.random()
        try:
            if action < 0.30:
                kind = "login ok" if rng.random() < 0.5 else "login wrong"
                service.start_session(name, current[user_id] if kind == "login ok" else WRONG, ctx)
            elif action < 0.42:
                kind = "own change" if rng.random() < 0.7 else "own change wrong"
                given = current[user_id] if kind == "own change" else WRONG
                new = _new_password(rng)
                service.change_own_password(service.user_finder(user_id), given, new, False, ctx)
                current[user_id] = new
            elif action < 0.50:
                kind, new = "admin set", _new_password(rng)
                service.set_password(admin, user_id, new, rng.random() < 0.3, ctx)
                current[user_id] = new
            elif action < 0.60:
                grant = service.request_reset(admin, user_id, "return", ctx)
                new, roll = _new_password(rng), rng.random()
                if roll < 0.15:
                    kind = "reset token"
                    service.complete_reset_with_token(grant.token or "", new, ctx)
                else:
                    kind = "reset code" if roll < 0.8 else "reset wrong code"
                    code = grant.code if kind == "reset code" else "WRONG1"
                    service.complete_reset_with_code(user_id, code or "", new, ctx)
                current[user_id] = new
            elif action < 0.68:
                kind = "unlock"
                service.unlock(admin, user_id, ctx)
            elif action < 0.70:
                kind = "policy"
                policy = PasswordPolicy(
                    max_failed_attempts=rng.choice([0, 2, 3, 3]),
                    lockout_minutes=rng.choice([0, 1, 1]),
                    history_count=rng.choice([0, 1, 2]),
                )
                service.update_policy(admin, org.id, policy, ctx)
            elif action < 0.72 and len(scenario.users) > USERS // 2:
                kind = "remove"
                service.remove_user(admin, user_id, ctx)
                freed.append(scenario.users.pop(user_id))
                scenario.removed.append(user_id)
            elif action < 0.74 and freed:
                kind = "register a freed username"
                register(freed.pop(0))
            else:
                kind = "clock"
                clock.advance(seconds=rng.choice([5, 30, 61, 90]))
            scenario.outcomes[kind] += 1
        except DomainError as refused:
            scenario.outcomes[type(refused).__name__] += 1
    return scenario


def _active_generation(runtime, model: str) -> int:
    return dict(runtime.read_store.query("SELECT model, generation FROM rm_active"))[model]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def played(request):
    """The scenario, played once per store; the stack's clock is reset afterwards."""
    stack = request.getfixturevalue(f"{request.param}_stack")
    try:
        scenario = run_scenario(stack.service, stack.clock, seed=20240607)
        assert stack.runtime.reads.models.fresh()  # tests read the tables directly
        yield stack, scenario
    finally:
        stack.clock.offset = timedelta()


def test_verify_finds_no_drift_after_thousands_of_random_commands(played):
    stack, scenario = played
    report = verify(stack.runtime.projector, stack.runtime.reads.models)
    assert report.drift == []
    table = physical("users", _active_generation(stack.runtime, "users"))
    rows = stack.runtime.read_store.query(f"SELECT user_id FROM {table}")
    assert report.users == len(rows) >= len(scenario.every_user) > USERS
    in_org = stack.runtime.read_store.query(
        f"SELECT user_id FROM {table} WHERE org_id = ?", (str(scenario.org_id),)
    )
    assert {UUID(r[0]) for r in in_org} == scenario.every_user
    assert report.history_rows > 0 and report.orgs >= 2
    # The scenario really went through locks, refusals, resets, removals and re-registrations.
    kinds = {row.type for row in stack.runtime.reads.models.feed(0, 10**9, str(scenario.org_id))}
    assert {
        "user.registered", "user.password.set", "user.password.changed",
        "user.password.check.failed", "user.password.check.succeeded", "user.locked",
        "user.unlocked", "user.password.reset.requested", "user.password.reset.completed",
        "user.password.reset.failed", "user.sessions.revoked", "user.removed",
        "org.registered", "org.policy.changed",
    } <= kinds  # fmt: skip
    assert {
        "AccountLocked", "InvalidCredentials", "PasswordPolicyViolation", "ResetCodeInvalid",
        "register a freed username", "clock", "reset token",
    } <= set(scenario.outcomes)  # fmt: skip


def test_verify_reports_exactly_a_tampered_user_row(played):
    stack, scenario = played
    runtime = stack.runtime
    victim = sorted(scenario.users)[0]
    real = runtime.service.store.repository.get(victim).failed_attempts
    assert verify(runtime.projector, runtime.reads.models).drift == []
    table = physical("users", _active_generation(runtime, "users"))
    update = f"UPDATE {table} SET failed_attempts = ? WHERE user_id = ?"
    with runtime.read_store.transaction() as tx:
        tx.execute(update, (99, str(victim)))
    try:
        drift = verify(runtime.projector, runtime.reads.models).drift
        assert drift == [f"user {victim}: failed_attempts is 99, replay says {real}"]
    finally:
        with runtime.read_store.transaction() as tx:  # leave the shared store clean
            tx.execute(update, (real, str(victim)))
    assert verify(runtime.projector, runtime.reads.models).drift == []


def test_verify_reports_exactly_a_missing_history_row(played):
    stack, scenario = played
    runtime = stack.runtime
    victim = str(sorted(scenario.users)[-1])
    table = physical("history", _active_generation(runtime, "history"))
    rows = runtime.read_store.query(
        f"SELECT * FROM {table} WHERE user_id = ? ORDER BY position", (victim,)
    )
    positions = [int(r[0]) for r in rows]
    gone = rows[1]
    with runtime.read_store.transaction() as tx:
        tx.execute(f"DELETE FROM {table} WHERE position = ?", (gone[0],))
    try:
        drift = verify(runtime.projector, runtime.reads.models).drift
        kept = [p for p in positions if p != int(gone[0])]
        assert drift == [
            f"history of {victim}: positions {kept} in the read model, "
            f"{positions} in the event store"
        ]
    finally:
        marks = ", ".join("?" * len(gone))
        with runtime.read_store.transaction() as tx:
            tx.execute(f"INSERT INTO {table} VALUES ({marks})", gone)
    assert verify(runtime.projector, runtime.reads.models).drift == []


def test_verify_reports_a_history_row_whose_audit_was_rewritten(played):
    """The history is what auditors rely on: a row naming another actor than its event is drift."""
    stack, scenario = played
    runtime = stack.runtime
    victim = str(sorted(scenario.users)[1])
    table = physical("history", _active_generation(runtime, "history"))
    position, actor = runtime.read_store.query(
        f"SELECT position, actor FROM {table} WHERE user_id = ? ORDER BY position", (victim,)
    )[0]
    update = f"UPDATE {table} SET actor = ? WHERE position = ?"
    with runtime.read_store.transaction() as tx:
        tx.execute(update, ("someone-else", position))
    try:
        drift = verify(runtime.projector, runtime.reads.models).drift
        assert len(drift) == 1, drift
        assert str(position) in drift[0] and "someone-else" in drift[0]
    finally:
        with runtime.read_store.transaction() as tx:
            tx.execute(update, (actor, position))
    assert verify(runtime.projector, runtime.reads.models).drift == []


def _verify_cli(env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credledger.cli", "verify"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_verify_command_exits_0_on_a_clean_store_and_1_on_drift(tmp_path):
    settings = _settings(database_url=f"sqlite:///{tmp_path}/store.db")
    runtime = build_runtime(settings, clock=Clock())
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
    env.update(
        CREDLEDGER_DATABASE_URL=settings.database_url,
        CREDLEDGER_SECRET_KEY=settings.secret_key.get_secret_value(),
        CREDLEDGER_ARGON2_MEMORY_COST="1024",
        CREDLEDGER_ARGON2_TIME_COST="1",
        **CIPHER_ENV,
    )
    try:
        bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
        scenario = run_scenario(runtime.service, runtime.reads.clock, seed=5, commands=300, users=8)
        runtime.projector.catch_up()
        users = len(scenario.every_user) + 1  # + the instance admin

        clean = _verify_cli(env, tmp_path)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "drift:" not in clean.stdout
        assert f"verified {users} users, 2 organizations" in clean.stdout
        assert clean.stdout.rstrip().endswith(": 0 drifting")

        victim = sorted(scenario.users)[0]
        real = runtime.service.store.repository.get(victim).failed_attempts
        table = physical("users", _active_generation(runtime, "users"))
        with runtime.read_store.transaction() as tx:
            tx.execute(f"UPDATE {table} SET failed_attempts = 99 WHERE user_id = ?", (str(victim),))
        tampered = _verify_cli(env, tmp_path)
        assert tampered.returncode == 1, tampered.stdout + tampered.stderr
        assert tampered.stdout.splitlines() == [
            f"drift: user {victim}: failed_attempts is 99, replay says {real}",
            tampered.stdout.splitlines()[-1],
        ]
        assert tampered.stdout.rstrip().endswith(": 1 drifting")
    finally:
        runtime.close()
