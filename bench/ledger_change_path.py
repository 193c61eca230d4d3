"""Does the ledger slow password changes? p50 of self-service changes, ledger on vs off.

Starts four `credledger serve` processes on loopback, each on a store of its own: SQLite and
PostgreSQL, each with the worker integrating the ledger in the background
(`CREDLEDGER_LEDGER_BACKGROUND=true`, the default) and without it (`false`; nothing touches
the ledger during the run). Production argon2 (m=19 MiB, t=2, p=1), `historyCount` 0,
closed-loop clients from this process. Rounds alternate on/off, so both share the machine's
state of the moment; medians over every change of every round. Usage:

    .venv/bin/python bench/ledger_change_path.py [--rounds 5] [--changes 20] [--clients 1 4]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx2 as httpx
import psycopg
from psycopg import sql
from rebuild_throughput import BENCH_SETTINGS, POSTGRES_URL

from credledger import migrations
from credledger.settings import Settings

ADMIN = "Bench-chief-Quartz-4821"
PASSWORDS = ("amber-Compass-77-meadow", "violet-Lantern-42-harbor")
LEDGER_KEY = BENCH_SETTINGS["ledger_key"]
CLI = Path(sys.executable).with_name("credledger")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`credledger serve` on a store of its own, with extra settings or another source tree."""

    def __init__(
        self,
        store: str,
        label: str,
        folder: Path,
        env: dict[str, str],
        source: Path | None = None,
        accounts: int = 8,
    ) -> None:
        self.name, self.port = f"{store}, {label}", free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
        env = {
            **base,
            "CREDLEDGER_SECRET_KEY": "bench-" + "k" * 40,
            "CREDLEDGER_LEDGER_KEY": LEDGER_KEY,
            "CREDLEDGER_ADMIN_PASSWORD": ADMIN,
            "CREDLEDGER_RATE_LIMIT_PER_MINUTE": "0",
            **env,
        }
        command = [str(CLI), "serve", "--port", str(self.port)]
        if source is not None:  # another checkout's code, on this environment's packages
            env["PYTHONPATH"] = str(source / "src")
            command = [sys.executable, "-m", "credledger.cli", *command[1:]]
        self.schema = None
        if store == "sqlite":
            env["CREDLEDGER_DATABASE_URL"] = f"sqlite:///{folder}/{uuid.uuid4().hex}.db"
        else:
            self.schema = f"cl_bench_{uuid.uuid4().hex[:8]}"
            env.update(CREDLEDGER_DATABASE_URL=POSTGRES_URL, CREDLEDGER_DATABASE_SCHEMA=self.schema)
            migrations.apply(Settings(database_url=POSTGRES_URL, database_schema=self.schema))
        self.process = subprocess.Popen(
            command, env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        self.accounts = self._accounts(accounts) if accounts else []

    def _accounts(self, count: int) -> list[dict[str, str]]:
        with httpx.Client(base_url=self.url, timeout=60) as c:
            token = c.post("/v1/sessions", json={"loginName": "admin", "password": ADMIN})
            admin = {"Authorization": f"Bearer {token.json()['token']}"}
            alias = f"bench-{uuid.uuid4().hex[:8]}"
            org = c.post(
                "/v1/orgs",
                json={"name": "Bench", "alias": alias, "passwordPolicy": {"historyCount": 0}},
                headers=admin,
            ).json()["orgId"]
            out = []
            for i in range(count):
                body = {"username": f"u{i}", "password": PASSWORDS[0]}
                user = c.post(f"/v1/orgs/{org}/users", json=body, headers=admin).json()["userId"]
                login = {"loginName": f"u{i}@{alias}", "password": PASSWORDS[0]}
                token = c.post("/v1/sessions", json=login).json()["token"]
                out.append({"user": user, "token": token, "current": 0})
        return out

    def changes(self, clients: int, count: int) -> list[float]:
        """`clients` closed-loop clients, `count` changes each; latencies in milliseconds."""
        latencies: list[float] = []
        lock = threading.Lock()

        def client(account: dict) -> None:
            with httpx.Client(base_url=self.url, timeout=60) as c:
                headers = {"Authorization": f"Bearer {account['token']}"}
                for _ in range(count):
                    old = account["current"]
                    body = {"currentPassword": PASSWORDS[old], "newPassword": PASSWORDS[1 - old]}
                    started = time.perf_counter()
                    reply = c.post(
                        f"/v1/users/{account['user']}/password", json=body, headers=headers
                    )
                    elapsed = (time.perf_counter() - started) * 1000
                    assert reply.status_code == 200, reply.text
                    account["current"] = 1 - old
                    with lock:
                        latencies.append(elapsed)

        threads = [threading.Thread(target=client, args=(a,)) for a in self.accounts[:clients]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return latencies

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        if self.schema:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                drop = sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(self.schema))
                conn.execute(drop)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def compare(
    servers: dict[tuple[str, str], Server],
    stores: tuple[str, ...],
    variants: tuple[str, str],
    rounds: int,
    changes: int,
    client_counts: list[int],
) -> None:
    """Rounds alternate which variant goes first, so both share the machine's state of the
    moment; prints medians over every change, and the median of per-round p50 ratios."""
    a, b = variants
    results: dict[tuple[str, int, str], list[float]] = {}
    paired: dict[tuple[str, int], list[float]] = {}  # per round: p50 a / p50 b
    try:
        for round_ in range(rounds):
            for store in stores:
                for clients in client_counts:
                    p50 = {}
                    for variant in variants if round_ % 2 == 0 else variants[::-1]:
                        done = servers[(store, variant)].changes(clients, changes)
                        results.setdefault((store, clients, variant), []).extend(done)
                        p50[variant] = statistics.median(done)
                    paired.setdefault((store, clients), []).append(p50[a] / p50[b])
    finally:
        for server in servers.values():
            server.stop()
    print(
        f"machine: {os.cpu_count()} cores; {rounds} rounds alternating {a}/{b}, "
        f"{changes} changes per client per round"
    )
    print(
        f"| store | clients | changes | p50 {a} (ms) | p50 {b} (ms) | p50 {a}/{b} "
        f"| median of per-round {a}/{b} | p95 {a} | p95 {b} |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for store in stores:
        for clients in client_counts:
            one, two = results[(store, clients, a)], results[(store, clients, b)]
            p50_one, p50_two = statistics.median(one), statistics.median(two)
            print(
                f"| {store} | {clients} | {len(one)} | {p50_one:.1f} | {p50_two:.1f} "
                f"| {p50_one / p50_two:.3f} | {statistics.median(paired[(store, clients)]):.3f} "
                f"| {percentile(one, 0.95):.1f} | {percentile(two, 0.95):.1f} |"
            )


def arguments(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--changes", type=int, default=20, help="per client per round")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    return parser


def stores_of(args: argparse.Namespace) -> tuple[str, ...]:
    return ("sqlite", "postgres") if args.store == "both" else (args.store,)


def main() -> None:
    args = arguments(__doc__).parse_args()
    stores, folder = stores_of(args), Path(tempfile.mkdtemp())
    servers = {
        (store, label): Server(
            store, f"ledger {label}", folder, {"CREDLEDGER_LEDGER_BACKGROUND": str(on).lower()}
        )
        for store in stores
        for label, on in (("on", True), ("off", False))
    }
    compare(servers, stores, ("on", "off"), args.rounds, args.changes, args.clients)


if __name__ == "__main__":
    main()
