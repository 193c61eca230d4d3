"""Round trips per read: the SQL statements one `GET /v1/users/{id}` sends, on each store.

Builds the service in this process on a store of its own (SQLite file; PostgreSQL schema,
migrated and dropped after), with the projection worker running as `credledger serve` runs
it, creates a user, logs it in, reads it once to warm the caches, then counts what the next
reads send: every statement a psycopg cursor sends and every command (BEGIN, COMMIT, the
pool's liveness check) on PostgreSQL, every statement SQLite traces. Prints the count per
read and the statements of one read. Usage:

    .venv/bin/python bench/read_round_trips.py [--store both] [--reads 20]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from psycopg import _connection_base, _cursor_base, sql
from rebuild_throughput import BENCH_SETTINGS, POSTGRES_URL

from api.app import create_app
from credledger import migrations
from credledger.bootstrap import bootstrap
from credledger.settings import Settings
from credledger.wiring import build_runtime

ADMIN = "Bench-chief-Quartz-4821"
PASSWORD = "amber-Compass-77-meadow"
SENT: list[str] = []  # every statement, while counting
_counting = threading.Event()


def _record(text: Any) -> None:
    if _counting.is_set():
        sent = str(text, "utf-8") if isinstance(text, bytes) else str(text)
        SENT.append(" ".join(sent.split()))


def _install_counters() -> None:
    """Wraps psycopg's send paths and gives every new SQLite connection a trace callback."""
    execute_send = _cursor_base.BaseCursor._execute_send
    send_prepared = _cursor_base.BaseCursor._send_query_prepared
    exec_command = _connection_base.BaseConnection._exec_command

    def counted_send(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        _record(query.query)
        return execute_send(self, query, *args, **kwargs)

    def counted_prepared(self: Any, name: bytes, query: Any, *args: Any, **kwargs: Any) -> Any:
        _record(query.query)  # a statement psycopg prepared after its fifth run
        return send_prepared(self, name, query, *args, **kwargs)

    def counted_command(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        _record(command if isinstance(command, bytes | str) else command.as_string(self))
        return exec_command(self, command, *args, **kwargs)

    _cursor_base.BaseCursor._execute_send = counted_send  # type: ignore[method-assign]
    _cursor_base.BaseCursor._send_query_prepared = counted_prepared  # type: ignore[method-assign]
    _connection_base.BaseConnection._exec_command = counted_command  # type: ignore[method-assign]
    connect: Callable[..., sqlite3.Connection] = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(_record)
        return conn

    sqlite3.connect = traced  # type: ignore[assignment]


@contextmanager
def store(kind: str, folder: Path) -> Iterator[Settings]:
    if kind == "sqlite":
        yield Settings(database_url=f"sqlite:///{folder}/{uuid.uuid4().hex}.db", **BENCH_SETTINGS)
        return
    schema = f"cl_bench_{uuid.uuid4().hex[:8]}"
    settings = Settings(database_url=POSTGRES_URL, database_schema=schema, **BENCH_SETTINGS)
    migrations.apply(settings)
    try:
        yield settings
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def count(kind: str, reads: int) -> None:
    with store(kind, Path(tempfile.mkdtemp())) as settings:
        runtime = build_runtime(settings)
        bootstrap(runtime.service, admin_password=ADMIN)
        worker = runtime.worker()
        worker.start()
        app = create_app(runtime.service, runtime.reads, runtime.rate_limiter(0), runtime.ledger)
        try:
            with TestClient(app) as c:
                token = c.post("/v1/sessions", json={"loginName": "admin", "password": ADMIN})
                admin = {"Authorization": f"Bearer {token.json()['token']}"}
                alias = f"bench-{uuid.uuid4().hex[:8]}"
                org = c.post("/v1/orgs", json={"name": "B", "alias": alias}, headers=admin)
                body = {"username": "u", "password": PASSWORD}
                org_id = org.json()["orgId"]
                user = c.post(f"/v1/orgs/{org_id}/users", json=body, headers=admin).json()["userId"]
                login = {"loginName": f"u@{alias}", "password": PASSWORD}
                token = c.post("/v1/sessions", json=login)
                auth = {"Authorization": f"Bearer {token.json()['token']}"}
                for _ in range(3):  # warm: caches, pools, prepared statements
                    assert c.get(f"/v1/users/{user}", headers=auth).status_code == 200
                _counting.set()
                one: list[str] = []
                for i in range(reads):
                    before = len(SENT)
                    assert c.get(f"/v1/users/{user}", headers=auth).status_code == 200
                    if i == reads - 1:
                        one = SENT[before:]
                _counting.clear()
        finally:
            worker.stop()
            runtime.close()
    kinds = Counter(statement.split()[0].upper() if statement else "(empty)" for statement in SENT)
    print(f"## {kind}: {len(SENT) / reads:.1f} statements per read ({dict(kinds)})")
    for statement in one:
        print(f"- {statement[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--reads", type=int, default=20)
    args = parser.parse_args()
    _install_counters()
    for kind in ("sqlite", "postgres") if args.store == "both" else (args.store,):
        SENT.clear()
        count(kind, args.reads)


if __name__ == "__main__":
    main()
