"""Import throughput (CONTRACTS §7), and whether reads keep answering during an import.

For each store, in one run: a fresh store and a real `credledger serve`; a reader polls
`GET /v1/users/{id}` of an existing user every 20 ms for the whole run, while
`credledger import FILE` (a process of its own, as an operator runs it) imports N users
with a mix of legacy schemes. Reports the import's users/s (wall time of the command, start
up included), how long the read models took to catch up after it, and read latency before
and during the import. Usage:

    .venv/bin/python bench/import_throughput.py [--users 100000] [--runs 1] [--store both]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bcrypt
import httpx2 as httpx
import psycopg
from argon2 import PasswordHasher
from psycopg import sql

from credledger import migrations
from credledger.settings import Settings

POSTGRES_URL = os.environ.get(
    "CREDLEDGER_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ADMIN_PASSWORD = "Bench-chief-pass-42"
CLI = Path(sys.executable).with_name("credledger")
READ_EVERY = 0.02
RESULTS = Path(__file__).with_name("import_results.md")


def legacy_hashes() -> list[str | dict[str, object]]:
    """A few real hashes, cycled over the rows (an import checks formats, never passwords)."""
    import base64
    import hashlib

    salt = os.urandom(16)
    keycloak = {
        "algorithm": "pbkdf2-sha256",
        "hashIterations": 27500,
        "salt": base64.b64encode(salt).decode(),
        "value": base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"pw", salt, 27500)).decode(),
    }
    return [
        bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=10)).decode(),
        PasswordHasher().hash("pw"),
        keycloak,
        "pbkdf2_sha256$600000$c2VhLXNhbHQ$" + base64.b64encode(os.urandom(32)).decode(),
    ]


def write_file(path: Path, users: int) -> None:
    hashes = legacy_hashes()
    with path.open("w") as out:
        for i in range(users):
            row = {
                "username": f"user-{i}",
                "email": f"user-{i}@example.com",
                "fullName": f"User Number {i}",
                "passwordHash": hashes[i % len(hashes)],
            }
            out.write(json.dumps(row) + "\n")


@contextmanager
def store_env(kind: str, folder: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
    env.update(
        CREDLEDGER_SECRET_KEY="bench-secret-" + "k" * 32,
        CREDLEDGER_ADMIN_PASSWORD=ADMIN_PASSWORD,
        CREDLEDGER_RATE_LIMIT_PER_MINUTE="0",
        CREDLEDGER_ARGON2_MEMORY_COST="1024",
        CREDLEDGER_ARGON2_TIME_COST="1",
    )
    if kind == "sqlite":
        env["CREDLEDGER_DATABASE_URL"] = f"sqlite:///{folder}/store.db"
        yield env
        return
    schema = f"bench_import_{uuid.uuid4().hex[:8]}"
    env.update(
        CREDLEDGER_DATABASE_URL=POSTGRES_URL,
        CREDLEDGER_DATABASE_SCHEMA=schema,
        CREDLEDGER_LEDGER_KEY="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    )
    settings = Settings(database_url=POSTGRES_URL, database_schema=schema)
    migrations.apply(settings)
    try:
        yield env
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server(env: dict[str, str], folder: Path) -> Iterator[str]:
    port = free_port()
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [str(CLI), "serve", "--port", str(port)], env=env, cwd=folder, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError((folder / "server.log").read_text())
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()


class Reader(threading.Thread):
    """Reads one user every READ_EVERY seconds; keeps (when, latency, status) of each."""

    def __init__(self, base: str, headers: dict[str, str], user_id: str) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base, headers=headers, timeout=30)
        self.path = f"/v1/users/{user_id}"
        self.samples: list[tuple[float, float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                status = self.client.get(self.path).status_code
            except httpx.TransportError:
                status = 0
            self.samples.append((started, time.perf_counter() - started, status))
            self.stop.wait(READ_EVERY)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def one_run(kind: str, users: int, file: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, store_env(kind, Path(tmp)) as env:
        folder = Path(tmp)
        with server(env, folder) as base:
            client = httpx.Client(base_url=base, timeout=30)
            session = client.post(
                "/v1/sessions", json={"loginName": "admin", "password": ADMIN_PASSWORD}
            ).json()
            headers = {"Authorization": f"Bearer {session['token']}"}
            user_id, org_id = session["userId"], session["orgId"]
            reader = Reader(base, headers, user_id)
            reader.start()
            time.sleep(2.0)  # reads before the import
            started = time.perf_counter()
            done = subprocess.run(
                [str(CLI), "import", str(file)], env=env, cwd=folder, capture_output=True,
                text=True,
            )  # fmt: skip
            ended = time.perf_counter()
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            assert done.stdout.strip().endswith(f"imported {users}, refused 0"), done.stdout
            # The read models hold the whole import once the report counts every user.
            while (
                client.get(f"/v1/orgs/{org_id}/import-report", headers=headers).json()["total"]
                < users
            ):
                time.sleep(0.1)
            caught_up = time.perf_counter()
            reader.stop.set()
            reader.join()
    before = [lat for t, lat, s in reader.samples if t < started]
    during = [lat for t, lat, s in reader.samples if started <= t < ended]
    failed = sum(1 for _, _, s in reader.samples if s != 200)
    return {
        "users_per_s": users / (ended - started),
        "import_s": ended - started,
        "catch_up_s": caught_up - ended,
        "read_p50_before_ms": percentile(before, 0.5) * 1000,
        "read_p50_during_ms": percentile(during, 0.5) * 1000,
        "read_p99_during_ms": percentile(during, 0.99) * 1000,
        "read_max_during_ms": max(during, default=float("nan")) * 1000,
        "reads_during": len(during),
        "reads_failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "users.jsonl"
        write_file(file, args.users)
        results = {
            kind: [one_run(kind, args.users, file) for _ in range(args.runs)] for kind in kinds
        }
    lines = [
        "# Import throughput",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}. "
        f"{args.users:,} users (bcrypt, argon2id, Keycloak and Django PBKDF2 hashes, with email "
        f"and full name), `credledger import FILE` against a running `credledger serve`; "
        f"medians of {args.runs} run(s). Command: `.venv/bin/python bench/import_throughput.py "
        f"--users {args.users} --runs {args.runs}`.",
        "",
        "| store | users/s | import s | read models caught up after | read p50 before | "
        "read p50 during | p99 during | max during | reads during | failed reads |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, runs in results.items():
        m = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        lines.append(
            f"| {kind} | {m['users_per_s']:,.0f} | {m['import_s']:.1f} | {m['catch_up_s']:.1f} s | "
            f"{m['read_p50_before_ms']:.1f} ms | {m['read_p50_during_ms']:.1f} ms | "
            f"{m['read_p99_during_ms']:.1f} ms | {m['read_max_during_ms']:.0f} ms | "
            f"{m['reads_during']:.0f} | {m['reads_failed']:.0f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
