"""`credledger roles ROLE [--owner OWNER]` (CONTRACTS §8): what it prints, how it quotes, and
its exit codes. It only prints, so none of this needs a database (the PostgreSQL side is in
test_runtime_role.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from credledger.cli import main
from credledger.privileges import runtime_grants

CLI = Path(sys.executable).with_name("credledger")  # the installed console script
# Nothing listens on port 1: printing must not try to connect, nor need the role to exist.
UNREACHABLE = "postgresql://Schema%20Owner@127.0.0.1:1/prod"
NASTY = 'Ops "App"; DROP TABLE x; --'


def _roles(monkeypatch, capsys, *args: str, url: str = UNREACHABLE) -> tuple[int, str, str]:
    monkeypatch.setenv("CREDLEDGER_DATABASE_URL", url)
    monkeypatch.setenv("CREDLEDGER_DATABASE_SCHEMA", "billing")
    code = main(["roles", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_prints_the_grants_without_a_database_as_a_real_process(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "CREDLEDGER_DATABASE_URL": UNREACHABLE,
        "CREDLEDGER_DATABASE_SCHEMA": "billing",
    }
    done = subprocess.run(
        [str(CLI), "roles", "credledger_app"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == runtime_grants("billing", "Schema Owner", "credledger_app")
    assert done.stdout.startswith("-- credledger: rights of the runtime role")
    assert done.stdout.rstrip().endswith("COMMIT;")


def test_every_name_is_quoted_and_the_owner_comes_from_the_url(monkeypatch, capsys):
    code, out, err = _roles(monkeypatch, capsys, NASTY)
    assert code == 0, err
    role = '"Ops ""App""; DROP TABLE x; --"'
    assert f'GRANT USAGE, CREATE ON SCHEMA "billing" TO {role};' in out
    assert (
        f'ALTER DEFAULT PRIVILEGES FOR ROLE "Schema Owner" IN SCHEMA "billing" '
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};"
    ) in out
    # Inside the DO block the names are string literals, quoted again by format('%I').
    assert "'Ops \"App\"; DROP TABLE x; --'" in out
    assert "pg_get_userbyid(c.relowner) = 'Schema Owner'" in out
    # The name's own SQL never becomes a statement of the script.
    assert not [line for line in out.splitlines() if line.startswith("DROP")]


def test_events_may_be_read_and_appended_never_deleted_or_truncated(monkeypatch, capsys):
    _, out, _ = _roles(monkeypatch, capsys, "app")
    events = [line for line in out.splitlines() if '"billing"."credledger_events"' in line]
    assert events == [
        'REVOKE ALL ON "billing"."credledger_events" FROM "app";',
        'GRANT SELECT, INSERT, UPDATE ON "billing"."credledger_events" TO "app";',
    ]
    assert 'GRANT SELECT, INSERT ON "billing"."credledger_snapshots" TO "app";' in out
    assert 'GRANT SELECT, INSERT ON "billing"."ledger_checkpoints" TO "app";' in out
    assert 'GRANT SELECT ON "billing"."_yoyo_migration" TO "app";' in out
    assert "TRUNCATE" not in "\n".join(
        line for line in out.splitlines() if not line.startswith("--")
    )


def test_owner_option_overrides_the_urls_user(monkeypatch, capsys):
    code, out, _ = _roles(monkeypatch, capsys, "app", "--owner", "migrator")
    assert code == 0
    assert 'ALTER DEFAULT PRIVILEGES FOR ROLE "migrator" IN SCHEMA "billing"' in out
    assert "Schema Owner" not in out


def test_a_missing_role_is_a_usage_error(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exited:
        _roles(monkeypatch, capsys)
    assert exited.value.code == 2
    assert "the following arguments are required: ROLE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("role", "says"),
    [
        ("", "must not be empty"),
        ("public", "reserved"),
        ("pg_monitor", "reserved"),
        ("app\nGRANT ALL ON credledger_events TO app; --", "control character"),
        ("a" * 64, "longer than 63 bytes"),
        ("Schema Owner", "must not be the schema owner"),
    ],
)
def test_a_name_that_would_not_mean_one_runtime_role_is_refused(monkeypatch, capsys, role, says):
    code, out, err = _roles(monkeypatch, capsys, role)
    assert code == 2
    assert out == ""
    assert says in err


def test_on_sqlite_there_is_nothing_to_grant(monkeypatch, capsys, tmp_path):
    code, out, err = _roles(monkeypatch, capsys, "app", url=f"sqlite:///{tmp_path}/x.db")
    assert code == 0
    assert out == ""
    assert "nothing to grant" in err
    assert not (tmp_path / "x.db").exists()  # and it did not create a store either
