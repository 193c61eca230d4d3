"""Does an anonymous reset invitation tell who exists by its timing? (CONTRACTS §14)

Starts `credledger serve` on SQLite and on PostgreSQL (a store of its own each, rate limits
off, the `log` mail outbox), registers users with an email in one org, then sends Kendox
`SendPasswordResetInvitation` calls from one keep-alive client, interleaved: a real user who
has no reset pending (each real user is asked for once, so every real call issues a reset
and a mail), then an unknown user of the same tenant, and so on. Reports the median latency
of each kind and their ratio, with and without a pause between calls (without one, the
background issuing of a real call overlaps the next call, whichever it is). Usage:

    .venv/bin/python bench/invitation_timing.py [--calls 200] [--stores sqlite postgres]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx2 as httpx
from ledger_change_path import ADMIN, PASSWORDS, Server

INVITE = "/InfoShare/Json/Authentication/SendPasswordResetInvitation"
RESULTS = Path(__file__).with_name("invitation_timing_results.md")


def prepare(server: Server, users: int) -> tuple[str, list[str]]:
    """An org allowing links under its own pages, and `users` users with an email."""
    with httpx.Client(base_url=server.url, timeout=60) as c:
        token = c.post("/v1/sessions", json={"loginName": "admin", "password": ADMIN})
        admin = {"Authorization": f"Bearer {token.json()['token']}"}
        alias = f"bench-{uuid.uuid4().hex[:8]}"
        org = c.post("/v1/orgs", json={"name": "Bench", "alias": alias}, headers=admin)
        org_id = org.json()["orgId"]
        names = []
        for i in range(users):
            body = {"username": f"u{i}", "password": PASSWORDS[0], "email": f"u{i}@example.org"}
            assert c.post(f"/v1/orgs/{org_id}/users", json=body, headers=admin).status_code == 201
            names.append(f"u{i}")
    return alias, names


def interleaved(server: Server, alias: str, real: list[str], pause: float) -> dict[str, float]:
    target = "http://127.0.0.1:8080/ui/reset?token=%LoginToken%"  # the default public URL
    times: dict[str, list[float]] = {"real": [], "unknown": []}
    with httpx.Client(base_url=server.url, timeout=60) as c:
        c.post(INVITE, json={"tenantName": alias, "user": "warm-up", "targetURL": target})
        for name in real:
            for kind, user in (("real", name), ("unknown", f"ghost-{uuid.uuid4().hex[:8]}")):
                body = {"tenantName": alias, "user": user, "targetURL": target}
                start = time.perf_counter()
                reply = c.post(INVITE, json=body)
                times[kind].append((time.perf_counter() - start) * 1000)
                assert reply.status_code == 200 and reply.content == b"{}", reply.text
                time.sleep(pause)
    real_ms, unknown_ms = (statistics.median(times[k]) for k in ("real", "unknown"))
    return {"real": real_ms, "unknown": unknown_ms, "ratio": real_ms / unknown_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per run, half real")
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    pairs = args.calls // 2
    rows = []
    for store in args.stores:
        server = Server(store, "invitations", folder, {}, accounts=0)
        try:
            alias, names = prepare(server, pairs * 2)
            for pause, batch in ((0.0, names[:pairs]), (0.02, names[pairs:])):
                result = interleaved(server, alias, batch, pause)
                rows.append((store, pause, result))
                print(store, pause, result)
        finally:
            server.process.terminate()
            server.process.wait()
    lines = [
        "# Anonymous invitations: real against unknown users",
        "",
        f"`.venv/bin/python bench/invitation_timing.py --calls {args.calls}`: {args.calls} "
        "interleaved Kendox invitations per row (half for real users with no reset pending, "
        "each asked for once; half for unknown users of the same tenant), one keep-alive "
        "client on loopback, medians.",
        "",
        "| store | pause between calls | real p50 ms | unknown p50 ms | real / unknown |",
        "|---|---|---|---|---|",
    ]
    for store, pause, r in rows:
        lines.append(
            f"| {store} | {pause * 1000:.0f} ms | {r['real']:.2f} | {r['unknown']:.2f} | "
            f"{r['ratio']:.3f} |"
        )
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
