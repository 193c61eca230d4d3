"""Reads at the bare endpoint's speed? `GET /v1/users/{id}` against `/healthz`, with wrk.

Starts `credledger serve` on loopback for each store (SQLite file; PostgreSQL schema of its
own, migrated and dropped after), creates a user, logs it in, then alternates wrk runs
(4 connections, one wrk thread) against `/healthz` and the user's own
`GET /v1/users/{id}` (its bearer token in a header), so both share the machine's state of the
moment. Reports the medians of req/s and p99 and the ratio read/healthz. With `--baseline`
another checkout's code (e.g. a `git worktree` of the commit before) is served beside it on
its own store and measured in the same alternation. Needs `wrk` (`apt-get install -y wrk`).

    .venv/bin/python bench/read_speed.py [--rounds 5] [--seconds 5] [--store both]
        [--connections 4] [--baseline ../before]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ledger_change_path import Server

# One login and one user: argon2 does not matter here, so keep setup quick.
QUICK_HASHING = {"CREDLEDGER_ARGON2_MEMORY_COST": "1024", "CREDLEDGER_ARGON2_TIME_COST": "1"}
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Samples:
    rates: list[float] = field(default_factory=list)
    p99s: list[float] = field(default_factory=list)  # milliseconds


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> tuple[float, float]:
    """(requests per second, p99 in ms) of one wrk run; every answer must be a 2xx."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors from {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return rate, float(value) * UNITS[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--baseline", type=Path, help="another checkout, served beside this one")
    args = parser.parse_args()
    stores = ("sqlite", "postgres") if args.store == "both" else (args.store,)
    folder = Path(tempfile.mkdtemp())
    sources: dict[str, Path | None] = {"this": None}
    if args.baseline is not None:
        sources["baseline"] = args.baseline.resolve()
    servers = {
        (store, label): Server(store, label, folder, QUICK_HASHING, source=source, accounts=1)
        for store in stores
        for label, source in sources.items()
    }
    results: dict[tuple[str, str, str], Samples] = {}
    try:
        for server in servers.values():  # warm up: caches, pools, the first compile
            account = server.accounts[0]
            auth = {"Authorization": f"Bearer {account['token']}"}
            wrk(f"{server.url}/v1/users/{account['user']}", 2, args.connections, auth)
        for round_ in range(args.rounds):
            for (store, label), server in servers.items():
                account = server.accounts[0]
                targets = {
                    "healthz": (f"{server.url}/healthz", {}),
                    "read": (
                        f"{server.url}/v1/users/{account['user']}",
                        {"Authorization": f"Bearer {account['token']}"},
                    ),
                }
                order = list(targets) if round_ % 2 == 0 else list(targets)[::-1]
                for name in order:
                    url, headers = targets[name]
                    rate, p99 = wrk(url, args.seconds, args.connections, headers)
                    samples = results.setdefault((store, label, name), Samples())
                    samples.rates.append(rate)
                    samples.p99s.append(p99)
    finally:
        for server in servers.values():
            server.stop()
    print(
        f"machine: {os.cpu_count()} cores; {args.rounds} rounds of {args.seconds} s per target, "
        f"{args.connections} connections, alternating /healthz and the read"
    )
    print(
        "| store | code | /healthz req/s | read req/s | read / healthz (median of rounds) "
        "| p99 healthz (ms) | p99 read (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for store, label in servers:
        health, read = results[(store, label, "healthz")], results[(store, label, "read")]
        ratios = [r / h for r, h in zip(read.rates, health.rates, strict=True)]
        print(
            f"| {store} | {label} | {statistics.median(health.rates):,.0f} "
            f"| {statistics.median(read.rates):,.0f} | {statistics.median(ratios):.2f} "
            f"| {statistics.median(health.p99s):.1f} | {statistics.median(read.p99s):.1f} |"
        )


if __name__ == "__main__":
    main()
