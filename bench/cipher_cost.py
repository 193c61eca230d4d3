"""What does encryption at rest cost? Cipher on vs off, side by side in one run.

- Change path: p50 of self-service password changes over HTTP, four `credledger serve`
  processes (SQLite and PostgreSQL, each with `CREDLEDGER_CIPHER_KEY` set and unset),
  production argon2, `historyCount` 0, rounds alternating which variant goes first
  (bench/ledger_change_path.py's harness).
- Rebuild: `projections rebuild` of every read model over N seeded events, on a store written
  with the cipher and one without, runs interleaved; medians, and the median of the per-run
  on/off ratios (after one uncounted warm-up rebuild of each).

Writes the tables to --output (default bench/cipher_results.md) and prints them. Usage:

    .venv/bin/python bench/cipher_cost.py [--events 50000] [--runs 3] [--rounds 5] [--changes 20]
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
from ledger_change_path import Server, arguments, compare, stores_of
from psycopg import sql
from rebuild_throughput import POSTGRES_URL, each_store, rebuild_rate, seed

from credledger import migrations
from credledger.settings import Settings
from credledger.wiring import build_runtime

KEY = base64.b64encode(bytes(range(32))).decode()  # a fixed bench key
HERE = Path(__file__).resolve().parent


def change_path(args) -> str:
    stores, folder = stores_of(args), Path(tempfile.mkdtemp())
    servers = {
        (store, label): Server(store, f"cipher {label}", folder, env)
        for store in stores
        for label, env in (("on", {"CREDLEDGER_CIPHER_KEY": KEY}), ("off", {}))
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        compare(servers, stores, ("on", "off"), args.rounds, args.changes, args.clients)
    return out.getvalue()


def rebuild_pair(settings: Settings, events: int, runs: int) -> dict[str, float]:
    """Two stores from `settings` (one per variant), each seeded alike, rebuilt in turn."""
    runtimes = {}
    for label, key in (("on", KEY), ("off", None)):
        # A store per variant: the events of one may not meet the other's configuration.
        changes: dict[str, object] = {"cipher_key": key}
        if settings.is_postgres:
            changes["database_schema"] = f"{settings.database_schema}_{label}"
        else:
            path = settings.sqlite_path
            changes["database_url"] = f"sqlite:///{path.with_name(f'{label}-{path.name}')}"
        variant = Settings(**(settings.model_dump() | changes))  # validated, nothing cached
        if variant.is_postgres:
            migrations.apply(variant)
        runtimes[label] = build_runtime(variant)
    try:
        seeded = {label: seed(runtime, events) for label, runtime in runtimes.items()}
        assert seeded["on"] == seeded["off"]
        measures = {"rebuild": rebuild_rate, "read + decode": facts_rate}
        for runtime in runtimes.values():
            rebuild_rate(runtime)  # warm-up, not counted: caches, the first run's imports
        rates: dict[tuple[str, str], list[float]] = {}
        for run in range(runs):
            for measure, rate in measures.items():
                order = ("on", "off") if run % 2 == 0 else ("off", "on")
                for label in order:
                    rates.setdefault((measure, label), []).append(rate(runtimes[label]))
        out: dict[str, float] = {"events": seeded["on"]}
        for measure in measures:
            on, off = rates[(measure, "on")], rates[(measure, "off")]
            ratios = sorted(a / b for a, b in zip(on, off, strict=True))
            out |= {
                f"{measure} on": statistics.median(on),
                f"{measure} off": statistics.median(off),
                f"{measure} ratio": statistics.median(ratios),
                f"{measure} low": ratios[0],
                f"{measure} high": ratios[-1],
            }
        out |= cipher_micro(runtimes["on"])
        return out
    finally:
        for runtime in runtimes.values():
            runtime.close()
        if settings.is_postgres:
            _drop_variant_schemas(settings)


def facts_rate(runtime) -> float:
    """What a rebuild reads: every stored row, decrypted and decoded into facts; no writes."""
    facts = runtime.projector.facts
    started, position, count = time.perf_counter(), 0, 0
    while batch := facts.decode(facts.read_after(position, 5000)):
        position, count = batch.last, count + batch.count
    return count / (time.perf_counter() - started)


def cipher_micro(runtime) -> dict[str, float]:
    """Microseconds per encrypt and per decrypt of an event of the median stored size."""
    recorder, cipher = runtime.service.store.recorder, runtime.service.store.mapper.cipher
    states = [bytes(n.state) for n in recorder.select_notifications(start=None, limit=5000)]
    state = sorted(states, key=len)[len(states) // 2]
    plain = cipher.decrypt(state)
    rounds = 20_000
    timings = {}
    for name, call in (
        ("encrypt", lambda: cipher.encrypt(plain)),
        ("decrypt", lambda: cipher.decrypt(state)),
    ):
        started = time.perf_counter()
        for _ in range(rounds):
            call()
        timings[f"{name} us"] = (time.perf_counter() - started) / rounds * 1e6
    return timings | {"event bytes": float(len(plain))}


def _drop_variant_schemas(settings: Settings) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for label in ("on", "off"):
            name = f"{settings.database_schema}_{label}"
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def rebuild_table(args) -> str:
    rows = each_store(args.store, lambda settings: rebuild_pair(settings, args.events, args.runs))
    lines = [
        f"Rebuild of every read model, and its read + decode step alone (no writes), "
        f"{args.runs} interleaved runs; ev/s medians, on/off the median of per-run ratios "
        "(lowest–highest):",
        "",
        "| store | events | measure | cipher on ev/s | cipher off ev/s | on/off | range |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        for measure in ("rebuild", "read + decode"):
            lines.append(
                f"| {name} | {int(r['events']):,} | {measure} | {r[f'{measure} on']:,.0f} "
                f"| {r[f'{measure} off']:,.0f} | {r[f'{measure} ratio']:.2f} "
                f"| {r[f'{measure} low']:.2f}–{r[f'{measure} high']:.2f} |"
            )
    micro = rows[0][1]
    lines += [
        "",
        f"AES-GCM per event of the median size ({micro['event bytes']:.0f} bytes of JSON): "
        f"encrypt {micro['encrypt us']:.1f} µs, decrypt {micro['decrypt us']:.1f} µs.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=HERE / "cipher_results.md")
    args = parser.parse_args()
    header = (
        f"# Encryption at rest: cost\n\n`.venv/bin/python bench/cipher_cost.py` — "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; AES-GCM "
        f"(`CREDLEDGER_CIPHER_KEY`, 32-byte key) on vs off, side by side in one run.\n\n"
    )
    rebuilt = rebuild_table(args)
    print(rebuilt)
    changes = "Password changes (self-service, production argon2):\n\n" + change_path(args)
    print(changes)
    args.output.write_text(header + changes + "\n" + rebuilt, encoding="utf-8")


if __name__ == "__main__":
    main()
