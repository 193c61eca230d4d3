"""Ledger integration from scratch vs the raw event read rate, on SQLite and PostgreSQL.

Seeds N events (bench/rebuild_throughput.py's realistic mix), then measures, interleaved in
one run: the raw notification read, and integrating every event into an empty ledger (what
`credledger ledger rebuild` does: leaf inputs, leaf hashes, completed subtrees, one
transaction per batch, COPY on PostgreSQL). Reports medians of --runs runs. Usage:

    .venv/bin/python bench/ledger_integration.py [--events 100000] [--runs 3] [--store both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from rebuild_throughput import POSTGRES_URL, read_rate, seed

from credledger import migrations
from credledger.settings import Settings
from credledger.wiring import build_runtime

BATCH = 5000
BENCH_LEDGER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def integrate_rate(runtime) -> tuple[float, int]:
    log = runtime.ledger.log
    log.reset()
    started = time.perf_counter()
    log.integrate_all(BATCH)
    seconds = time.perf_counter() - started
    return log.head().size / seconds, log.head().size


def bench(settings: Settings, events: int, runs: int) -> dict[str, float]:
    runtime = build_runtime(settings)
    try:
        seed(runtime, events)
        raw, integrated, leaves = [], [], 0
        for _ in range(runs):  # interleaved, so both share the machine's state of the moment
            raw.append(read_rate(runtime, decode=False))
            rate, leaves = integrate_rate(runtime)
            integrated.append(rate)
        return {
            "leaves": leaves,
            "raw": statistics.median(raw),
            "integrate": statistics.median(integrated),
            "min": min(integrated),
        }
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    common = {
        "secret_key": "bench-" + "k" * 40,
        "ledger_key": BENCH_LEDGER_KEY,
        "argon2_memory_cost": 1024,
        "argon2_time_cost": 1,
    }
    rows = []
    if args.store in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp())
        settings = Settings(database_url=f"sqlite:///{folder}/bench.db", **common)
        rows.append(("SQLite (file, WAL)", bench(settings, args.events, args.runs)))
    if args.store in ("postgres", "both"):
        schema = f"cl_bench_{uuid.uuid4().hex[:8]}"
        settings = Settings(database_url=POSTGRES_URL, database_schema=schema, **common)
        migrations.apply(settings)
        try:
            rows.append(("PostgreSQL 127.0.0.1", bench(settings, args.events, args.runs)))
        finally:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    print(f"machine: {os.cpu_count()} cores; median of {args.runs} runs, batches of {BATCH}")
    print("| store | leaves | raw read ev/s | integrate ev/s (median) | slowest run | ratio |")
    print("|---|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {int(r['leaves']):,} | {r['raw']:,.0f} | {r['integrate']:,.0f} "
            f"| {r['min']:,.0f} | {r['integrate'] / r['raw']:.2f} |"
        )


if __name__ == "__main__":
    main()
