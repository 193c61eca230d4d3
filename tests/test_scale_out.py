"""Several server processes over one PostgreSQL (CONTRACTS §8), as an operator runs them:
node B is `credledger serve`, node A is `credledger serve --workers 2`, both real processes
on their own ports. Lockout counts exactly across all three processes, the rate limit holds
across nodes, and a `kill -9` of a node under a change load loses nothing acknowledged: the
survivor takes the projection worker over and `credledger verify` finds no drift."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import psycopg
import pytest
from psycopg import sql

from tests.conftest import ADMIN_PASSWORD, POSTGRES_URL, own_store
from tests.test_cli import _free_port

pytestmark = pytest.mark.postgres

WRONG = "Not-the-password-4471"
GOOD = "violet-Lantern-42-harbor"
CLI = Path(sys.executable).with_name("credledger")
PARALLEL = 20  # requests in flight at once, over the three processes


@dataclass
class Node:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self) -> httpx.Client:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        return httpx.Client(base_url=self.base, timeout=30, limits=limits)

    def kill(self) -> None:
        """`kill -9` of the node's every process (its own session)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@dataclass
class Cluster:
    a: Node
    b: Node
    env: dict[str, str]
    schema: str


@contextmanager
def _node(env: dict[str, str], folder: Path, name: str, workers: int) -> Iterator[Node]:
    port = _free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(CLI), "serve", "--port", str(port), "--workers", str(workers)],
            env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    node = Node(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_healthy(node)
        yield node
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                node.kill()


def _wait_healthy(node: Node) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise AssertionError(f"node exited early:\n{node.log.read_text()}")
        try:
            if httpx.get(f"{node.base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"node did not answer /healthz within 30 s:\n{node.log.read_text()}")


@contextmanager
def _cluster(tmp_path: Path, rate_limit: int) -> Iterator[Cluster]:
    with own_store("postgres", tmp_path, "cl_scale") as (settings, env), ExitStack() as nodes:
        env = {
            **env,
            "CREDLEDGER_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "CREDLEDGER_RATE_LIMIT_PER_MINUTE": str(rate_limit),
            # Three processes share the server's connections with the rest of the suite.
            "CREDLEDGER_DATABASE_POOL_SIZE": "2",
            "CREDLEDGER_DATABASE_MAX_OVERFLOW": "8",
        }
        # B first: it bootstraps the instance and takes the projection worker.
        b = nodes.enter_context(_node(env, tmp_path, "b", workers=1))
        a = nodes.enter_context(_node(env, tmp_path, "a", workers=2))
        yield Cluster(a, b, env, settings.database_schema)


def _admin(client: httpx.Client) -> dict[str, str]:
    reply = client.post("/v1/sessions", json={"loginName": "admin", "password": ADMIN_PASSWORD})
    assert reply.status_code == 201, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def _org_user(
    client: httpx.Client, headers: dict[str, str], policy: dict[str, object]
) -> tuple[str, str]:
    """A new org with `policy` and one user; returns (userId, loginName)."""
    alias = f"org-{uuid.uuid4().hex[:10]}"
    body = {"name": alias, "alias": alias, "passwordPolicy": policy}
    org = client.post("/v1/orgs", json=body, headers=headers)
    assert org.status_code == 201, org.text
    username = f"user-{uuid.uuid4().hex[:10]}"
    user = client.post(
        f"/v1/orgs/{org.json()['orgId']}/users",
        json={"username": username, "password": GOOD},
        headers=headers,
    )
    assert user.status_code == 201, user.text
    return user.json()["userId"], f"{username}@{alias}"


def _event_names(schema: str, user_id: str) -> list[str]:
    with psycopg.connect(POSTGRES_URL) as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT topic FROM {}.credledger_events WHERE originator_id = %s "
                "ORDER BY originator_version"
            ).format(sql.Identifier(schema)),
            (user_id,),
        ).fetchall()
    return [topic.rsplit(".", 1)[-1] for (topic,) in rows]


def _in_parallel(count: int, job: Callable[[int], tuple[int, str]]) -> Counter[tuple[int, str]]:
    barrier = threading.Barrier(min(count, PARALLEL))

    def started(i: int) -> tuple[int, str]:
        if i < PARALLEL:
            barrier.wait(timeout=30)
        return job(i)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return Counter(pool.map(started, range(count)))


def test_200_parallel_wrong_passwords_over_two_nodes_lock_after_exactly_max_attempts(tmp_path):
    with (
        _cluster(tmp_path, rate_limit=0) as cluster,
        cluster.a.client() as a,
        cluster.b.client() as b,
    ):
        headers = _admin(a)
        user_id, login_name = _org_user(a, headers, {"maxFailedAttempts": 5, "lockoutMinutes": 15})

        def wrong(i: int) -> tuple[int, str]:
            reply = (a, b)[i % 2].post(
                "/v1/sessions", json={"loginName": login_name, "password": WRONG}
            )
            return reply.status_code, reply.json()["code"]

        answers = _in_parallel(200, wrong)

        assert answers == {(401, "invalid_credentials"): 5, (423, "account_locked"): 195}
        names = _event_names(cluster.schema, user_id)
        assert names.count("PasswordCheckFailed") == 5
        assert names.count("Locked") == 1
        user = b.get(f"/v1/users/{user_id}", headers=headers).json()
        assert (user["state"], user["failedAttempts"]) == ("locked", 5)


def test_the_rate_limit_holds_across_nodes(tmp_path):
    with (
        _cluster(tmp_path, rate_limit=5) as cluster,
        cluster.a.client() as a,
        cluster.b.client() as b,
    ):
        headers = _admin(a)  # the address's first password attempt of this minute
        _, login_name = _org_user(a, headers, {})
        attempt = {"loginName": login_name, "password": WRONG}
        within = [(b, a, b, a)[i].post("/v1/sessions", json=attempt) for i in range(4)]
        assert [r.status_code for r in within] == [401] * 4
        for node in (a, b):
            over = node.post("/v1/sessions", json=attempt)
            assert over.status_code == 429, over.text
            assert int(over.headers["Retry-After"]) >= 1


def test_kill_9_of_a_node_under_change_load_loses_no_acknowledged_change(tmp_path):
    with (
        _cluster(tmp_path, rate_limit=0) as cluster,
        cluster.a.client() as a,
        cluster.b.client() as b,
    ):
        headers = _admin(a)
        users = [_org_user(a, headers, {})[0] for _ in range(6)]
        acked: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        stop = threading.Event()

        def change_load(user_id: str) -> None:
            i = 0
            while not stop.is_set():
                i += 1
                node = (a, b)[i % 2]
                try:
                    reply = node.post(
                        f"/v1/users/{user_id}/password",
                        json={"newPassword": f"Meadow-{uuid.uuid4().hex[:12]}-7x"},
                        headers=headers,
                    )
                    ok = reply.status_code == 200
                except httpx.TransportError:
                    ok = False
                (acked if ok else failed)[user_id] += 1

        with ThreadPoolExecutor(max_workers=len(users)) as pool:
            for user_id in users:
                pool.submit(change_load, user_id)
            time.sleep(1.5)
            cluster.b.kill()  # B runs the projection worker: A must take it over
            time.sleep(2.0)
            stop.set()

        assert sum(acked.values()) > 20 and sum(failed.values()) > 0
        for user_id in users:
            changes = _event_names(cluster.schema, user_id).count("PasswordSet")
            # Every acknowledged change is stored; at most the unanswered ones were added.
            assert acked[user_id] <= changes <= acked[user_id] + failed[user_id]
            user = a.get(f"/v1/users/{user_id}", headers=headers)
            assert user.status_code == 200, user.text  # read models fresh from A's worker
            assert user.json()["details"]["sequence"] == str(
                len(_event_names(cluster.schema, user_id))
            )
        verify = subprocess.run(
            [str(CLI), "verify"], env=cluster.env, cwd=tmp_path, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert " 0 drifting" in verify.stdout
