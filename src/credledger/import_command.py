"""`credledger import FILE [--org ALIAS]` and `credledger import --report [--org ALIAS]`.

FILE holds JSON lines, one user each (CONTRACTS §7). It is read and imported a chunk at a
time, so a file of millions of users needs no more memory than a chunk. Refusals name the
line; the command exits 1 when any line was refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

from credledger.operations import progress_bar
from credledger.settings import Settings
from credledger.wiring import Runtime, build_runtime
from domain.errors import InvalidArgument, OrgNotFound
from service.context import INSTANCE_ADMIN, Actor, RequestContext
from service.imports import ImportResult, Refusal

CHUNK_LINES = 5000
CLI_CONTEXT = RequestContext("cli", {})


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    command = commands.add_parser("import", help="import users with their existing hashes")
    command.add_argument("file", nargs="?", type=Path, help="JSON lines, one user each")
    command.add_argument("--org", metavar="ALIAS", help="the organization (default: 'default')")
    command.add_argument(
        "--report", action="store_true", help="how many users still carry each imported scheme"
    )
    command.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when standard error is a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    if args.report == (args.file is not None):
        raise ValueError("give either FILE or --report")
    runtime = build_runtime(Settings())
    try:
        actor, org_id = _operator(runtime, args.org)
        if args.report:
            return _report(runtime, actor, org_id)
        return _import(runtime, actor, org_id, args.file, _show_progress(args.progress))
    finally:
        runtime.close()


def _operator(runtime: Runtime, alias: str | None) -> tuple[Actor, UUID]:
    """The instance admin (the operator runs the command), and the org to import into."""
    service = runtime.service
    instance = service.instance()
    if instance is None:
        raise ValueError("the instance is not initialised: run `credledger init` or `serve`")
    org_id = service.org_id_for_alias(alias) if alias else instance.default_org_id
    if org_id is None:
        raise OrgNotFound(f"No organization with the alias {alias!r}")
    actor = Actor(instance.admin_user_id, instance.default_org_id, (INSTANCE_ADMIN,))
    return actor, org_id


def _import(runtime: Runtime, actor: Actor, org_id: UUID, path: Path, show_progress: bool) -> int:
    total_bytes = path.stat().st_size
    show = progress_bar("import", unit="bytes") if show_progress else None
    result = ImportResult()
    for rows, line_numbers, bad_json, read_bytes in _chunks(path):
        chunk = runtime.service.import_users(actor, org_id, rows, CLI_CONTEXT)
        # The service counts rows from 0 within the chunk; operators read line numbers.
        result.imported.extend((line_numbers[i], user) for i, user in chunk.imported)
        result.refused.extend(
            Refusal(line_numbers[r.index], r.code, r.message) for r in chunk.refused
        )
        result.refused.extend(bad_json)
        if show is not None:
            show(read_bytes, total_bytes)
    if show is not None:
        sys.stderr.write("\n")
    for refusal in sorted(result.refused, key=lambda r: r.index):
        print(f"line {refusal.index}: {refusal.code}: {refusal.message}")
    print(f"imported {len(result.imported)}, refused {len(result.refused)}")
    return 1 if result.refused else 0


def _chunks(path: Path) -> Iterator[tuple[list[Any], list[int], list[Refusal], int]]:
    """(rows, their line numbers, lines that are not JSON, bytes read so far) per chunk."""
    rows: list[Any] = []
    numbers: list[int] = []
    bad: list[Refusal] = []
    read = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            read += len(line)
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
                numbers.append(number)
            except (json.JSONDecodeError, UnicodeDecodeError):
                bad.append(Refusal(number, InvalidArgument.code, "not a JSON object on one line"))
            if len(rows) + len(bad) >= CHUNK_LINES:
                yield rows, numbers, bad, read
                rows, numbers, bad = [], [], []
    if rows or bad:
        yield rows, numbers, bad, read


def _report(runtime: Runtime, actor: Actor, org_id: UUID) -> int:
    schemes = runtime.reads.import_report(actor, org_id)
    for scheme, count in schemes.items():
        print(f"{scheme:<24}{count:>10}")
    print(f"{'total':<24}{sum(schemes.values()):>10}")
    return 0


def _show_progress(asked: bool | None) -> bool:
    return sys.stderr.isatty() if asked is None else asked
