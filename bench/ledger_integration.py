"""Ledger integration from scratch vs the raw event read rate, on SQLite and PostgreSQL.

Seeds N events (bench/rebuild_throughput.py's realistic mix), then measures, interleaved in
one run: the raw notification read, and integrating every event into an empty ledger (what
`credledger ledger rebuild` does: leaf inputs, leaf hashes, completed subtrees, one
transaction per batch, COPY on PostgreSQL). Reports medians of --runs runs. Usage:

    .venv/bin/python bench/ledger_integration.py [--events 100000] [--runs 3] [--store both]
"""

from __future__ import annotations

import os
import statistics
import time

from rebuild_throughput import each_store, read_rate, seed, store_bench_arguments

from credledger.settings import Settings
from credledger.wiring import build_runtime

BATCH = 5000


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
    args = store_bench_arguments()
    rows = each_store(args.store, lambda settings: bench(settings, args.events, args.runs))
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
