"""The projection worker alone keeps read models current, wakes on PostgreSQL notifications,
survives killed connections; a rebuild killed half-way resumes to a clean rebuild's rows."""

from __future__ import annotations

import dataclasses
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from credledger.bootstrap import bootstrap
from credledger.wiring import build_runtime
from domain.errors import InvalidCredentials
from domain.policy import PasswordPolicy
from projections import runner
from projections.queries import ReadModels
from projections.readstore import physical
from projections.verify import verify
from service.context import RequestContext
from tests.conftest import (
    ADMIN_PASSWORD,
    POSTGRES_URL,
    own_store,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from rebuild_throughput import seed  # noqa: E402

PASSWORD = "violet-Lantern-42-harbor"
CTX = RequestContext("native", {"userAgent": "worker-test"})


def _eventually(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _caught_up(projector, timeout: float = 5.0) -> bool:
    return _eventually(lambda: projector.position() >= projector.head(), timeout)


def _write_user(service) -> tuple[str, str]:
    """An org and a user with one failed login, through the service; returns their ids."""
    admin = service.authenticate(service.start_session("admin", ADMIN_PASSWORD, CTX).token)
    alias = f"wk-{uuid.uuid4().hex[:10]}"
    org = service.register_org(admin, "Worker", alias, PasswordPolicy(max_failed_attempts=3), CTX)
    user = service.register_user(admin, org.id, "walt", PASSWORD, None, None, [], False, CTX)
    with pytest.raises(InvalidCredentials):
        service.start_session(f"walt@{alias}", "Wrong-password-1", CTX)
    return str(org.id), str(user.id)


def _shows(models: ReadModels, org_id: str, user_id: str) -> bool:
    row = models.user(user_id)
    return row is not None and row.failed_attempts == 1 and models.org(org_id) is not None


class _Running:
    """A worker of the stack's runtime, started and always stopped (and unhooked)."""

    def __init__(self, stack, runtime=None) -> None:
        self.stack = stack
        self.worker = (runtime or stack.runtime).worker()

    def __enter__(self):
        self.worker.start()
        return self.worker

    def __exit__(self, *_: object) -> None:
        self.worker.stop()
        self.stack.service.store.after_save.remove(self.worker.wake)
        assert not self.worker._thread.is_alive()


def test_the_worker_alone_projects_writes_made_through_the_service(stack):
    projector = stack.runtime.projector
    external = ReadModels(stack.runtime.read_store, projector, in_process=False)
    projector.catch_up()
    org_id, user_id = _write_user(stack.service)
    assert projector.position() < projector.head()  # a write projects nothing by itself
    assert external.user(user_id) is None
    with _Running(stack):
        assert _caught_up(projector)
        assert _shows(external, org_id, user_id)
        later_org, later_user = _write_user(stack.service)  # woken by the write
        assert _caught_up(projector)
        assert _shows(external, later_org, later_user)
    _, stopped_user = _write_user(stack.service)
    time.sleep(2 * runner.POLL_SECONDS)
    assert projector.position() < projector.head()  # nobody else was projecting
    assert external.user(stopped_user) is None
    projector.catch_up()


def test_the_worker_integrates_the_ledger_too(stack):
    log = stack.runtime.ledger.log
    log.catch_up()
    _write_user(stack.service)
    assert log.head().position < log.events_head()  # a write integrates nothing by itself
    with _Running(stack):
        assert _eventually(lambda: log.head().position >= log.events_head(), 5)


def test_without_background_integration_a_checkpoint_integrates_on_demand(stack):
    settings = stack.settings.model_copy(update={"ledger_background": False})
    on_demand = dataclasses.replace(stack.runtime, settings=settings)
    log = stack.runtime.ledger.log
    with _Running(stack, on_demand):
        _write_user(stack.service)
        assert _caught_up(stack.runtime.projector)
        time.sleep(2 * runner.POLL_SECONDS)
        assert log.head().position < log.events_head()  # the worker left the ledger alone
    kept = stack.runtime.ledger.signed_checkpoint()
    assert kept.size == log.head().size and log.head().position == log.events_head()


def test_external_readers_wait_for_the_worker_instead_of_projecting(stack):
    projector = stack.runtime.projector
    external = ReadModels(stack.runtime.read_store, projector, in_process=False)
    projector.catch_up()
    org_id, user_id = _write_user(stack.service)
    assert external.fresh(timeout=0.3) is False  # no worker: the reader does not project
    assert projector.position() < projector.head()
    with _Running(stack):
        assert external.fresh(timeout=5) is True
        assert _shows(external, org_id, user_id)


def test_the_worker_picks_up_writes_of_another_process_on_its_own(stack):
    """Another service on the same store has no hook into this worker: it must find them."""
    projector = stack.runtime.projector
    other = stack.another_service()
    try:
        with _Running(stack):
            assert _caught_up(projector)
            org_id, user_id = _write_user(other)
            assert _caught_up(projector)
            assert _shows(stack.runtime.reads.models, org_id, user_id)
    finally:
        other.store.close()


# --- PostgreSQL: LISTEN/NOTIFY and lost connections ---


def _backends(stack) -> list[tuple[int, str, str]]:
    """(pid, application_name, query) of this stack's own read-store and listener sessions."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        return conn.execute(
            "SELECT pid, application_name, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name IN (%s, %s)",
            (f"credledger-reads:{stack.schema}"[:63], f"credledger-listen:{stack.schema}"[:63]),
        ).fetchall()


def _listening(stack) -> set[int]:
    return {pid for pid, name, query in _backends(stack) if query.upper().startswith("LISTEN")}


def _notify(stack) -> None:
    channel = stack.service.store.recorder.channel_name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_notify(%s, '')", (channel,))


@pytest.mark.postgres
def test_on_postgres_the_worker_wakes_on_notify_not_on_its_poll(postgres_stack, monkeypatch):
    stack = postgres_stack
    projector = stack.runtime.projector
    other = stack.another_service()
    monkeypatch.setattr(runner, "POLL_SECONDS", 60.0)  # only a notification can wake it now
    try:
        with _Running(stack):
            assert _eventually(lambda: bool(_listening(stack)), 5)
            assert _caught_up(projector)
            started = time.monotonic()
            org_id, user_id = _write_user(other)  # no in-process wake: NOTIFY only
            assert _caught_up(projector, timeout=5)
            assert time.monotonic() - started < 10
            assert _shows(stack.runtime.reads.models, org_id, user_id)
            monkeypatch.setattr(runner, "POLL_SECONDS", 0.5)
            _notify(stack)  # ends the long wait, so the worker stops promptly
    finally:
        other.store.close()


@pytest.mark.postgres
def test_on_postgres_the_worker_reconnects_after_its_connections_are_killed(
    postgres_stack, monkeypatch
):
    stack = postgres_stack
    projector = stack.runtime.projector
    other = stack.another_service()
    monkeypatch.setattr(runner, "POLL_SECONDS", 60.0)
    try:
        with _Running(stack):
            assert _eventually(lambda: bool(_listening(stack)), 5)
            _write_user(stack.service)
            assert _caught_up(projector)
            victims = _backends(stack)
            names = {name.split(":")[0] for _, name, _ in victims}
            assert names == {"credledger-reads", "credledger-listen"}
            old_listeners = _listening(stack)
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                for pid, _, _ in victims:
                    conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            assert _eventually(lambda: not ({pid for pid, _, _ in victims} & {
                pid for pid, _, _ in _backends(stack)}), 5)  # fmt: skip
            # A new LISTEN session replaces the killed one...
            assert _eventually(lambda: bool(_listening(stack) - old_listeners), 10)
            # ... and a write elsewhere wakes it and is projected through a fresh pool.
            org_id, user_id = _write_user(other)
            assert _caught_up(projector, timeout=10)
            assert _shows(ReadModels(stack.runtime.read_store, projector, False), org_id, user_id)
            monkeypatch.setattr(runner, "POLL_SECONDS", 0.5)
            _notify(stack)
    finally:
        other.store.close()


# --- a rebuild killed in the middle ---

EVENTS = 30_000
CLI = [sys.executable, "-m", "credledger.cli"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_store(request, tmp_path):
    """A store of its own (a rebuild must not race the shared test store); env for the CLI."""
    with own_store(request.param, tmp_path, "cl_worker") as (settings, env):
        runtime = build_runtime(settings)
        try:
            yield runtime, env
        finally:
            runtime.close()


def _active(runtime) -> dict[str, int]:
    return dict(runtime.read_store.query("SELECT model, generation FROM rm_active"))


def _positions(runtime) -> dict[tuple[str, int], int]:
    rows = runtime.read_store.query("SELECT model, generation, position FROM rm_positions")
    return {(m, int(g)): int(p) for m, g, p in rows}


def _rows(runtime, generation_of: dict[str, int]) -> dict[str, list[tuple]]:
    """Every row of every table of every model, sorted, for the given generations."""
    out = {}
    for name, model in runtime.projector.models.items():
        for table in model.tables:
            physical_name = physical(table, generation_of[name])
            out[table] = sorted(runtime.read_store.query(f"SELECT * FROM {physical_name}"))
    return out


def _tables(runtime) -> set[str]:
    if runtime.read_store.kind == "sqlite":
        rows = runtime.read_store.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = runtime.read_store.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    return {r[0] for r in rows}


def test_a_rebuild_killed_midway_resumes_to_exactly_the_rows_of_a_clean_rebuild(
    fresh_store, tmp_path
):
    runtime, env = fresh_store
    bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)  # orgs, indexes, an instance
    _write_user(runtime.service)  # sessions and a failure among the notifications
    seed(runtime, EVENTS)
    head = runtime.projector.head()
    assert head > EVENTS
    runtime.projector.catch_up()  # generation 1: projected incrementally, batch by batch
    live = _active(runtime)
    assert set(live.values()) == {1}
    incremental = _rows(runtime, live)
    assert len(incremental["users"]) > EVENTS // 50

    rebuild = [*CLI, "projections", "rebuild", "--batch-size", "500"]
    killed = subprocess.Popen(rebuild, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)

    def midway() -> bool:
        new = [p for (m, g), p in _positions(runtime).items() if g > live[m]]
        return bool(new) and 0 < max(new) < head

    caught = _eventually(midway, 60)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert caught, "the rebuild was never seen in the middle"
    assert killed.returncode == -signal.SIGKILL
    halfway = {k: p for k, p in _positions(runtime).items() if k[1] == 2}
    assert set(halfway) == {(m, 2) for m in runtime.projector.models}
    assert 0 < max(halfway.values()) < head, halfway
    assert _active(runtime) == live  # readers never saw the half-built generation
    assert _rows(runtime, live) == incremental

    resumed = subprocess.run(rebuild, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "(resumed)" in resumed.stderr
    consumed = int(re.search(r"generation 2, (\d+) events", resumed.stderr).group(1))
    assert 0 < consumed < head  # it went on from where it stopped, not from the start
    assert _active(runtime) == dict.fromkeys(runtime.projector.models, 2)
    assert all(_positions(runtime)[(m, 2)] == head for m in runtime.projector.models)
    resumed_rows = _rows(runtime, _active(runtime))
    assert resumed_rows == incremental

    clean = subprocess.run(rebuild, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    assert "(resumed)" not in clean.stderr
    assert _active(runtime) == dict.fromkeys(runtime.projector.models, 3)
    assert _rows(runtime, _active(runtime)) == resumed_rows
    # The generation before the live one is kept for reads in flight; older ones are dropped.
    tables = _tables(runtime)
    assert {"rm_users_g2", "rm_users_g3", "rm_history_g3", "rm_orgs_g3"} <= tables
    assert not {"rm_users_g1", "rm_orgs_g1", "rm_history_g1"} & tables
    report = verify(runtime.projector, runtime.reads.models)
    assert report.drift == []
    assert report.users == len(resumed_rows["users"])


def test_a_broken_ledger_does_not_stall_the_read_models(fresh_store):
    runtime, _ = fresh_store
    bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
    with runtime.read_store.transaction() as tx:  # a head that claims leaves it does not have
        tx.execute("UPDATE ledger_head SET tree_size = 3, position = 3")
    worker = runtime.worker()
    worker.start()
    try:
        assert _caught_up(runtime.projector)
        time.sleep(3)  # the ledger keeps failing; its retries are now seconds apart
        org_id, user_id = _write_user(runtime.service)
        assert _caught_up(runtime.projector, timeout=1.0)  # the read models did not wait
        assert _shows(runtime.reads.models, org_id, user_id)
        assert runtime.ledger.log.head().size == 3  # the ledger could not move, and said so
    finally:
        worker.stop()
        runtime.service.store.after_save.remove(worker.wake)
