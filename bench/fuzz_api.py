"""Fuzz the whole HTTP API with schemathesis and record the outcome.

Starts `credledger serve` on a fresh embedded SQLite store (cheap argon2 as in the tests,
rate limits off so the fuzzer is not throttled), runs `schemathesis run` over every operation
of its /openapi.json with schemathesis's default checks and phases, as the instance admin
(bench/fuzz_hooks.py), bounded by examples per operation and a hard time limit, then writes
bench/fuzz_results.md: test cases generated, requests sent and answered, failures, 5xx
answers, duration. Usage (`./scripts/fuzz-api` installs what it needs first):

    .venv/bin/python bench/fuzz_api.py [--max-examples 200] [--seed 1] [--timeout 600]

Exit status: 0 when schemathesis reports no failure and the server answered no 5xx.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LOGIN, PASSWORD = "admin", "Fuzzing-chief-pw-1"
# Route labels hold braces (`/v1/users/{user_id}`): the label set runs to the last `}`.
METRIC = re.compile(r"^credledger_http_requests_total\{(?P<labels>.*)\} (?P<value>\S+)$")


@dataclass
class Outcome:
    seconds: float
    exit_code: int
    report: dict
    interactions: int
    interactions_5xx: int
    answered: int
    answered_5xx: int
    logins: int


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600, help="hard limit, seconds")
    parser.add_argument("--results", type=Path, default=BENCH / "fuzz_results.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="credledger-fuzz-") as folder:
        work = Path(folder)
        with server(work) as base_url:
            outcome = fuzz(base_url, work, args.max_examples, args.seed, args.timeout)
    write_results(args.results, outcome, args)
    print(args.results.read_text())
    failures = outcome.report["test_cases"]["with_failures"]
    return 0 if outcome.exit_code == 0 and not failures and not outcome.answered_5xx else 1


@contextmanager
def server(work: Path) -> Iterator[str]:
    """`credledger serve` on its own SQLite store and port; stopped (and its log shown if it
    failed to come up) on the way out."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
    env.update(
        CREDLEDGER_DATABASE_URL=f"sqlite:///{work}/store/credledger.db",
        CREDLEDGER_ADMIN_PASSWORD=PASSWORD,
        CREDLEDGER_ARGON2_TIME_COST="1",  # the tests' cheap parameters: fuzz the API, not argon2
        CREDLEDGER_ARGON2_MEMORY_COST="1024",
        CREDLEDGER_RATE_LIMIT_PER_MINUTE="0",
        CREDLEDGER_MAIL_OUTBOX=f"file:{work}/mail.jsonl",
    )
    (work / "store").mkdir()
    log = (work / "server.log").open("w")
    command = [str(BIN / "credledger"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, process, work / "server.log")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not come up:\n{log.read_text()[-4000:]}")


def fuzz(base_url: str, work: Path, max_examples: int, seed: int, timeout: float) -> Outcome:
    reports, logins = work / "reports", work / "logins"
    logins.touch()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")])),
        "SCHEMATHESIS_HOOKS": "fuzz_hooks",
        "FUZZ_BASE_URL": base_url,
        "FUZZ_LOGIN": LOGIN,
        "FUZZ_PASSWORD": PASSWORD,
        "FUZZ_LOGINS_FILE": str(logins),
    }
    command = [
        str(BIN / "schemathesis"), "--config-file", str(BENCH.parent / "schemathesis.toml"),
        "run", f"{base_url}/openapi.json", "--max-examples", str(max_examples),
        "--seed", str(seed), "--workers", "1", "--report", "json,ndjson",
        "--report-dir", str(reports), "--no-color",
    ]  # fmt: skip
    before = answered(base_url)
    started = time.monotonic()
    with (work / "schemathesis.txt").open("w") as output:
        # In the scratch folder: schemathesis keeps a cache of crashes in its working directory.
        run = subprocess.run(command, env=env, cwd=work, stdout=output, stderr=subprocess.STDOUT,
                             timeout=timeout, check=False)  # fmt: skip
    seconds = time.monotonic() - started
    after = answered(base_url)
    print((work / "schemathesis.txt").read_text()[-6000:])
    report = json.loads(next(reports.glob("*.json")).read_text())
    interactions, interactions_5xx = count_interactions(next(reports.glob("*.ndjson")))
    return Outcome(
        seconds=seconds,
        exit_code=run.returncode,
        report=report,
        interactions=interactions,
        interactions_5xx=interactions_5xx,
        answered=after[0] - before[0],
        answered_5xx=after[1] - before[1],
        logins=len(logins.read_text().splitlines()),
    )


def answered(base_url: str) -> tuple[int, int]:
    """(requests, 5xx answers) the server counted so far, from its own /metrics."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    total = errors = 0
    for line in text.splitlines():
        if match := METRIC.match(line):
            count = int(float(match["value"]))
            total += count
            errors += count if 'status="5' in match["labels"] else 0
    return total, errors


def count_interactions(ndjson: Path) -> tuple[int, int]:
    """(requests, 5xx answers) as schemathesis recorded them. A scenario may be reported more
    than once (a partial, then the final record), so interactions count once by their id."""
    statuses: dict[str, int] = {}
    for line in ndjson.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if finished is None:
            continue
        for key, interaction in finished["recorder"].get("interactions", {}).items():
            statuses[key] = (interaction.get("response") or {}).get("status_code", 0)
    return len(statuses), sum(status >= 500 for status in statuses.values())


def write_results(path: Path, outcome: Outcome, args: argparse.Namespace) -> None:
    report = outcome.report
    cases = report["test_cases"]
    failures = report.get("failures", [])
    phases = ", ".join(f"{name} {p['status']}" for name, p in report["phases"].items())
    lines = [
        "# API fuzzing (schemathesis)",
        "",
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `./scripts/fuzz-api "
        f"--max-examples {args.max_examples} --seed {args.seed}`: schemathesis "
        f"{report['schemathesis_version']}, all default checks and phases, every operation "
        "of `/openapi.json`, as the instance admin, against `credledger serve` on a fresh "
        "SQLite store (cheap argon2, rate limits off).",
        "",
        "| what | count |",
        "|---|---|",
        f"| operations tested | {report['operations']['tested']} of "
        f"{report['operations']['total']} |",
        f"| test cases generated | {cases['generated']} |",
        f"| requests in schemathesis's report (one per test case) | {outcome.interactions} |",
        f"| HTTP requests the server answered (its /metrics: also the checks' extra requests, "
        f"e.g. undeclared methods, and {outcome.logins} logins of the harness) | "
        f"{outcome.answered} |",
        f"| test cases with failures | {cases['with_failures']} "
        f"({cases['unique_failures']} unique) |",
        f"| 5xx answers (server's /metrics / schemathesis's report) | {outcome.answered_5xx} / "
        f"{outcome.interactions_5xx} |",
        f"| errored test cases | {cases['errored']} |",
        f"| duration | {outcome.seconds:.0f} s |",
        f"| schemathesis exit code | {outcome.exit_code} |",
        "",
        f"Phases: {phases}.",
        "",
    ]
    for failure in failures:
        operations = ", ".join(f"`{op}`" for op in failure["operations"])
        lines.append(f"- {failure['code']} {failure['title']} ({failure['count']}): {operations}")
    path.write_text("\n".join(lines).rstrip() + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
