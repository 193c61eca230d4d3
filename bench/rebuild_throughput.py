"""Rebuild throughput of the read models vs the raw event read rate, on SQLite and PostgreSQL.

Seeds N credential events (users with a realistic mix of password events, written straight
through the aggregates, no hashing), then measures in one run, side by side:
  - raw read:        select_notifications in pages, nothing decoded
  - read + decode:   the same, each notification turned into a domain event
  - rebuild:         `credledger projections rebuild` (all models, one pass)
Reports medians of --runs runs. Usage:

    .venv/bin/python bench/rebuild_throughput.py [--events 100000] [--runs 3] [--store both]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from credledger import migrations
from credledger.settings import Settings
from credledger.wiring import build_runtime
from domain.organization import Organization
from domain.policy import PasswordPolicy
from domain.user import PendingReset, User
from projections.rebuild import rebuild

POSTGRES_URL = os.environ.get(
    "CREDLEDGER_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
EVENTS_PER_USER = 50
USERS_PER_SAVE = 100
FAKE_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$" + "A" * 43


def seed(runtime, total: int) -> int:
    store = runtime.service.store
    audit = {
        "actor": "bench",
        "method": "admin",
        "dialect": "native",
        "client": {"remoteAddress": "127.0.0.1"},
    }
    org = Organization(
        name="Bench",
        alias=f"bench-{uuid.uuid4().hex[:8]}",
        policy=PasswordPolicy().to_dict(),
        audit=audit,
    )
    store.save(org)
    written, batch = 1, []
    while written < total:
        user_id = uuid.uuid4()
        user = User(
            id=user_id,
            org_id=org.id,
            username=f"u{user_id.hex[:12]}",
            numeric_id=written,
            email=None,
            full_name=None,
            roles=[],
            audit=audit,
        )
        user.set_password(FAKE_HASH, False, audit)
        for i in range(EVENTS_PER_USER - 2):
            step = i % 6
            if step == 0:
                user.record_failed_check(10, None, audit)
            elif step == 1:
                user.record_successful_check(audit)
                if not user.pending_events[-1:]:
                    user.upgrade_hash(FAKE_HASH)
            elif step == 2:
                user.change_password(FAKE_HASH, False, audit)
            elif step == 3:
                now = datetime.now(UTC)
                user.request_reset(
                    PendingReset(
                        uuid.uuid4().hex,
                        "d" * 64,
                        "e" * 64,
                        now + timedelta(hours=1),
                        now + timedelta(minutes=15),
                    ),
                    "return",
                    audit,
                )
            elif step == 4:
                user.revoke_sessions(None, audit)
            else:
                user.upgrade_hash(FAKE_HASH)
        written += len(user.pending_events)
        batch.append(user)
        if len(batch) == USERS_PER_SAVE:
            store.save(*batch)
            batch = []
    if batch:
        store.save(*batch)
    return written


def read_rate(runtime, decode: bool) -> float:
    recorder, mapper = runtime.service.store.recorder, runtime.service.store.mapper
    started, after, count = time.perf_counter(), None, 0
    while page := recorder.select_notifications(start=after, limit=5000, inclusive_of_start=False):
        if decode:
            for n in page:
                mapper.to_domain_event(n)
        count += len(page)
        after = page[-1].id
    return count / (time.perf_counter() - started)


def rebuild_rate(runtime) -> float:
    report = rebuild(runtime.projector, list(runtime.projector.models), batch_size=5000)
    return report.events / report.seconds


def bench(settings: Settings, events: int, runs: int) -> dict[str, float]:
    runtime = build_runtime(settings)
    try:
        seeded = seed(runtime, events)
        results: dict[str, list[float]] = {"raw read": [], "read + decode": [], "rebuild": []}
        for _ in range(runs):  # interleaved, so each run's numbers share the machine's state
            results["raw read"].append(read_rate(runtime, decode=False))
            results["read + decode"].append(read_rate(runtime, decode=True))
            results["rebuild"].append(rebuild_rate(runtime))
        out = {name: statistics.median(values) for name, values in results.items()}
        out["events"] = seeded
        return out
    finally:
        runtime.close()


BENCH_SETTINGS = {
    "secret_key": "bench-" + "k" * 40,
    "ledger_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # a fixed 32-byte seed
    "argon2_memory_cost": 1024,
    "argon2_time_cost": 1,
}


def each_store(choice: str, run: Callable[[Settings], dict[str, float]]):
    """(name, results) of `run` on a fresh SQLite file and/or a fresh PostgreSQL schema."""
    rows = []
    if choice in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp())
        settings = Settings(database_url=f"sqlite:///{folder}/bench.db", **BENCH_SETTINGS)
        rows.append(("SQLite (file, WAL)", run(settings)))
    if choice in ("postgres", "both"):
        schema = f"cl_bench_{uuid.uuid4().hex[:8]}"
        settings = Settings(database_url=POSTGRES_URL, database_schema=schema, **BENCH_SETTINGS)
        migrations.apply(settings)
        try:
            rows.append(("PostgreSQL 127.0.0.1", run(settings)))
        finally:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return rows


def store_bench_arguments() -> argparse.Namespace:
    """--events, --runs and --store, shared by the benchmarks that seed a store."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    return parser.parse_args()


def main() -> None:
    args = store_bench_arguments()
    rows = each_store(args.store, lambda settings: bench(settings, args.events, args.runs))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    python = platform.python_version()
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {python}; median of {args.runs} runs")
    print(
        "| store | events | raw read ev/s | read+decode ev/s | rebuild ev/s "
        "| rebuild / raw | rebuild / read+decode |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        raw, decoded, rebuilt = r["raw read"], r["read + decode"], r["rebuild"]
        print(
            f"| {name} | {int(r['events']):,} | {raw:,.0f} | {decoded:,.0f} | {rebuilt:,.0f} "
            f"| {rebuilt / raw:.2f} | {rebuilt / decoded:.2f} |"
        )


if __name__ == "__main__":
    main()
