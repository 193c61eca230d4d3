"""Least privilege on PostgreSQL (CONTRACTS §8), through real connections: a deployment whose
schema owner is not a superuser runs `credledger migrate`, applies what `credledger roles`
prints for a fresh runtime role, and the server runs under that role. The role may read and
append events but never update, delete or truncate them, nor lift the guard; nor may the
owner rewrite events without first disabling it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.errors import InsufficientPrivilege

from tests.conftest import LEDGER_KEY, POSTGRES_URL, RUNTIME_ROLE, as_role
from tests.test_cli import CHEAP_ARGON2_ENV, _free_port, _wait_healthy

pytestmark = pytest.mark.postgres

CLI = Path(sys.executable).with_name("credledger")
ADMIN_PASSWORD = "Roles-chief-Quarry-61-amber"
NEW_PASSWORD = "Roles-changed-Fjord-27-cedar"


@dataclass
class Deployment:
    schema: str
    owner: str  # runs migrate; not a superuser, as in production
    role: str  # the runtime role; its name needs quoting
    folder: Path

    def env(self, user: str) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            **CHEAP_ARGON2_ENV,
            "CREDLEDGER_DATABASE_URL": as_role(POSTGRES_URL, user),
            "CREDLEDGER_DATABASE_SCHEMA": self.schema,
            "CREDLEDGER_SECRET_KEY": "roles-secret-" + "r" * 27,
            "CREDLEDGER_LEDGER_KEY": LEDGER_KEY,
            "CREDLEDGER_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }

    def cli(self, user: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args], env=self.env(user), cwd=self.folder,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def connect(self, user: str) -> psycopg.Connection:
        return psycopg.connect(
            as_role(POSTGRES_URL, user), autocommit=True, options=f"-c search_path={self.schema}"
        )

    def apply_grants(self) -> None:
        """Exactly what `credledger roles` prints, run as the owner."""
        printed = self.cli(self.owner, "roles", self.role)
        assert printed.returncode == 0, printed.stderr
        with self.connect(self.owner) as conn:
            conn.execute(printed.stdout)


def _ddl(conn: psycopg.Connection, template: str, *names: str) -> None:
    conn.execute(sql.SQL(template).format(*map(sql.Identifier, names)))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    suffix = uuid.uuid4().hex[:10]
    found = Deployment(
        schema=f"cl_roles_{suffix}",
        owner=f"cl_owner_{suffix}",
        role=f'Runtime "{suffix}" app',
        folder=tmp_path_factory.mktemp("roles"),
    )
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        _ddl(conn, "CREATE ROLE {} LOGIN", found.owner)
        _ddl(conn, "CREATE ROLE {} LOGIN", found.role)
        database = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        _ddl(conn, "GRANT CREATE ON DATABASE {} TO {}", database, found.owner)
    try:
        migrated = found.cli(found.owner, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        found.apply_grants()
        yield found
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            _ddl(conn, "DROP SCHEMA IF EXISTS {} CASCADE", found.schema)
            for role in (found.role, found.owner):
                _ddl(conn, "DROP OWNED BY {}", role)
                _ddl(conn, "DROP ROLE {}", role)


def _event_count(deployment: Deployment) -> int:
    with deployment.connect(deployment.owner) as conn:
        return conn.execute("SELECT count(*) FROM credledger_events").fetchone()[0]  # type: ignore[index]


def _refused(conn: psycopg.Connection, statement: str) -> str:
    with pytest.raises(InsufficientPrivilege) as refused:
        conn.execute(statement)
    assert refused.value.sqlstate == "42501"
    return str(refused.value)


def test_the_server_starts_under_the_role_and_serves_a_password_change(deployment):
    before = _event_count(deployment)
    port = _free_port()
    server = subprocess.Popen(
        [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=deployment.env(deployment.role), cwd=deployment.folder,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        try:
            assert _wait_healthy(base, server).status_code == 200
        except AssertionError:
            server.kill()
            raise AssertionError(server.communicate()[0]) from None
        admin = _login(base, ADMIN_PASSWORD)
        assert admin.status_code == 201, admin.text
        changed = httpx.post(
            f"{base}/v1/users/{admin.json()['userId']}/password",
            json={"currentPassword": ADMIN_PASSWORD, "newPassword": NEW_PASSWORD},
            headers={"Authorization": f"Bearer {admin.json()['token']}"},
            timeout=30,
        )
        assert changed.status_code == 200, changed.text
        assert _login(base, NEW_PASSWORD).status_code == 201
        assert _login(base, ADMIN_PASSWORD).status_code == 401
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert "permission denied" not in output, output
    assert _event_count(deployment) > before  # the runtime role appended events
    with deployment.connect(deployment.owner) as conn:
        owners = conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename LIKE 'rm\\_%\\_g%'"
        ).fetchall()
    assert owners == [(deployment.role,)]  # it made its own read-model generations


def _login(base: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/sessions", json={"loginName": "admin", "password": password}, timeout=30
    )


APPEND_ONLY = "is refused: the table is append-only"  # the trigger of migration 0005
NOT_GRANTED = "permission denied for table credledger_events"


@pytest.mark.parametrize(
    ("statement", "says"),
    [
        ("UPDATE credledger_events SET topic = topic", APPEND_ONLY),
        ("UPDATE credledger_events SET topic = topic WHERE false", APPEND_ONLY),  # no row
        ("DELETE FROM credledger_events", NOT_GRANTED),
        ("TRUNCATE credledger_events", NOT_GRANTED),
        (
            "INSERT INTO credledger_events (originator_id, originator_version, topic, state) "
            "VALUES (gen_random_uuid(), 1, 'x', '') "
            "ON CONFLICT (originator_id, originator_version) DO UPDATE SET topic = 'y'",
            APPEND_ONLY,
        ),
    ],
)
def test_the_runtime_role_cannot_update_delete_or_truncate_events(deployment, statement, says):
    before = _event_count(deployment)
    with deployment.connect(deployment.role) as conn:
        assert says in _refused(conn, statement)
    assert _event_count(deployment) == before


def test_on_events_the_runtime_role_holds_select_insert_and_update_only(deployment):
    with deployment.connect(deployment.owner) as conn:
        held = {
            right
            for right in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
            if conn.execute(
                "SELECT has_table_privilege(%s, 'credledger_events', %s)",
                (deployment.role, right),
            ).fetchone()[0]  # type: ignore[index]
        }
    assert held == {"SELECT", "INSERT", "UPDATE"}


def test_the_runtime_role_appends_as_the_library_does(deployment):
    before = _event_count(deployment)
    with deployment.connect(deployment.role) as conn, conn.transaction():
        conn.execute("LOCK TABLE credledger_events IN EXCLUSIVE MODE")  # what UPDATE is for
        conn.execute(
            "INSERT INTO credledger_events (originator_id, originator_version, topic, state) "
            "VALUES (gen_random_uuid(), 1, 'probe', '')"
        )
    assert _event_count(deployment) == before + 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE credledger_snapshots SET topic = topic",
        "DELETE FROM credledger_snapshots",
        "DELETE FROM ledger_checkpoints",
        "UPDATE ledger_checkpoints SET note = note",
        "INSERT INTO _yoyo_migration (migration_hash, migration_id) VALUES ('x', 'x')",
        "DELETE FROM _yoyo_migration",
        "SELECT * FROM _yoyo_log",
        "TRUNCATE data_keys",
        # ... nor lift the guard:
        "ALTER TABLE credledger_events DISABLE TRIGGER USER",
        "DROP TRIGGER credledger_events_append_only ON credledger_events",
        "CREATE TRIGGER undo BEFORE INSERT ON credledger_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION credledger_refuse_rewrite()",
        "SET session_replication_role = replica",
    ],
)
def test_snapshots_checkpoints_migration_records_and_the_guard_are_out_of_reach(
    deployment, statement
):
    with deployment.connect(deployment.role) as conn:
        _refused(conn, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE credledger_events SET topic = topic",
        "DELETE FROM credledger_events",
        "TRUNCATE credledger_events",
        "UPDATE credledger_snapshots SET topic = topic",
    ],
)
def test_the_owner_cannot_rewrite_events_without_disabling_the_guard(deployment, statement):
    with deployment.connect(deployment.owner) as conn:
        assert APPEND_ONLY in _refused(conn, statement)


def test_a_table_a_later_migration_makes_is_the_runtimes_to_read_and_write(deployment):
    with deployment.connect(deployment.owner) as conn:  # as `migrate` would, e.g. rate limits
        conn.execute("CREATE TABLE later_probe (id bigserial PRIMARY KEY, hits int NOT NULL)")
    try:
        with deployment.connect(deployment.role) as conn:
            conn.execute("INSERT INTO later_probe (hits) VALUES (1)")
            conn.execute("UPDATE later_probe SET hits = hits + 1")
            assert conn.execute("SELECT hits FROM later_probe").fetchall() == [(2,)]
            conn.execute("DELETE FROM later_probe")
            _refused(conn, "TRUNCATE later_probe")
    finally:
        with deployment.connect(deployment.owner) as conn:
            conn.execute("DROP TABLE later_probe")


def test_the_grants_apply_again_after_the_runtime_made_its_own_tables(deployment):
    with deployment.connect(deployment.role) as conn:
        conn.execute("CREATE TABLE rm_probe_g1 (id int)")
    deployment.apply_grants()  # as the owner, who holds no right on rm_probe_g1
    with deployment.connect(deployment.role) as conn:
        conn.execute("DROP TABLE rm_probe_g1")
        _refused(conn, "DELETE FROM credledger_events")


def test_the_suites_own_stacks_run_as_the_runtime_role(postgres_stack):
    """Every PostgreSQL test above and elsewhere exercises the runtime role, not the owner."""
    recorder = postgres_stack.service.store.recorder
    with recorder.datastore.get_connection() as conn:
        row = conn.execute(
            "SELECT current_user AS name, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    assert (row["name"], row["rolsuper"]) == (RUNTIME_ROLE, False)
    assert postgres_stack.runtime.read_store.query("SELECT current_user") == [(RUNTIME_ROLE,)]
