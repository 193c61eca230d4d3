"""The one bench command (`./scripts/bench`): credledger on SQLite and on PostgreSQL against a
plain baseline app (`bench/baseline_app.py`), side by side in one run.

Each run: measures the hashing bound (cores / (verify + hash), an in-process micro-benchmark),
starts the three servers with production argon2 (m=19 MiB, t=2, p=1) and rate limits off,
and drives them from a separate load process (`bench/load.py`) over loopback at 1, 2, 4, 8
and 32 closed-loop clients: self-service changes with `historyCount` 0, changes under the
default policy (a user with 4 previous passwords), logins, user reads and a bare endpoint.
Writes `bench/results/` — every run as JSON, a Markdown table of medians over the runs (and
of ratios taken within each run), and a PNG plot of throughput and p95 against clients.

    ./scripts/bench [--runs 3] [--seconds 5] [--clients 1 2 4 8 32] [--results DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2 as httpx
from argon2 import PasswordHasher, Type
from ledger_change_path import ADMIN, Server, free_port

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CYCLE = [f"Bench-cycle-{i}-Quartz-{i * 7919}" for i in range(6)]  # 6 apart: never reused
TARGETS = ("baseline", "sqlite", "postgres")
SCENARIOS = ("change_h0", "change_default", "login", "read", "bare")
Request = dict[str, Any]


# --- the hashing bound ---


def hashing_bound(samples: int = 15) -> dict[str, float]:
    hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, type=Type.ID)
    encoded = hasher.hash(CYCLE[0])
    hash_s, verify_s = [], []
    for _ in range(samples):
        started = time.perf_counter()
        hasher.hash(CYCLE[1])
        hash_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        hasher.verify(encoded, CYCLE[0])
        verify_s.append(time.perf_counter() - started)
    cores = os.cpu_count() or 1
    hash_ms, verify_ms = statistics.median(hash_s) * 1000, statistics.median(verify_s) * 1000
    return {"cores": cores, "hash_ms": hash_ms, "verify_ms": verify_ms,
            "changes_per_s": cores * 1000 / (hash_ms + verify_ms)}  # fmt: skip


# --- the servers and what each scenario sends ---


class Baseline:
    name = "baseline"

    def __init__(self, folder: Path, clients: int) -> None:
        self.port = free_port()
        env = {**os.environ, "BASELINE_DATABASE": str(folder / f"{uuid.uuid4().hex}.db")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "baseline_app:app",
             "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        _wait_for(f"{self.url}/ping")
        with httpx.Client(base_url=self.url, timeout=60) as c:
            self.users = [f"u{i}" for i in range(clients)]
            self.logins = [f"login{i}" for i in range(clients)]
            for user in self.users + self.logins:
                c.post("/users", json={"id": user, "password": CYCLE[0]}).raise_for_status()

    def plan(self, scenario: str, clients: int) -> list[list[Request]] | None:
        users = self.users[:clients]
        if scenario == "change_h0":
            return [_alternate(f"/users/{u}/password", {}) for u in users]
        if scenario == "login":
            return [[_post("/sessions", {"id": u, "password": CYCLE[0]})]
                    for u in self.logins[:clients]]  # fmt: skip
        if scenario == "read":
            return [[{"method": "GET", "path": f"/users/{u}"}] for u in self.logins[:clients]]
        if scenario == "bare":
            return [[{"method": "GET", "path": "/ping"}] for _ in users]
        return None  # no policies, so no default-policy changes

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Credledger:
    def __init__(self, store: str, folder: Path, clients: int) -> None:
        self.name = store
        self.server = Server(store, "bench", folder, {}, accounts=0)
        self.process = self.server.process
        with httpx.Client(base_url=self.server.url, timeout=120) as c:
            admin = _bearer(c.post("/v1/sessions", json={"loginName": "admin", "password": ADMIN}))
            h0 = self._users(c, admin, {"historyCount": 0}, clients, [CYCLE[0]])
            kept = self._users(c, admin, {}, clients, CYCLE[:5])  # current 4, four before it
            self.logins = self._users(c, admin, {"historyCount": 0}, clients, [CYCLE[0]])
        self.h0, self.kept = h0, kept

    def _users(self, c: httpx.Client, admin: dict[str, str], policy: dict[str, Any],
               count: int, passwords: list[str]) -> list[dict[str, Any]]:  # fmt: skip
        alias = f"bench-{uuid.uuid4().hex[:8]}"
        body = {"name": "Bench", "alias": alias, "passwordPolicy": policy}
        org = c.post("/v1/orgs", json=body, headers=admin).json()["orgId"]
        users = []
        for i in range(count):
            body = {"username": f"u{i}", "password": passwords[0]}
            user = c.post(f"/v1/orgs/{org}/users", json=body, headers=admin).json()["userId"]
            for password in passwords[1:]:
                c.post(f"/v1/users/{user}/password", json={"newPassword": password},
                       headers=admin).raise_for_status()  # fmt: skip
            login = {"loginName": f"u{i}@{alias}", "password": passwords[-1]}
            users.append(
                {"id": user, "login": login, "auth": _bearer(c.post("/v1/sessions", json=login))}
            )
        return users

    def plan(self, scenario: str, clients: int) -> list[list[Request]]:
        if scenario == "change_h0":
            return [
                _alternate(f"/v1/users/{u['id']}/password", u["auth"]) for u in self.h0[:clients]
            ]
        if scenario == "change_default":
            return [_cycle(f"/v1/users/{u['id']}/password", u["auth"]) for u in self.kept[:clients]]
        if scenario == "login":
            return [[_post("/v1/sessions", u["login"])] for u in self.logins[:clients]]
        if scenario == "read":
            return [[{"method": "GET", "path": f"/v1/users/{u['id']}", "headers": u["auth"]}]
                    for u in self.logins[:clients]]  # fmt: skip
        return [[{"method": "GET", "path": "/healthz"}] for _ in range(clients)]

    def stop(self) -> None:
        self.server.stop()


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def _bearer(reply: httpx.Response) -> dict[str, str]:
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def _post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Request:
    return {"method": "POST", "path": path, "json": body, "headers": headers or {}}


def _alternate(path: str, headers: dict[str, str]) -> list[Request]:
    names = ("currentPassword", "newPassword")
    return [_post(path, dict(zip(names, pair, strict=True)), headers)
            for pair in ((CYCLE[0], CYCLE[1]), (CYCLE[1], CYCLE[0]))]  # fmt: skip


def _cycle(path: str, headers: dict[str, str]) -> list[Request]:
    """From the 5th password through all six: each new one was last used 6 changes ago."""
    order = [CYCLE[(4 + i) % 6] for i in range(7)]
    return [_post(path, {"currentPassword": old, "newPassword": new}, headers)
            for old, new in zip(order, order[1:], strict=False)]  # fmt: skip


# --- one run ---


def drive(
    base: str, plan: list[list[Request]], seconds: float, done: dict[int, int]
) -> dict[str, Any]:
    """`done`: per client slot, how many of its cycle's requests succeeded in earlier points
    (the same users serve every client count), so each cycle goes on where it stands."""
    plan = [cycle[done.get(i, 0) % len(cycle):] + cycle[: done.get(i, 0) % len(cycle)]
            for i, cycle in enumerate(plan)]  # fmt: skip
    spec = json.dumps({"base": base, "seconds": seconds, "warmup": 1.0, "clients": plan})
    out = subprocess.run(
        [sys.executable, str(HERE / "load.py")], input=spec, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    outcome = json.loads(out.stdout)
    for i, turns in enumerate(outcome["turns"]):
        done[i] = done.get(i, 0) + turns
    return outcome


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one_run(clients: list[int], seconds: float) -> dict[str, Any]:
    bound = hashing_bound()
    folder = Path(tempfile.mkdtemp())
    most = max(clients)
    servers = [Baseline(folder, most), Credledger("sqlite", folder, most),
               Credledger("postgres", folder, most)]  # fmt: skip
    results: dict[str, Any] = {t: {} for t in TARGETS}
    done: dict[tuple[str, str], dict[int, int]] = {}
    try:
        for scenario in SCENARIOS:
            for count in clients:
                for server in servers:  # side by side: the same moment for all three
                    plan = server.plan(scenario, count)
                    if plan is None:
                        continue
                    url = server.server.url if isinstance(server, Credledger) else server.url
                    outcome = drive(
                        url, plan, seconds, done.setdefault((server.name, scenario), {})
                    )
                    results[server.name].setdefault(scenario, {})[str(count)] = outcome
                    print(f"{server.name:9} {scenario:15} {count:>3} clients: "
                          f"{outcome['throughput']:8.1f}/s p95 {outcome['p95'] or 0:7.1f} ms "
                          f"{outcome['statuses']}", file=sys.stderr, flush=True)  # fmt: skip
        rss = {server.name: peak_rss_mib(server.process.pid) for server in servers}
    finally:
        for server in servers:
            server.stop()
    return {"bound": bound, "results": results, "peak_rss_mib": rss,
            "machine": machine(), "seconds": seconds, "clients": clients}  # fmt: skip


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(mem) // 1024 // 1024} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8, 32])
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="where to write (default bench/results)"
    )
    args = parser.parse_args()
    results = args.results.resolve()
    results.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    runs = []
    for index in range(args.runs):
        print(f"run {index + 1} of {args.runs}", file=sys.stderr, flush=True)
        runs.append(one_run(args.clients, args.seconds))
        (results / f"run-{stamp}-{index + 1}.json").write_text(json.dumps(runs[-1], indent=1))
    from report import write_report  # matplotlib only when there is something to plot

    write_report(runs, results)


if __name__ == "__main__":
    main()
