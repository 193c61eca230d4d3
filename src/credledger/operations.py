"""Operator and auditor commands: projections status|run|rebuild, verify, history, export."""

from __future__ import annotations

import argparse
import csv
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from uuid import UUID

from credledger.settings import Settings
from credledger.wiring import Runtime, build_runtime
from domain.user import User
from projections.audit import replay_history
from projections.rebuild import rebuild
from projections.status import status
from projections.verify import verify


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    projections = commands.add_parser("projections", help="read-model operations")
    action = projections.add_subparsers(dest="action", required=True)
    action.add_parser("status", help="position and lag of every read model")
    action.add_parser("run", help="run the projection worker in the foreground")
    rebuild_cmd = action.add_parser("rebuild", help="rebuild read models beside the live ones")
    rebuild_cmd.add_argument("name", nargs="?", help="one model (default: all)")
    rebuild_cmd.add_argument("--batch-size", type=int, default=5000)
    commands.add_parser("verify", help="replay every aggregate and diff the read models")
    history = commands.add_parser("history", help="a user's history from the event store")
    history.add_argument("login_name", help="user@alias, a bare username, or a user id")
    history.add_argument("--json", action="store_true")
    export = commands.add_parser("export", help="the credential feed for a time range")
    export.add_argument("--since", required=True, help="RFC 3339, inclusive")
    export.add_argument("--until", required=True, help="RFC 3339, exclusive")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")


def run(args: argparse.Namespace) -> int:
    runtime = build_runtime(Settings())
    try:
        if args.command == "projections":
            handler = {"status": _status, "run": _run, "rebuild": _rebuild}[args.action]
        else:
            handler = {"verify": _verify, "history": _history, "export": _export}[args.command]
        return handler(runtime, args)
    finally:
        runtime.close()


def _status(runtime: Runtime, _: argparse.Namespace) -> int:
    print(f"{'model':<15}{'gen':>4}{'position':>12}{'head':>12}{'lag events':>12}{'lag s':>9}")
    for s in status(runtime.projector, runtime.ledger.log):
        print(
            f"{s.model:<15}{s.generation:>4}{s.position:>12}{s.head:>12}"
            f"{s.lag_events:>12}{s.lag_seconds:>9.1f}"
        )
    return 0


def _run(runtime: Runtime, _: argparse.Namespace) -> int:
    worker = runtime.worker()
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    worker.start()
    print("credledger: projection worker running", file=sys.stderr, flush=True)
    stopped.wait()
    worker.stop()
    return 0


def _rebuild(runtime: Runtime, args: argparse.Namespace) -> int:
    names = [args.name] if args.name else list(runtime.projector.models)
    unknown = set(names) - set(runtime.projector.models)
    if unknown:
        print(
            f"credledger: unknown read model {sorted(unknown)}; "
            f"known: {sorted(runtime.projector.models)}",
            file=sys.stderr,
        )
        return 2
    label = ",".join(names)
    report = rebuild(runtime.projector, names, args.batch_size, progress_bar(label))
    rate = report.events / report.seconds if report.seconds else 0.0
    resumed = " (resumed)" if report.resumed else ""
    print(
        f"\n{label}: generation {report.generation}, {report.events} events in "
        f"{report.seconds:.1f}s ({rate:,.0f} events/s){resumed}",
        file=sys.stderr,
    )
    return 0


def progress_bar(name: str, unit: str = "position") -> Callable[[int, int], None]:
    started = time.perf_counter()

    def show(position: int, head: int) -> None:
        done = min(1.0, position / head) if head else 1.0
        bar = "#" * int(done * 30)
        rate = position / max(1e-9, time.perf_counter() - started)
        sys.stderr.write(
            f"\r{name:<14}[{bar:<30}] {done:6.1%} {unit} {position:,} of {head:,} ({rate:,.0f}/s)"
        )
        sys.stderr.flush()

    return show


def _verify(runtime: Runtime, _: argparse.Namespace) -> int:
    report = verify(runtime.projector, runtime.reads.models)
    for line in report.drift:
        print(f"drift: {line}")
    print(
        f"verified {report.users} users, {report.orgs} organizations, "
        f"{report.history_rows} history rows: {len(report.drift)} drifting"
    )
    return 1 if report.drift else 0


def _history(runtime: Runtime, args: argparse.Namespace) -> int:
    service = runtime.service
    try:
        user = service.load(User, UUID(args.login_name))  # removed users keep their history
    except ValueError:
        user = service.user_by_login_name(args.login_name)
    if user is None:
        print(f"credledger: no user {args.login_name!r}", file=sys.stderr)
        return 1
    user_id = user.id
    entries = replay_history(service.store, user_id)
    if args.json:
        print(json.dumps({"userId": str(user_id), "events": [e.as_json() for e in entries]}))
        return 0
    for e in entries:
        print(
            f"{e.sequence:>5}  {e.occurred_at}  {e.type:<32} {e.actor:<38} "
            f"{e.method or '-':<12} {e.dialect or '-'}"
        )
    return 0


def _export(runtime: Runtime, args: argparse.Namespace) -> int:
    models = runtime.reads.models
    models.fresh(timeout=60)
    since, until = _utc(args.since), _utc(args.until)
    columns = [
        "position",
        "occurredAt",
        "type",
        "userId",
        "orgId",
        "sequence",
        "actor",
        "method",
        "dialect",
        "client",
    ]
    writer = csv.writer(sys.stdout) if args.format == "csv" else None
    if writer:
        writer.writerow(columns)
    for row in models.feed_between(since, until):
        item = [
            row.position,
            row.occurred_at,
            row.type,
            row.user_id,
            row.org_id,
            str(row.sequence),
            row.actor,
            row.method,
            row.dialect,
            json.dumps(row.client, sort_keys=True),
        ]
        if writer:
            writer.writerow(item)
        else:
            record = dict(zip(columns, item, strict=True))
            record["client"] = row.client
            print(json.dumps(record))
    return 0


def _utc(text: str) -> str:
    from datetime import UTC, datetime

    from projections.event_types import iso

    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment) or ""
