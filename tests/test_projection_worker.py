"""The projection worker alone keeps read models current, and survives lost connections."""

from __future__ import annotations

import time

import psycopg
import pytest

from service.context import RequestContext
from tests.conftest import ADMIN_PASSWORD, POSTGRES_URL


def _wait_caught_up(projector, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if projector.position() >= projector.head():
            return True
        time.sleep(0.02)
    return False


def _write_something(service) -> None:
    ctx = RequestContext()
    grant = service.start_session("admin", ADMIN_PASSWORD, ctx)
    service.end_session(service.authenticate(grant.token), ctx)


def test_worker_projects_new_events_without_any_reader(stack):
    projector = stack.runtime.projector
    projector.catch_up()
    worker = stack.runtime.worker()
    worker.start()
    try:
        before = projector.position()
        _write_something(stack.service)
        assert projector.head() > before
        assert _wait_caught_up(projector)  # nothing but the worker moved it
    finally:
        worker.stop()


@pytest.mark.postgres
def test_worker_reconnects_after_its_connections_are_killed(postgres_stack):
    stack = postgres_stack
    projector = stack.runtime.projector
    worker = stack.runtime.worker()
    worker.start()
    try:
        _write_something(stack.service)
        assert _wait_caught_up(projector)
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name IN (%s, %s)",
                (f"credledger-reads:{stack.schema}", f"credledger-listen:{stack.schema}"),
            ).fetchall()
        assert len(killed) >= 2  # the listener and at least one pooled read connection
        _write_something(stack.service)
        assert _wait_caught_up(projector, timeout=20)
    finally:
        worker.stop()


def test_external_mode_readers_wait_for_the_worker_instead_of_projecting(stack):
    from projections.queries import ReadModels

    external = ReadModels(stack.runtime.read_store, stack.runtime.projector, in_process=False)
    stack.runtime.projector.catch_up()
    _write_something(stack.service)
    assert external.fresh(timeout=0.2) is False  # no worker: nobody projects for the reader
    worker = stack.runtime.worker()
    worker.start()
    try:
        assert external.fresh(timeout=10) is True
    finally:
        worker.stop()
