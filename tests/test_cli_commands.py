"""The command line: init, migrate, and serve's refusal of an unmigrated PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid

import httpx2 as httpx
import psycopg
from psycopg import sql

from tests.conftest import POSTGRES_URL

CLI = [sys.executable, "-m", "credledger.cli"]
ADMIN_PASSWORD = "Cli-bootstrap-pw-42"


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
    env.update(CREDLEDGER_ARGON2_MEMORY_COST="1024", CREDLEDGER_ARGON2_TIME_COST="1", **values)
    return env


def _run(args: list[str], env: dict[str, str], cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_init_prints_ids_once_and_refuses_to_run_twice(tmp_path):
    env = _env(CREDLEDGER_DATABASE_URL=f"sqlite:///{tmp_path}/store.db")
    args = ["init", "--org-alias", "ACME", "--org-name", "Acme", "--admin-login", "root",
            "--admin-password", ADMIN_PASSWORD]  # fmt: skip
    first = _run(args, env, str(tmp_path))
    assert first.returncode == 0, first.stderr
    ids = json.loads(first.stdout)
    assert set(ids) == {"orgId", "userId"}
    uuid.UUID(ids["orgId"])
    second = _run(args, env, str(tmp_path))
    assert second.returncode != 0
    assert "already initialized" in second.stderr


def test_migrate_is_idempotent_and_serve_refuses_an_unmigrated_database(tmp_path):
    schema = f"cl_cli_{uuid.uuid4().hex[:10]}"
    env = _env(
        CREDLEDGER_DATABASE_URL=POSTGRES_URL,
        CREDLEDGER_DATABASE_SCHEMA=schema,
        CREDLEDGER_SECRET_KEY="cli-test-secret-" + "s" * 32,
    )
    try:
        refused = _run(["serve", "--port", "1"], env, str(tmp_path))
        assert refused.returncode == 2
        assert "credledger migrate" in refused.stderr
        first = _run(["migrate"], env, str(tmp_path))
        assert first.returncode == 0, first.stderr
        assert "applied 2 migration(s)" in first.stdout
        second = _run(["migrate"], env, str(tmp_path))
        assert "applied 0 migration(s)" in second.stdout
        with psycopg.connect(POSTGRES_URL) as conn:
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema,),
                )
            }
        assert {"credledger_events", "credledger_snapshots", "rm_positions"} <= tables
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_bootstraps_and_the_admin_can_log_in(tmp_path):
    port = _free_port()
    env = _env(
        CREDLEDGER_DATABASE_URL=f"sqlite:///{tmp_path}/var/store.db",
        CREDLEDGER_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        reply = httpx.post(
            f"{base}/v1/sessions", json={"loginName": "admin", "password": ADMIN_PASSWORD}
        )
        assert reply.status_code == 201, reply.text
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert ADMIN_PASSWORD not in output
