"""Every PostgreSQL connection the process opens carries the statement timeout
(`CREDLEDGER_PG_STATEMENT_TIMEOUT`, CONTRACTS §12): the event store's pool, the read store's
(which the shared rate limiter uses too), the data keys', and the leader's and the listener's
own sessions. The leader's idle lock session outlives it: a timeout cancels statements, and a
session holding a lock runs none."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from credledger.settings import Settings
from credledger.wiring import Runtime, build_runtime, pg_conninfo
from storage.leadership import DatabaseLeadership
from tests.conftest import own_store

pytestmark = pytest.mark.postgres

TIMEOUT = 1.0
SLEEP = "SELECT pg_sleep(4)"


@pytest.fixture
def timed(tmp_path) -> Iterator[tuple[Settings, Runtime]]:
    with own_store("postgres", tmp_path, "cl_timeout") as (settings, _):
        settings = settings.model_copy(update={"pg_statement_timeout": TIMEOUT})
        runtime = build_runtime(settings)
        try:
            yield settings, runtime
        finally:
            runtime.close()


def _cancelled_after(run: Callable[[], object]) -> float:
    started = time.monotonic()
    with pytest.raises((psycopg.errors.QueryCanceled, OperationalError)) as caught:
        run()
    assert "statement timeout" in str(caught.value)
    return time.monotonic() - started


def _own_session(settings: Settings, role: str) -> object:
    with psycopg.connect(**pg_conninfo(settings, role), autocommit=True) as conn:
        return conn.execute(SLEEP).fetchall()


def _event_store(runtime: Runtime) -> object:
    datastore = runtime.service.store.recorder.datastore  # type: ignore[attr-defined]
    with datastore.get_connection() as conn:
        return conn.execute(SLEEP).fetchall()


def test_every_kind_of_connection_cancels_a_statement_after_the_timeout(timed):
    settings, runtime = timed
    data_keys = runtime.service.store.data_keys.table.store  # type: ignore[attr-defined]
    kinds: dict[str, Callable[[], object]] = {
        "event store pool": lambda: _event_store(runtime),
        "read store pool (and the rate limiter)": lambda: runtime.read_store.query(SLEEP),
        "data keys pool": lambda: data_keys.query(SLEEP),
        "leader session": lambda: _own_session(settings, "lead"),
        "listen session": lambda: _own_session(settings, "listen"),
    }
    for kind, run in kinds.items():
        seconds = _cancelled_after(run)
        assert TIMEOUT <= seconds < TIMEOUT + 1.5, (kind, seconds)


def test_an_idle_leader_keeps_its_lock_past_the_statement_timeout(timed):
    settings, _ = timed
    leader = DatabaseLeadership(pg_conninfo(settings, "lead"), settings.database_schema)
    rival = DatabaseLeadership(pg_conninfo(settings, "lead"), settings.database_schema)
    try:
        assert leader.hold()
        time.sleep(TIMEOUT * 2)  # idle, holding the lock
        assert leader.hold()
        assert not rival.hold()
    finally:
        leader.release()
        rival.release()
