"""Auditor and operator commands: history from the event store, export, status."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

CLI = [sys.executable, "-m", "credledger.cli"]


def _cli(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
    env.update(
        CREDLEDGER_DATABASE_URL=f"sqlite:///{tmp_path}/store.db",
        CREDLEDGER_ARGON2_MEMORY_COST="1024",
        CREDLEDGER_ARGON2_TIME_COST="1",
    )
    return subprocess.run(
        [*CLI, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def test_history_export_and_status_from_the_command_line(tmp_path):
    init = _cli(tmp_path, "init", "--org-alias", "acme", "--org-name", "Acme",
                "--admin-login", "root", "--admin-password", "Audit-cli-pw-1234")  # fmt: skip
    ids = json.loads(init.stdout)

    history = json.loads(_cli(tmp_path, "history", "root@acme", "--json").stdout)
    assert history["userId"] == ids["userId"]
    assert [e["type"] for e in history["events"]] == ["user.registered", "user.password.set"]
    assert history["events"][0]["dialect"] == "cli"
    assert "argon2" not in json.dumps(history)

    exported = _cli(tmp_path, "export", "--since", "2000-01-01T00:00:00Z", "--until",
                    "2100-01-01T00:00:00Z", "--format", "csv").stdout  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["type"] for r in rows] == ["org.registered", "user.registered", "user.password.set"]
    empty = _cli(tmp_path, "export", "--since", "2000-01-01T00:00:00Z", "--until",
                 "2000-01-02T00:00:00Z").stdout  # fmt: skip
    assert empty == ""

    assert _cli(tmp_path, "projections", "rebuild").returncode == 0
    status = _cli(tmp_path, "projections", "status").stdout.splitlines()
    assert [line.split()[0] for line in status[1:]] == ["users", "organizations", "history"]
    assert all(line.split()[4] == "0" for line in status[1:])  # no lag after the rebuild
    assert _cli(tmp_path, "verify").returncode == 0
