"""Auditor and operator commands on a fresh SQLite store (CONTRACTS §4): `history` replays the
event store, `export` writes the feed of a time range, `projections status` shows the lag."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from credledger.wiring import build_runtime
from domain.errors import InvalidCredentials
from domain.policy import PasswordPolicy
from projections.readstore import physical
from service.context import RequestContext
from tests.conftest import CIPHER_ENV, _settings

ROOT_PASSWORD = "Audit-cli-chief-pw-1234"
ALICE = [
    "Quartz-first-pw-4821",
    "Quartz-second-pw-7313",
    "Quartz-third-pw-9020",
    "Quartz-fourth-pw-1177",
]
CLIENT = {"remoteAddress": "192.0.2.7", "userAgent": "audit-cli-test"}
ALICE_TYPES = [
    "user.registered", "user.password.set", "user.password.check.failed",
    "user.password.check.succeeded", "user.password.set", "user.sessions.revoked",
    "user.password.reset.requested", "user.password.reset.completed", "user.sessions.revoked",
    "user.password.changed", "user.sessions.revoked",
]  # fmt: skip
CSV_COLUMNS = [
    "position", "occurredAt", "type", "userId", "orgId", "sequence", "actor", "method",
    "dialect", "client",
]  # fmt: skip


def _env(database_url: str, secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDLEDGER_")}
    env.update(
        CREDLEDGER_DATABASE_URL=database_url,
        CREDLEDGER_SECRET_KEY=secret,
        CREDLEDGER_ARGON2_MEMORY_COST="1024",
        CREDLEDGER_ARGON2_TIME_COST="1",
        **CIPHER_ENV,
    )
    return env


def _cli(store: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credledger.cli", *args],
        env=store["env"], cwd=store["dir"], capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _ok(store: dict[str, Any], *args: str) -> str:
    done = _cli(store, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _fresh_store(folder: Path) -> dict[str, Any]:
    settings = _settings(database_url=f"sqlite:///{folder}/store.db")
    store = {
        "dir": folder,
        "settings": settings,
        "env": _env(settings.database_url, settings.secret_key.get_secret_value()),
    }
    init = _cli(store, "init", "--org-alias", "acme", "--org-name", "Acme",
                "--admin-login", "root", "--admin-password", ROOT_PASSWORD)  # fmt: skip
    assert init.returncode == 0, init.stderr
    store.update(json.loads(init.stdout))
    return store


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A store set up by `credledger init`, then a credential life written through the
    service: alice (every kind of change), bob (removed), a policy change."""
    store = _fresh_store(tmp_path_factory.mktemp("audit"))
    runtime = build_runtime(store["settings"])
    service, ctx = runtime.service, RequestContext("native", CLIENT)
    root = service.authenticate(service.start_session("root@acme", ROOT_PASSWORD, ctx).token)
    org_id = uuid.UUID(store["orgId"])
    alice = service.register_user(
        root, org_id, "alice", ALICE[0], "alice@example.org", "Alice", ["auditor"], False, ctx
    ).id
    with pytest.raises(InvalidCredentials):
        service.start_session("alice@acme", "not-her-password-1", ctx)
    service.start_session("alice@acme", ALICE[0], ctx)
    service.set_password(root, alice, ALICE[1], False, ctx)
    grant = service.request_reset(root, alice, "return", ctx)
    service.complete_reset_with_code(alice, grant.code or "", ALICE[2], ctx)
    service.change_own_password(service.user_finder(alice), ALICE[2], ALICE[3], False, ctx)
    service.update_policy(root, org_id, PasswordPolicy(min_length=10), ctx)
    bob = service.register_user(root, org_id, "bob", ALICE[0], None, None, [], False, ctx).id
    service.remove_user(root, bob, ctx)
    runtime.reads.models.fresh()
    store.update(
        runtime=runtime,
        alice=str(alice),
        bob=str(bob),
        secrets=[*ALICE, grant.code, grant.token, "$argon2"],
    )
    yield store
    runtime.close()


def test_history_json_replays_the_users_events_with_stable_types_and_no_secrets(audited):
    out = _ok(audited, "history", "alice@acme", "--json")
    history = json.loads(out)
    assert history["userId"] == audited["alice"]
    events = history["events"]
    assert [e["type"] for e in events] == ALICE_TYPES
    assert [e["sequence"] for e in events] == [str(n) for n in range(1, len(ALICE_TYPES) + 1)]
    assert all(
        set(e) == {"sequence", "type", "occurredAt", "actor", "method", "dialect", "client"}
        for e in events
    )
    root, alice = audited["userId"], audited["alice"]
    assert [(e["actor"], e["method"]) for e in events] == [
        (root, "admin"), (root, "admin"), (alice, "self"), (alice, "self"), (root, "admin"),
        (root, "admin"), (root, "admin"), ("reset-code", "reset_code"),
        ("reset-code", "reset_code"), (alice, "self"), (alice, "self"),
    ]  # fmt: skip
    assert {e["dialect"] for e in events} == {"native"}
    assert all(e["client"] == CLIENT for e in events)
    assert all(e["occurredAt"].endswith("Z") for e in events)
    for secret in audited["secrets"]:
        assert secret not in out


def test_history_agrees_with_the_read_models_history(audited):
    events = json.loads(_ok(audited, "history", "alice@acme", "--json"))["events"]
    rows = audited["runtime"].reads.models.history(audited["alice"])
    assert [
        (str(r.sequence), r.type, r.occurred_at, r.actor, r.method, r.dialect, r.client)
        for r in rows
    ] == [
        (e["sequence"], e["type"], e["occurredAt"], e["actor"], e["method"], e["dialect"],
         e["client"])
        for e in events
    ]  # fmt: skip


def test_history_reads_the_event_store_not_the_read_model(audited):
    runtime = audited["runtime"]
    before = _ok(audited, "history", "alice@acme", "--json")
    generation = dict(runtime.read_store.query("SELECT model, generation FROM rm_active"))
    table = physical("history", generation["history"])
    rows = runtime.read_store.query(f"SELECT * FROM {table} WHERE user_id = ?", (audited["alice"],))
    with runtime.read_store.transaction() as tx:
        tx.execute(f"DELETE FROM {table} WHERE user_id = ?", (audited["alice"],))
    try:
        assert runtime.reads.models.history(audited["alice"]) == []
        assert _ok(audited, "history", "alice@acme", "--json") == before
    finally:
        with runtime.read_store.transaction() as tx:
            marks = ", ".join("?" * len(rows[0]))
            for row in rows:
                tx.execute(f"INSERT INTO {table} VALUES ({marks})", row)
    assert len(runtime.reads.models.history(audited["alice"])) == len(ALICE_TYPES)


def test_history_finds_a_user_by_login_name_any_alias_case_bare_name_or_id(audited):
    by_name = _ok(audited, "history", "alice@acme", "--json")
    assert _ok(audited, "history", "alice@ACME", "--json") == by_name
    assert _ok(audited, "history", audited["alice"], "--json") == by_name
    # a bare username means the default org, here the one `init` created
    root = json.loads(_ok(audited, "history", "root", "--json"))
    assert root["userId"] == audited["userId"]
    assert [(e["type"], e["actor"], e["dialect"]) for e in root["events"]] == [
        ("user.registered", "bootstrap", "cli"), ("user.password.set", "bootstrap", "cli"),
    ]  # fmt: skip
    text = _ok(audited, "history", "alice@acme").splitlines()
    assert len(text) == len(ALICE_TYPES)
    for line, kind in zip(text, ALICE_TYPES, strict=True):
        assert kind in line.split()


def test_history_of_a_removed_user_is_found_by_id_but_its_name_is_free(audited):
    removed = json.loads(_ok(audited, "history", audited["bob"], "--json"))
    assert [e["type"] for e in removed["events"]] == [
        "user.registered", "user.password.set", "user.removed",
    ]  # fmt: skip
    by_name = _cli(audited, "history", "bob@acme", "--json")
    assert by_name.returncode == 1 and "no user" in by_name.stderr


def test_history_refuses_a_name_or_id_that_is_no_user(audited):
    for missing in ("nobody@acme", "alice@no-such-org", str(uuid.uuid4()), audited["orgId"]):
        done = _cli(audited, "history", missing, "--json")
        assert (done.returncode, done.stdout) == (1, ""), (missing, done.stdout)
        assert "no user" in done.stderr


def _feed(audited) -> list[Any]:
    return audited["runtime"].reads.models.feed(0, 10**6)


def _shifted(moment: str, hours: int) -> str:
    """The same instant written with another UTC offset."""
    parsed = datetime.fromisoformat(moment).astimezone(timezone(timedelta(hours=hours)))
    return parsed.isoformat()


def test_export_csv_holds_exactly_the_events_inside_the_range(audited):
    everything = _feed(audited)
    since, until = everything[3].occurred_at, everything[-3].occurred_at
    inside = [r for r in everything if since <= r.occurred_at < until]
    assert inside[0].occurred_at == since  # since is inclusive ...
    assert until not in {r.occurred_at for r in inside}  # ... until exclusive
    assert 0 < len(inside) < len(everything) - 4
    out = _ok(audited, "export", "--since", since, "--until", until, "--format", "csv")
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == CSV_COLUMNS
    assert list(reader) == [
        {
            "position": str(r.position), "occurredAt": r.occurred_at, "type": r.type,
            "userId": r.user_id or "", "orgId": r.org_id, "sequence": str(r.sequence),
            "actor": r.actor, "method": r.method or "", "dialect": r.dialect or "",
            "client": json.dumps(r.client, sort_keys=True),
        }
        for r in inside
    ]  # fmt: skip
    for secret in audited["secrets"]:
        assert secret not in out


def test_export_jsonl_holds_the_same_range_whatever_the_offset_it_is_written_in(audited):
    everything = _feed(audited)
    since, until = everything[2].occurred_at, everything[-2].occurred_at
    inside = [r for r in everything if since <= r.occurred_at < until]
    out = _ok(audited, "export", "--since", since, "--until", until, "--format", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert records == [
        {
            "position": r.position, "occurredAt": r.occurred_at, "type": r.type,
            "userId": r.user_id, "orgId": r.org_id, "sequence": str(r.sequence),
            "actor": r.actor, "method": r.method, "dialect": r.dialect, "client": r.client,
        }
        for r in inside
    ]  # fmt: skip
    assert {"org.registered", "org.policy.changed", "user.removed"} & {r["type"] for r in records}
    shifted = _ok(audited, "export", "--since", _shifted(since, 2), "--until",
                  _shifted(until, -5))  # fmt: skip
    assert shifted == out  # jsonl is the default format; offsets name the same instants


def test_export_of_a_range_without_events_is_empty(audited):
    first = _feed(audited)[0].occurred_at
    args = ("--since", "2000-01-01T00:00:00Z", "--until", first)
    assert _ok(audited, "export", *args, "--format", "jsonl") == ""
    assert _ok(audited, "export", *args, "--format", "csv").splitlines() == [",".join(CSV_COLUMNS)]


def _status(store: dict[str, Any]) -> dict[str, list[str]]:
    lines = _ok(store, "projections", "status").splitlines()
    assert lines[0].split() == ["model", "gen", "position", "head", "lag", "events", "lag", "s"]
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


def test_projections_status_shows_the_lag_and_none_after_a_rebuild(tmp_path):
    store = _fresh_store(tmp_path)  # written by `init` alone: nothing projected yet
    before = _status(store)
    assert list(before) == ["users", "organizations", "history", "imported_hashes", "ledger"]
    for generation, position, head, lag, seconds in before.values():
        generation = "1" if generation == "0" else generation  # the ledger has no generations
        assert (generation, position) == ("1", "0")
        assert int(head) > 0 and int(lag) == int(head)  # every event is still to be reduced
        assert float(seconds) >= 0

    rebuilt = _cli(store, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "users,organizations,history,imported_hashes: generation 2" in rebuilt.stderr
    after = _status(store)
    ledger = after.pop("ledger")
    assert list(after) == ["users", "organizations", "history", "imported_hashes"]
    for generation, position, head, lag, seconds in after.values():
        assert (generation, position, lag, seconds) == ("2", head, "0", "0.0")
    assert ledger[1] == "0" and ledger[3] == ledger[2]  # nothing integrated the ledger yet
    assert _cli(store, "ledger", "checkpoint").returncode == 0
    assert _status(store)["ledger"][1:4] == [ledger[2], ledger[2], "0"]

    one = _cli(store, "projections", "rebuild", "users")
    assert one.returncode == 0, one.stderr
    assert {m: row[0] for m, row in _status(store).items()} == {
        "users": "3", "organizations": "2", "history": "2", "imported_hashes": "2",
        "ledger": "0",
    }  # fmt: skip
    unknown = _cli(store, "projections", "rebuild", "nonsense")
    assert unknown.returncode == 2 and "unknown read model" in unknown.stderr
    assert _cli(store, "verify").returncode == 0
