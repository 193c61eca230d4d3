"""Does sealing personal data slow password changes? p50 of self-service changes, this tree
against a revision from before sealing (CONTRACTS §6: the change path may move < 5 %).

The baseline revision is checked out into a temporary git worktree and served with this
environment's packages; both sides run the same `credledger serve` flow on a store of their
own, on SQLite and PostgreSQL, with production argon2, `historyCount` 0, closed-loop clients
on loopback, rounds alternating which side goes first. Every change carries client metadata
(a user agent and the remote address), so each one seals. Usage:

    .venv/bin/python bench/sealing_change_path.py --baseline 30f1339 [--rounds 6] [--changes 20]
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from ledger_change_path import Server, arguments, compare, stores_of

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--baseline", required=True, help="a revision from before sealing")
    args = parser.parse_args()
    stores, folder = stores_of(args), Path(tempfile.mkdtemp())
    baseline = folder / "baseline"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(baseline), args.baseline],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        servers = {}
        for store in stores:
            servers[(store, "sealed")] = Server(store, "sealed", folder, {})
            servers[(store, "before")] = Server(store, "before", folder, {}, source=baseline)
        compare(servers, stores, ("sealed", "before"), args.rounds, args.changes, args.clients)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=True
        )


if __name__ == "__main__":
    main()
