"""`credledger ledger key | checkpoint | prove POSITION | verify [--checkpoint FILE] | rebuild`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from credledger.operations import progress_bar
from credledger.settings import Settings
from credledger.wiring import Runtime, build_runtime
from ledger.leaf import leaf_input
from ledger.note import NoteVerifier
from projections.ledger_verify import verify_ledger
from service.ledger import b64


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ledger = commands.add_parser("ledger", help="the provable log of every stored event")
    action = ledger.add_subparsers(dest="action", required=True)
    action.add_parser("key", help="print the verifier key (C2SP signed-note format)")
    action.add_parser("checkpoint", help="print a signed checkpoint covering every event")
    prove = action.add_parser("prove", help="inclusion proof of one event, with its checkpoint")
    prove.add_argument("position", type=int, help="the event's position (history `position`)")
    verify = action.add_parser("verify", help="recompute the tree and check every checkpoint")
    verify.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint saved earlier; it must be a prefix of today's tree (repeatable)",
    )
    rebuild = action.add_parser("rebuild", help="integrate the whole event store again")
    rebuild.add_argument("--batch-size", type=int, default=5000)


def run(args: argparse.Namespace) -> int:
    runtime = build_runtime(Settings())
    try:
        handler = {
            "key": _key,
            "checkpoint": _checkpoint,
            "prove": _prove,
            "verify": _verify,
            "rebuild": _rebuild,
        }[args.action]
        return handler(runtime, args)
    finally:
        runtime.close()


def _key(runtime: Runtime, _: argparse.Namespace) -> int:
    print(runtime.ledger.verifier_key)
    return 0


def _checkpoint(runtime: Runtime, _: argparse.Namespace) -> int:
    sys.stdout.write(runtime.ledger.signed_checkpoint().note)
    return 0


def _prove(runtime: Runtime, args: argparse.Namespace) -> int:
    ledger = runtime.ledger
    checkpoint = ledger.signed_checkpoint()
    proof = ledger.prove_inclusion(position=args.position, tree_size=checkpoint.size)
    event = ledger.log.inputs_at(proof.position, proof.position).get(proof.position)
    data = (
        leaf_input(
            event.originator_id, event.originator_version, event.id, event.topic, event.state
        )
        if event is not None
        else None
    )
    out = {
        "index": proof.index,
        "position": proof.position,
        "treeSize": proof.tree_size,
        "leafHash": b64(proof.leaf_hash),
        "hashes": [b64(h) for h in proof.hashes],
        "leafInput": b64(data) if data is not None else None,
        "checkpoint": checkpoint.note,
        "verifierKey": ledger.verifier_key,
    }
    print(json.dumps(out, indent=2))
    return 0


def _verify(runtime: Runtime, args: argparse.Namespace) -> int:
    try:
        saved = [(f"checkpoint {n}", Path(n).read_text(encoding="utf-8")) for n in args.checkpoint]
    except (OSError, UnicodeDecodeError) as error:
        print(f"credledger: cannot read a checkpoint: {error}", file=sys.stderr)
        return 2
    verifier = NoteVerifier(runtime.ledger.verifier_key)
    report = verify_ledger(runtime.ledger.log, verifier, saved)
    for problem in report.problems:
        print(f"ledger: {problem}")
    if not report.ok:
        print(f"ledger verify failed: {len(report.problems)} problem(s)")
        return 1
    behind = report.leaves - report.integrated
    if behind:
        print(f"note: {behind} event(s) not integrated yet (the worker is behind)")
    print(f"ledger ok: {report.leaves} leaves, root {b64(report.root)}")
    return 0


def _rebuild(runtime: Runtime, args: argparse.Namespace) -> int:
    log = runtime.ledger.log
    target = log.events_head()
    show = progress_bar("ledger")
    started = time.perf_counter()
    log.reset()
    log.integrate_all(args.batch_size, lambda position: show(position, target))
    head = log.head()
    seconds = time.perf_counter() - started
    root = log.root(head.size)
    rate = head.size / seconds if seconds else 0.0
    print(
        f"\nledger rebuilt: {head.size} leaves, root {b64(root)} in {seconds:.1f}s "
        f"({rate:,.0f} events/s)",
        file=sys.stderr,
    )
    kept = log.latest_checkpoint()
    if kept is not None and (kept.size > head.size or log.root(kept.size) != kept.root):
        print(
            f"ledger: the rebuilt tree disagrees with the kept checkpoint of size {kept.size}; "
            "run `credledger ledger verify`",
            file=sys.stderr,
        )
        return 1
    return 0
