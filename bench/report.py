"""Turns the runs of `bench/run.py` into `bench/results/`: results.json (every run),
results.md (medians over runs; ratios taken within each run, then the median) and
results.png (throughput and p95 against clients)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

NAMES = {"baseline": "baseline", "sqlite": "SQLite", "postgres": "PostgreSQL"}


def _point(run: dict[str, Any], target: str, scenario: str, clients: int) -> dict[str, Any]:
    return run["results"][target].get(scenario, {}).get(str(clients), {})


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _over_runs(runs: list[dict[str, Any]], target: str, scenario: str, clients: int,
               field: str) -> float | None:  # fmt: skip
    return _median([_point(r, target, scenario, clients).get(field) for r in runs])


def _ratio(runs: list[dict[str, Any]], top: tuple[str, str], bottom: tuple[str, str] | None,
           clients: int) -> float | None:  # fmt: skip
    """Median over runs of (top throughput / bottom throughput, or / the hashing bound)."""
    ratios = []
    for run in runs:
        numerator = _point(run, *top, clients).get("throughput")
        denominator = (
            _point(run, *bottom, clients).get("throughput") if bottom
            else min(clients, run["bound"]["cores"]) / run["bound"]["cores"]
            * run["bound"]["changes_per_s"]
        )  # fmt: skip
        if numerator is not None and denominator:
            ratios.append(numerator / denominator)
    return _median(ratios)


def _f(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def write_report(runs: list[dict[str, Any]], folder: Path) -> None:
    (folder / "results.json").write_text(json.dumps(runs, indent=1))
    (folder / "results.md").write_text(markdown(runs))
    plot(runs, folder / "results.png")


def markdown(runs: list[dict[str, Any]]) -> str:
    clients: list[int] = runs[0]["clients"]
    bound = {k: _median([r["bound"][k] for r in runs]) for k in ("hash_ms", "verify_ms",
                                                                  "changes_per_s")}  # fmt: skip
    out = [
        "# Bench results",
        "",
        f"Machine: {runs[0]['machine']}. {len(runs)} run(s) of `./scripts/bench`, "
        f"{runs[0]['seconds']:.0f} s per point after 1 s of warm-up; medians over the runs, "
        "ratios taken within each run and then the median. argon2id m=19 MiB, t=2, p=1.",
        "",
        f"Hashing bound: hash {_f(bound['hash_ms'])} ms + verify {_f(bound['verify_ms'])} ms "
        f"per change on {runs[0]['bound']['cores']} cores = {_f(bound['changes_per_s'])} "
        "changes/s (below that many clients: clients / cores of it).",
        "",
        "## Self-service changes, `historyCount` 0",
        "",
        "| clients | bound /s | baseline /s | SQLite /s | ×baseline | ×bound | PostgreSQL /s "
        "| ×baseline | ×bound | p50 ms base / SQLite / PG | p95 ms base / SQLite / PG "
        "| refused SQLite / PG |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in clients:
        cells = [str(n), _f(_median([min(n, r["bound"]["cores"]) / r["bound"]["cores"]
                                     * r["bound"]["changes_per_s"] for r in runs]))]  # fmt: skip
        cells.append(_f(_over_runs(runs, "baseline", "change_h0", n, "throughput")))
        for target in ("sqlite", "postgres"):
            cells += [
                _f(_over_runs(runs, target, "change_h0", n, "throughput")),
                _f(_ratio(runs, (target, "change_h0"), ("baseline", "change_h0"), n), 2),
                _f(_ratio(runs, (target, "change_h0"), None, n), 2),
            ]
        for field in ("p50", "p95"):
            cells.append(" / ".join(_f(_over_runs(runs, t, "change_h0", n, field), 0)
                                    for t in ("baseline", "sqlite", "postgres")))  # fmt: skip
        cells.append(" / ".join(_f(_over_runs(runs, t, "change_h0", n, "refused"), 0)
                                for t in ("sqlite", "postgres")))  # fmt: skip
        out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "## Changes under the default policy (`historyCount` 4, user with 4 previous passwords)",
        "",
        "| clients | SQLite /s | ×baseline (h0) | p95 ms "
        "| PostgreSQL /s | ×baseline (h0) | p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in clients:
        cells = [str(n)]
        for target in ("sqlite", "postgres"):
            cells += [
                _f(_over_runs(runs, target, "change_default", n, "throughput")),
                _f(_ratio(runs, (target, "change_default"), ("baseline", "change_h0"), n), 2),
                _f(_over_runs(runs, target, "change_default", n, "p95"), 0),
            ]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "## Logins", "",
            "| clients | baseline /s | SQLite /s | ×baseline | PostgreSQL /s | ×baseline "
            "| p95 ms base / SQLite / PG |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    for n in clients:
        cells = [str(n), _f(_over_runs(runs, "baseline", "login", n, "throughput"))]
        for target in ("sqlite", "postgres"):
            cells += [_f(_over_runs(runs, target, "login", n, "throughput")),
                      _f(_ratio(runs, (target, "login"), ("baseline", "login"), n), 2)]  # fmt: skip
        cells.append(" / ".join(_f(_over_runs(runs, t, "login", n, "p95"), 0) for t in
                                ("baseline", "sqlite", "postgres")))  # fmt: skip
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "## User reads against the bare endpoint of the same app", "",
            "| clients | app | bare /s | user read /s | read / bare | read p50 ms | read p99 ms |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    for n in clients:
        for target in ("sqlite", "postgres", "baseline"):
            out.append("| " + " | ".join([
                str(n), NAMES[target],
                _f(_over_runs(runs, target, "bare", n, "throughput")),
                _f(_over_runs(runs, target, "read", n, "throughput")),
                _f(_ratio(runs, (target, "read"), (target, "bare"), n), 2),
                _f(_over_runs(runs, target, "read", n, "p50"), 1),
                _f(_over_runs(runs, target, "read", n, "p99"), 1),
            ]) + " |")  # fmt: skip
    out += ["", "## Under overload", ""]
    one, most = min(clients), max(clients)
    for target in ("sqlite", "postgres"):
        p50_1 = _over_runs(runs, target, "change_h0", one, "p50")
        p95_8 = _over_runs(runs, target, "change_h0", 8, "p95") if 8 in clients else None
        worst = max((_point(r, target, "change_h0", most).get("max") or 0) for r in runs)
        statuses: dict[str, int] = {}
        for run in runs:
            for code, count in _point(run, target, "change_h0", most).get("statuses", {}).items():
                statuses[code] = statuses.get(code, 0) + count
        out.append(
            f"- {NAMES[target]}: p95 at 8 clients / p50 at {one} client = "
            f"{_f(p95_8 / p50_1 if p95_8 and p50_1 else None, 2)}; at {most} clients the "
            f"slowest admitted change took {_f(worst, 0)} ms, refusals answered in "
            f"{_f(_over_runs(runs, target, 'change_h0', most, 'refused_p95'), 0)} ms (p95), "
            f"statuses {statuses}."
        )
    rss = {t: max(r["peak_rss_mib"].get(t, 0) for r in runs) for t in TARGET_ORDER}
    out += ["", "Peak RSS of each server over the whole run (MiB): "
            + ", ".join(f"{NAMES[t]} {rss[t]:.0f}" for t in TARGET_ORDER) + ".", ""]  # fmt: skip
    return "\n".join(out)


TARGET_ORDER = ("baseline", "sqlite", "postgres")


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clients: list[int] = runs[0]["clients"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    lines = [("baseline", "change_h0", "baseline app"), ("sqlite", "change_h0", "SQLite, h0"),
             ("postgres", "change_h0", "PostgreSQL, h0"),
             ("sqlite", "change_default", "SQLite, default policy"),
             ("postgres", "change_default", "PostgreSQL, default policy")]  # fmt: skip
    for target, scenario, label in lines:
        style = "--" if scenario == "change_default" else "-"
        for axis, field in ((left, "throughput"), (right, "p95")):
            values = [_over_runs(runs, target, scenario, n, field) for n in clients]
            axis.plot(clients, values, style, marker="o", label=label)
    bound = [_median([min(n, r["bound"]["cores"]) / r["bound"]["cores"]
                      * r["bound"]["changes_per_s"] for r in runs]) for n in clients]  # fmt: skip
    left.plot(clients, bound, ":", color="grey", label="hashing bound")
    left.set(title="Password changes: throughput", xlabel="clients", ylabel="changes/s",
             xscale="log")  # fmt: skip
    right.set(title="Password changes: p95 latency", xlabel="clients", ylabel="ms",
              xscale="log")  # fmt: skip
    for axis in (left, right):
        axis.set_xticks(clients, [str(n) for n in clients])
        axis.grid(alpha=0.3)
    left.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
