"""The store can go away (CONTRACTS §12). A live `credledger serve` over a PostgreSQL cluster
of the test's own, under a load of password sets; the cluster is killed -9 for 6 s and
started again on the same folder and port. While it is down every request is answered
within 5 s with native 503 `unavailable` and `Retry-After`, `/readyz` is 503 within 2 s and
`/healthz` stays 200; once it is back the same processes serve again within 10 s, nothing
acknowledged is lost, nothing is applied twice, and `verify` and `ledger verify` pass."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import psycopg
import pytest
from psycopg import sql

from credledger import migrations
from tests.conftest import ADMIN_PASSWORD, CIPHER_ENV, LEDGER_KEY, postgres_settings
from tests.private_cluster import PrivateCluster, private_cluster
from tests.test_cli import CLI
from tests.test_scale_out import Node, _admin, _node, _org_user

pytestmark = pytest.mark.postgres

LOADERS = 6  # threads setting passwords, one user each
OUTAGE_SECONDS = 6.0
ANSWER_WITHIN = 5.0
READY_WITHIN = 2.0
RECOVER_WITHIN = 10.0

log = logging.getLogger("tests.outage")


@dataclass(frozen=True)
class Answer:
    path: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all
    code: str | None = None
    retry_after: str | None = None
    sequence: int | None = None
    user: int = -1

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Outage:
    killed: float = 0.0
    back: float = 0.0

    def during(self, answer: Answer) -> bool:
        """Asked and answered while the server was down."""
        return self.killed <= answer.started and answer.ended <= self.back


class Recorder:
    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self._lock = threading.Lock()

    def add(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def of(self, path: str) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.path == path]


def _ask(client: httpx.Client, method: str, path: str, user: int = -1, **kw: object) -> Answer:
    started = time.monotonic()
    try:
        reply = client.request(method, path, **kw)  # type: ignore[arg-type]
    except httpx.TransportError:
        return Answer(path, started, time.monotonic(), 0, user=user)
    ended = time.monotonic()
    body = reply.json() if reply.headers.get("content-type", "").find("json") >= 0 else {}
    sequence = body.get("details", {}).get("sequence") if reply.status_code == 200 else None
    return Answer(
        path, started, ended, reply.status_code, body.get("code"),
        reply.headers.get("retry-after"), int(sequence) if sequence else None, user,
    )  # fmt: skip


@contextmanager
def _served(tmp_path: Path, cluster: PrivateCluster, workers: int) -> Iterator[tuple[Node, str]]:
    schema = f"cl_outage_{uuid.uuid4().hex[:8]}"
    settings = postgres_settings(schema, url=cluster.url)
    migrations.apply(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
    env.update(
        CREDLEDGER_DATABASE_URL=cluster.url,
        CREDLEDGER_DATABASE_SCHEMA=schema,
        CREDLEDGER_LEDGER_KEY=LEDGER_KEY,
        CREDLEDGER_SECRET_KEY=settings.secret_key.get_secret_value(),  # type: ignore[union-attr]
        CREDLEDGER_ADMIN_PASSWORD=ADMIN_PASSWORD,
        CREDLEDGER_ARGON2_MEMORY_COST="1024",
        CREDLEDGER_ARGON2_TIME_COST="1",
        # High enough never to refuse, so the shared limiter's table is asked on every set.
        CREDLEDGER_RATE_LIMIT_PER_MINUTE="1000000",
        CREDLEDGER_DATABASE_POOL_SIZE="2",
        CREDLEDGER_DATABASE_MAX_OVERFLOW="8",
        **CIPHER_ENV,
    )
    with _node(env, tmp_path, "server", workers) as node:
        yield node, schema
        for command in (["verify"], ["ledger", "verify"]):
            done = subprocess.run(
                [str(CLI), *command], env=env, cwd=tmp_path, capture_output=True, text=True,
                timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, (command, done.stdout, done.stderr)


def _load(node: Node, users: list[str], headers: dict[str, str], stop: threading.Event,
          recorder: Recorder) -> list[threading.Thread]:  # fmt: skip
    def set_passwords(i: int) -> None:
        with node.client() as client:
            n = 0
            while not stop.is_set():
                n += 1
                body = {"newPassword": f"Outage-{i}-{n}-{uuid.uuid4().hex[:8]}-pw"}
                path = f"/v1/users/{users[i]}/password"
                answer = _ask(client, "POST", path, i, json=body, headers=headers)
                recorder.add(answer)
                if answer.status != 200:
                    time.sleep(0.1)  # as a client honouring Retry-After would, only sooner

    def probe() -> None:
        with node.client() as client:
            while not stop.is_set():
                for path in ("/healthz", "/readyz"):
                    recorder.add(_ask(client, "GET", path))
                time.sleep(0.2)

    threads = [threading.Thread(target=set_passwords, args=(i,)) for i in range(len(users))]
    threads.append(threading.Thread(target=probe))
    for thread in threads:
        thread.start()
    return threads


def _stored_versions(cluster: PrivateCluster, schema: str, user_id: str) -> dict[int, str]:
    with psycopg.connect(cluster.url) as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT originator_version, topic FROM {}.credledger_events "
                "WHERE originator_id = %s"
            ).format(sql.Identifier(schema)),
            (user_id,),
        ).fetchall()
    return {version: topic.rsplit(".", 1)[-1] for version, topic in rows}


def _first_after(answers: list[Answer], moment: float, status: int) -> float | None:
    ends = [a.ended for a in answers if a.started >= moment and a.status == status]
    return min(ends) - moment if ends else None


def _survives_an_outage(tmp_path: Path, workers: int) -> None:
    with private_cluster() as cluster, _served(tmp_path, cluster, workers) as (node, schema):
        with node.client() as client:
            headers = _admin(client)
            users = [_org_user(client, headers, {})[0] for _ in range(LOADERS)]
        recorder, stop, outage = Recorder(), threading.Event(), Outage()
        threads = _load(node, users, headers, stop, recorder)
        try:
            time.sleep(1.5)  # under load, the store up
            outage.killed = time.monotonic()
            cluster.kill()
            time.sleep(OUTAGE_SECONDS)
            outage.back = cluster.start()
            until = outage.back + RECOVER_WITHIN + 2
            sets = f"/v1/users/{users[0]}/password"
            while (
                time.monotonic() < until
                and _first_after(recorder.of(sets), outage.back, 200) is None
            ):
                time.sleep(0.1)
            time.sleep(1.5)  # under load, the store back
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)

        answers = [a for a in recorder.answers if a.user >= 0]
        health, ready = recorder.of("/healthz"), recorder.of("/readyz")
        in_outage = [a for a in answers if outage.during(a)]
        _report(workers, outage, answers, health, ready)

        # Every password set answered, within 5 s, either applied or `unavailable`.
        slow = [a for a in answers if a.status == 0 or a.seconds > ANSWER_WITHIN]
        assert slow == [], slow[:5]
        assert {a.status for a in answers} <= {200, 503}
        assert len(in_outage) >= LOADERS
        refused = {(a.status, a.code, a.retry_after is not None) for a in in_outage}
        assert refused == {(503, "unavailable", True)}
        # Liveness stays, readiness says no, both promptly.
        assert all(a.status == 200 and a.seconds < 1 for a in health), health
        assert [a for a in ready if a.status == 0 or a.seconds > READY_WITHIN] == []
        assert {a.status for a in ready if outage.during(a)} == {503}
        assert {a.status for a in ready if a.ended < outage.killed} == {200}
        # The same processes serve again within 10 s of the server's return.
        for user in range(LOADERS):
            recovered = _first_after([a for a in answers if a.user == user], outage.back, 200)
            assert recovered is not None and recovered <= RECOVER_WITHIN, (user, recovered)
        ready_again = _first_after(ready, outage.back, 200)
        assert ready_again is not None and ready_again <= RECOVER_WITHIN, ready_again

        # Nothing acknowledged lost, nothing applied twice.
        for user, user_id in enumerate(users):
            mine = [a for a in answers if a.user == user]
            stored = _stored_versions(cluster, schema, user_id)
            acked = [a.sequence for a in mine if a.status == 200]
            assert all(sequence in stored for sequence in acked), (acked, stored)
            sets = sum(1 for topic in stored.values() if topic == "PasswordSet")
            assert len(acked) <= sets <= len(mine), (len(acked), sets, len(mine))
            assert acked == sorted(set(acked))  # one user's sets, one after the other


def _report(workers: int, outage: Outage, answers: list[Answer], health: list[Answer],
            ready: list[Answer]) -> None:  # fmt: skip
    """The measured numbers (`--log-cli-level=INFO`), and with any failure's report."""
    during = [a.seconds for a in answers if outage.during(a)]
    ready_down = [a.seconds for a in ready if outage.during(a)]
    ready_up = [a.seconds for a in ready if a.ended < outage.killed]
    back = _first_after(answers, outage.back, 200)
    log.info(
        f"workers={workers}: {len(during)} sets during the outage, answered in "
        f"max {max(during, default=0):.3f} s (mean {sum(during) / max(len(during), 1):.3f} s); "
        f"/readyz up max {max(ready_up, default=0):.3f} s, down max "
        f"{max(ready_down, default=0):.3f} s; first set applied {back} s after the server "
        f"was back; /healthz max {max((a.seconds for a in health), default=0):.3f} s"
    )


def test_one_process_survives_a_killed_server(tmp_path):
    _survives_an_outage(tmp_path, workers=1)


def test_two_worker_processes_survive_a_killed_server(tmp_path):
    _survives_an_outage(tmp_path, workers=2)


# One request per dialect that needs the store, and the row its table answers with while the
# store is down: (path, JSON body, status, where the body names it, the expected name).
ADMIN_ID = "00000000-0000-4000-8000-000000000001"
DIALECT_ROWS = [
    ("native", "GET", f"/v1/users/{ADMIN_ID}", None, 503, "code", "unavailable"),
    ("zitadel", "GET", f"/v2/users/{ADMIN_ID}", None, 503, "code", 14),
    ("zitadel-connect", "POST", "/zitadel.user.v2.UserService/GetUserByID",
     {"userId": ADMIN_ID}, 503, "code", "unavailable"),
    ("assure", "POST", "/api/core/ChangePassword/executeChangePassword",
     {"Username": "admin", "OldPassword": "x", "NewPassword": "Fresh-pw-12345",
      "RepeatNewPassword": "Fresh-pw-12345"}, 500, "message", "Unexpected error"),
    ("lifepos", "POST", f"/orgs/{ADMIN_ID}/me/set-credentials",
     {"old_password": "old-pw-1", "new_password": "new-pw-12"}, 500, "code",
     "InternalServerError"),
    ("kendox", "POST", "/InfoShare/Json/Authentication/SendPasswordResetInvitation",
     {"tenantName": "default", "user": "admin", "targetURL": "http://127.0.0.1:8080/ui/x"},
     500, "errorCode", 10085),
    ("horizon", "POST", "/api/v1/security/identity/local/password",
     {"password": "Fresh-pw-12345", "previousPassword": "x"}, 500, "error", "LOCAL-ID-001"),
]  # fmt: skip


def test_every_dialect_answers_its_server_error_row_while_the_store_is_down():
    """In process, a dialect at a time; `/readyz` also while the server is frozen."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from credledger.bootstrap import bootstrap
    from credledger.wiring import build_runtime

    with private_cluster() as cluster:
        settings = postgres_settings(f"cl_rows_{uuid.uuid4().hex[:8]}", url=cluster.url)
        migrations.apply(settings)
        runtime = build_runtime(settings)
        try:
            bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
            app = create_app(
                runtime.service, runtime.reads, runtime.rate_limiter(1_000_000), runtime.ledger
            )
            with TestClient(app, raise_server_exceptions=False) as client:
                reply = client.post(
                    "/v1/sessions", json={"loginName": "admin", "password": ADMIN_PASSWORD}
                )
                headers = {
                    "Authorization": f"Bearer {reply.json()['token']}",
                    "x-lp-client-identifier": "outage-test",
                    "x-lp-client-type": "Test",
                }
                assert client.get("/readyz").status_code == 200
                cluster.freeze()
                try:
                    started = time.monotonic()
                    assert client.get("/readyz").status_code == 503
                    assert time.monotonic() - started < READY_WITHIN
                    assert client.get("/healthz").status_code == 200
                finally:
                    cluster.thaw()
                cluster.kill()
                for dialect, method, path, body, status, field, name in DIALECT_ROWS:
                    started = time.monotonic()
                    answer = client.request(method, path, json=body, headers=headers)
                    seconds = time.monotonic() - started
                    assert (answer.status_code, answer.json().get(field)) == (status, name), (
                        dialect,
                        answer.text,
                    )
                    assert answer.headers.get("retry-after"), dialect
                    assert "Traceback" not in answer.text and seconds < ANSWER_WITHIN, dialect
                assert client.get("/healthz").status_code == 200
                assert client.get("/readyz").status_code == 503
                cluster.start()
                until = time.monotonic() + RECOVER_WITHIN
                while client.get("/readyz").status_code != 200:
                    assert time.monotonic() < until, "no recovery within 10 s"
                    time.sleep(0.1)
                # Authenticated again, and the store answers: there is no such user.
                assert client.get(DIALECT_ROWS[0][2], headers=headers).status_code == 404
        finally:
            runtime.close()
