"""Fixtures: every API test runs on both stores, through the real HTTP app.

One SQLite file and one PostgreSQL schema per test run; tests create their own orgs and
users with unique names instead of truncating shared tables. PostgreSQL tests fail (never
skip) when the server is missing.

On PostgreSQL the service runs as production does (CONTRACTS §8): each schema is migrated by
the owner (`POSTGRES_URL`), and every stack and `credledger` subprocess connects as a login
role of this run's own, which holds exactly what `credledger roles` grants. A test that needs
the owner's rights (reading raw tables, rewriting events to prove the ledger notices) uses
`POSTGRES_URL` explicitly.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from unittest import mock
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.app import create_app
from credledger import migrations, wiring
from credledger.bootstrap import bootstrap
from credledger.privileges import runtime_grants
from credledger.settings import Settings
from credledger.wiring import Runtime, build_runtime, build_service
from service.credentials import CredentialService
from service.store import EventStore

POSTGRES_URL = os.environ.get(
    "CREDLEDGER_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
# The run's runtime role: unique (runs may share a server), and a name that needs quoting.
RUNTIME_ROLE = f"credledger-app-{uuid.uuid4().hex[:10]}"
ADMIN_PASSWORD = "Bootstrap-chief-pw-1"
LEDGER_KEY = base64.b64encode(bytes(range(32))).decode()  # a fixed test seed
# Cheap argon2 so the suite stays fast; test_hashing pins the production defaults.
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1}
# CREDLEDGER_TEST_CIPHER=1: every store the suite builds encrypts whole events at rest
# (./scripts/test runs the store-level modules a second time so). Subprocess environments drop
# every CREDLEDGER_ variable; CIPHER_ENV gives them the key back.
TEST_CIPHER_KEY = base64.b64encode(bytes(range(100, 132))).decode()
TEST_CIPHER = os.environ.get("CREDLEDGER_TEST_CIPHER") == "1"
CIPHER_ENV = {"CREDLEDGER_CIPHER_KEY": TEST_CIPHER_KEY} if TEST_CIPHER else {}


class TestClock:
    """Real time plus an offset that a test may move forward; reset after every test."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Stack:
    """A running service on one store, and what tests need to reach it."""

    name: str
    settings: Settings
    runtime: Runtime
    clock: TestClock
    sqlite_path: Path | None = None
    schema: str | None = None

    @property
    def service(self) -> CredentialService:
        return self.runtime.service

    def client(self, rate_limit: int = 0, service: CredentialService | None = None) -> TestClient:
        app = create_app(
            service or self.service,
            self.runtime.reads,
            self.runtime.rate_limiter(rate_limit, namespace=uuid.uuid4().hex),
            self.runtime.ledger,
        )
        return TestClient(app, raise_server_exceptions=False)

    def another_service(self, **overrides: object) -> CredentialService:
        """A second service over the same store (e.g. with new argon2 parameters)."""
        settings = self.settings.model_copy(update=overrides)
        return build_service(settings, clock=self.clock)


# Connections each test stack keeps open: two workers run many stacks at once on a server
# that allows 100 connections (the overflow still opens more under load).
TEST_POOL = {"database_pool_size": 2}


def _settings(**values: object) -> Settings:
    cipher = {"cipher_key": TEST_CIPHER_KEY} if TEST_CIPHER else {}
    return Settings(
        secret_key="test-secret-key-" + "k" * 32, **CHEAP_ARGON2, **TEST_POOL, **cipher | values
    )


def postgres_settings(schema: str, url: str = POSTGRES_URL) -> Settings:
    return _settings(database_url=url, database_schema=schema, ledger_key=LEDGER_KEY)


def as_role(url: str, role: str) -> str:
    """`url` with `role` as its user (trust auth on the test server: no password)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(role, safe='')}@{host}"))


_runtime_role_made = False


def runtime_access(owner: Settings) -> Settings:
    """Migrates `owner`'s schema as the owner, gives the run's runtime role exactly the grants
    `credledger roles` prints for it, and returns the settings the service runs under."""
    global _runtime_role_made
    migrations.apply(owner)
    with psycopg.connect(owner.database_url, autocommit=True) as conn:
        if not _runtime_role_made:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(RUNTIME_ROLE)))
            _runtime_role_made = True
        owner_name = owner.postgres_parts()["user"]
        conn.execute(runtime_grants(owner.database_schema, owner_name, RUNTIME_ROLE))
    return owner.model_copy(update={"database_url": as_role(owner.database_url, RUNTIME_ROLE)})


@pytest.fixture(scope="session", autouse=True)
def _drop_runtime_role() -> Iterator[None]:
    """Last to finish (autouse, session): the schemas are gone by then."""
    yield
    if _runtime_role_made:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            role = sql.Identifier(RUNTIME_ROLE)
            conn.execute(sql.SQL("DROP OWNED BY {}").format(role))
            conn.execute(sql.SQL("DROP ROLE {}").format(role))


def _require_postgres() -> None:
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is required for these tests and is not reachable at "
            f"{POSTGRES_URL}: {error}",
            pytrace=False,
        )


def _drop_schema(schema: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def own_store(kind: str, folder: Path, prefix: str) -> Iterator[tuple[Settings, dict[str, str]]]:
    """A store of a test's own (SQLite file or PostgreSQL schema, migrated) and the
    environment a `credledger` subprocess needs to reach it; the schema is dropped after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
    env.update(CREDLEDGER_ARGON2_MEMORY_COST="1024", CREDLEDGER_ARGON2_TIME_COST="1", **CIPHER_ENV)
    env.update(CREDLEDGER_DATABASE_POOL_SIZE=str(TEST_POOL["database_pool_size"]))
    schema = None
    if kind == "sqlite":
        settings = _settings(database_url=f"sqlite:///{folder}/store.db")
        env.update(CREDLEDGER_DATABASE_URL=settings.database_url)
    else:
        _require_postgres()
        schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
        settings = runtime_access(postgres_settings(schema))
        env.update(
            CREDLEDGER_DATABASE_URL=settings.database_url,
            CREDLEDGER_DATABASE_SCHEMA=schema,
            CREDLEDGER_LEDGER_KEY=LEDGER_KEY,
        )
    env.update(CREDLEDGER_SECRET_KEY=settings.secret_key.get_secret_value())  # type: ignore[union-attr]
    try:
        yield settings, env
    finally:
        if schema is not None:
            _drop_schema(schema)


@contextmanager
def secrets_unsealed() -> Iterator[None]:
    """Stores built inside write password hashes and reset digests readable, as stores did
    before they were sealed (`EventStore(seal_secrets=False)`): for positive controls and
    old-format events. A switch for tests only; operators have none."""
    with mock.patch.object(wiring, "EventStore", partial(EventStore, seal_secrets=False)):
        yield


@pytest.fixture(scope="session")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    path = tmp_path_factory.mktemp("store") / "credledger.db"
    clock = TestClock()
    settings = _settings(database_url=f"sqlite:///{path}")
    runtime = build_runtime(settings, clock=clock)
    bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
    yield Stack("sqlite", settings, runtime, clock, sqlite_path=path)
    runtime.close()


@pytest.fixture(scope="session")
def postgres_stack() -> Iterator[Stack]:
    _require_postgres()
    schema = f"cl_test_{uuid.uuid4().hex[:12]}"
    settings = runtime_access(postgres_settings(schema))
    clock = TestClock()
    runtime = build_runtime(settings, clock=clock)
    bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
    yield Stack("postgres", settings, runtime, clock, schema=schema)
    runtime.close()
    _drop_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    current: Stack = request.getfixturevalue(f"{request.param}_stack")
    yield current
    current.clock.offset = timedelta()


@pytest.fixture
def client(stack: Stack) -> Iterator[TestClient]:
    with stack.client() as test_client:
        yield test_client
