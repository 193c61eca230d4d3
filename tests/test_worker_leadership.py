"""Exactly one projection worker per deployment (CONTRACTS §8): of two processes' workers
over one store, one leads and the other stands by; reads in the standby's process wait for
the leader instead of projecting; when the leader stops, the standby takes over."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from credledger.bootstrap import bootstrap
from credledger.wiring import Runtime, build_runtime
from service.context import RequestContext
from tests.conftest import ADMIN_PASSWORD, own_store
from tests.test_projection_worker import _eventually

CTX = RequestContext("native", {"userAgent": "leadership-test"})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_processes(request, tmp_path) -> Iterator[tuple[Runtime, Runtime]]:
    """Two runtimes over one store, as two server processes would build them."""
    with own_store(request.param, tmp_path, "cl_lead") as (settings, _):
        first, second = build_runtime(settings), build_runtime(settings)
        try:
            bootstrap(first.service, admin_password=ADMIN_PASSWORD)
            yield first, second
        finally:
            first.close()
            second.close()


def _register(runtime: Runtime) -> str:
    service = runtime.service
    admin = service.authenticate(service.start_session("admin", ADMIN_PASSWORD, CTX).token)
    org_id = service.instance().default_org_id  # type: ignore[union-attr]
    name = f"lead-{uuid.uuid4().hex[:8]}"
    user = service.register_user(
        admin, org_id, name, "violet-Lantern-42-harbor", None, None, [], False, CTX
    )
    return str(user.id)


def test_one_worker_leads_the_other_stands_by_and_takes_over(two_processes):
    first, second = two_processes
    leader, standby = first.worker(), second.worker()
    leader.start()
    try:
        assert _eventually(lambda: leader.leading, timeout=10)
        standby.start()
        try:
            time.sleep(1.5)  # more than a standby's retry interval
            assert leader.leading and standby.standing_by

            # A write served by the standby's process is read there fresh: the leader,
            # in the other process, projected it.
            user_id = _register(second)
            assert second.reads.models.fresh()
            assert second.reads.models.user(user_id) is not None

            leader.stop()
            assert _eventually(lambda: standby.leading, timeout=5)
            user_id = _register(first)
            assert second.reads.models.fresh()
            assert second.reads.models.user(user_id) is not None
            assert not leader.standing_by  # stopped: its process's reads catch up again
        finally:
            standby.stop()
    finally:
        leader.stop()
