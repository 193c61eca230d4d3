"""The load process: closed-loop HTTP clients over loopback, one asyncio loop.

Reads a plan (JSON on stdin): `{"base": url, "seconds": s, "warmup": s, "clients": [[request,
...], ...]}`, one list of requests per client, each `{"method", "path", "headers"?, "json"?}`.
A client sends its requests in turn, moving to the next one only after a 2xx (so a refused
password change is tried again with the same passwords). Prints one JSON line: throughput of
2xx answers, latency percentiles (ms) of 2xx and of refusals (429/503), every status, and
each client's count of successes (so the next plan can go on where its cycle stands).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

import httpx2 as httpx


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def client(
    http: httpx.AsyncClient, requests: list[dict[str, Any]], until: float, start: float,
    ok: list[float], refused: list[float], statuses: dict[int, int],
) -> int:  # fmt: skip
    """Returns how many of its requests succeeded: where its cycle stands."""
    turn = 0
    while True:
        now = time.perf_counter()
        if now >= until:
            return turn
        request = requests[turn % len(requests)]
        reply = await http.request(
            request["method"], request["path"],
            headers=request.get("headers"), json=request.get("json"),
        )  # fmt: skip
        elapsed = (time.perf_counter() - now) * 1000
        if now < start:
            if 200 <= reply.status_code < 300:
                turn += 1
            continue  # warm-up: not counted
        statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
        if 200 <= reply.status_code < 300:
            ok.append(elapsed)
            turn += 1
        elif reply.status_code in (429, 503):
            refused.append(elapsed)
            await asyncio.sleep(0.05)  # a real client would honour Retry-After; keep probing


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    ok: list[float] = []
    refused: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=len(plan["clients"]) + 4)
    async with httpx.AsyncClient(base_url=plan["base"], timeout=120, limits=limits) as http:
        start = time.perf_counter() + plan.get("warmup", 1.0)
        until = start + plan["seconds"]
        turns = await asyncio.gather(
            *(client(http, reqs, until, start, ok, refused, statuses) for reqs in plan["clients"])
        )
    return {
        "clients": len(plan["clients"]),
        "seconds": plan["seconds"],
        "ok": len(ok),
        "throughput": len(ok) / plan["seconds"],
        "p50": statistics.median(ok) if ok else None,
        "p95": percentile(ok, 0.95),
        "p99": percentile(ok, 0.99),
        "max": max(ok) if ok else None,
        "refused": len(refused),
        "refused_p95": percentile(refused, 0.95),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "turns": list(turns),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))
