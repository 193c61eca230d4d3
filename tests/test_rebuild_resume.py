"""A rebuild killed half-way resumes, and ends with exactly the rows of a clean rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from credledger import migrations
from credledger.wiring import build_runtime
from projections.readstore import physical
from tests.conftest import POSTGRES_URL, _settings, postgres_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from rebuild_throughput import seed  # noqa: E402

EVENTS = 30_000


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_store(request, tmp_path):
    """A store of its own (the rebuild must not race the shared test store)."""
    if request.param == "sqlite":
        settings = _settings(database_url=f"sqlite:///{tmp_path}/store.db")
        env = {"CREDLEDGER_DATABASE_URL": settings.database_url}
        yield settings, env
        return
    schema = f"cl_rebuild_{uuid.uuid4().hex[:10]}"
    settings = postgres_settings(schema)
    migrations.apply(settings)
    env = {"CREDLEDGER_DATABASE_URL": POSTGRES_URL, "CREDLEDGER_DATABASE_SCHEMA": schema}
    yield settings, env
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _rows(runtime, model: str, generation: int) -> dict[str, list[tuple]]:
    tables = runtime.projector.models[model].tables
    return {
        t: sorted(runtime.read_store.query(f"SELECT * FROM {physical(t, generation)}"))
        for t in tables
    }


def _generation_progress(runtime) -> tuple[int, int]:
    rows = runtime.read_store.query(
        "SELECT MAX(p.generation), MAX(p.position) FROM rm_positions p "
        "JOIN rm_active a ON a.model = p.model WHERE p.generation > a.generation"
    )
    return int(rows[0][0] or 0), int(rows[0][1] or 0)


def test_rebuild_killed_midway_resumes_to_the_same_rows_as_a_clean_rebuild(fresh_store, tmp_path):
    settings, store_env = fresh_store
    runtime = build_runtime(settings)
    try:
        seed(runtime, EVENTS)
        head = runtime.projector.head()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
        env.update(
            store_env,
            CREDLEDGER_SECRET_KEY=settings.secret_key.get_secret_value(),
            CREDLEDGER_ARGON2_MEMORY_COST="1024",
            CREDLEDGER_ARGON2_TIME_COST="1",
        )
        command = [sys.executable, "-m", "credledger.cli", "projections", "rebuild",
                   "--batch-size", "500"]  # fmt: skip
        worker = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            generation, position = _generation_progress(runtime)
            if 0 < position < head // 2:
                break
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        generation, position = _generation_progress(runtime)
        assert 0 < position < head, "the rebuild was not caught in the middle"

        resumed = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert resumed.returncode == 0, resumed.stderr
        assert "(resumed)" in resumed.stderr
        resumed_generations = dict(
            runtime.read_store.query("SELECT model, generation FROM rm_active")
        )
        assert set(resumed_generations.values()) == {generation}

        clean = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert clean.returncode == 0, clean.stderr
        clean_generations = dict(
            runtime.read_store.query("SELECT model, generation FROM rm_active")
        )
        for model in runtime.projector.models:
            resumed_rows = _rows(runtime, model, resumed_generations[model])
            assert resumed_rows == _rows(runtime, model, clean_generations[model])
            assert any(resumed_rows.values())
    finally:
        runtime.close()
