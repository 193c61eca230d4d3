"""`credledger ledger verify` catches every tamper of CONTRACTS §5 on both stores and names
it: changed bytes, a deleted event, an event inserted between two others, two swapped events,
and the ledger's own tables rewritten to match a changed store (a saved checkpoint fails)."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from credledger.bootstrap import bootstrap
from credledger.settings import Settings
from credledger.wiring import Runtime, build_runtime
from ledger.note import NoteSigner
from projections.ledger import LedgerLog
from service.context import RequestContext
from tests.conftest import (
    ADMIN_PASSWORD,
    POSTGRES_URL,
    own_store,
)
from tests.independent import hash_leaf, open_checkpoint, verify_inclusion

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from rebuild_throughput import seed  # noqa: E402

PASSWORDS = ["Ledger-first-pw-4821", "Ledger-second-pw-7313", "Ledger-third-pw-9020"]
CTX = RequestContext("native", {"remoteAddress": "192.0.2.9", "userAgent": "tamper-test"})
APPEND_ONLY = "credledger_events_append_only"  # the trigger of migrations/0005


class RawEvents:
    """The event table as someone with write access to the database sees it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if settings.is_postgres:
            self.table, self.id = f"{settings.database_schema}.credledger_events", "notification_id"
        else:
            self.table, self.id = "stored_events", "rowid"

    def run(
        self, sql: str, args: tuple[Any, ...] = (), rewrite: bool = False
    ) -> list[tuple[Any, ...]]:
        """As the owner. On PostgreSQL a rewrite first lifts the append-only trigger of
        migration 0005, in the same transaction: the owner can, so the ledger must notice."""
        sql = sql.format(table=self.table, id=self.id)
        if self.settings.is_postgres:
            with psycopg.connect(POSTGRES_URL) as conn, conn.transaction():
                if rewrite:
                    conn.execute(f"ALTER TABLE {self.table} DISABLE TRIGGER {APPEND_ONLY}")
                cursor = conn.execute(sql, args)
                rows = cursor.fetchall() if cursor.description else []
                if rewrite:
                    conn.execute(f"ALTER TABLE {self.table} ENABLE TRIGGER {APPEND_ONLY}")
                return rows
        with sqlite3.connect(self.settings.sqlite_path) as conn:
            return conn.execute(sql.replace("%s", "?"), args).fetchall()

    def erase_checkpoints(self, runtime: Runtime) -> None:
        if self.settings.is_postgres:
            table = f"{self.settings.database_schema}.ledger_checkpoints"
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f"DELETE FROM {table}")
        else:
            with runtime.read_store.transaction() as tx:
                tx.execute("DELETE FROM ledger_checkpoints")

    def ids(self) -> list[int]:
        return [row[0] for row in self.run("SELECT {id} FROM {table} ORDER BY {id}")]

    def row(self, position: int) -> tuple[Any, ...]:
        return self.run(
            "SELECT originator_id, originator_version, topic, state FROM {table} WHERE {id} = %s",
            (position,),
        )[0]

    def set_state(self, position: int, state: bytes) -> None:
        self.run("UPDATE {table} SET state = %s WHERE {id} = %s", (state, position), True)

    def delete(self, position: int) -> None:
        self.run("DELETE FROM {table} WHERE {id} = %s", (position,), True)

    def move(self, position: int, to: int) -> None:
        self.run("UPDATE {table} SET {id} = %s WHERE {id} = %s", (to, position), True)

    def insert(
        self, position: int, originator: Any, version: int, topic: str, state: bytes
    ) -> None:
        self.run(
            "INSERT INTO {table} ({id}, originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s, %s)",
            (position, originator, version, topic, state),
        )


@dataclass
class Store:
    runtime: Runtime
    raw: RawEvents
    folder: Path
    env: dict[str, str]
    admin_set: int  # position of an admin's password set on alice

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "credledger.cli", "ledger", *args],
            env=self.env, cwd=self.folder, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def save_checkpoint(self, name: str = "saved.txt") -> Path:
        path = self.folder / name
        path.write_text(self.runtime.ledger.signed_checkpoint().note, encoding="utf-8")
        return path

    def verify(self, *saved: Path) -> subprocess.CompletedProcess[str]:
        args = [part for path in saved for part in ("--checkpoint", str(path))]
        return self.cli("verify", *args)


def _populate(runtime: Runtime) -> int:
    service = runtime.service
    bootstrap(service, admin_password=ADMIN_PASSWORD)
    admin = service.authenticate(service.start_session("admin", ADMIN_PASSWORD, CTX).token)
    org = service.instance().default_org_id  # type: ignore[union-attr]
    alice = service.register_user(
        admin, org, "alice", PASSWORDS[0], None, None, [], False, CTX
    ).id  # fmt: skip
    service.register_user(admin, org, "bob", PASSWORDS[0], None, None, [], False, CTX)
    service.set_password(admin, alice, PASSWORDS[1], False, CTX)
    before = runtime.ledger.log.events_head()
    service.set_password(admin, alice, PASSWORDS[2], False, CTX)
    service.start_session("alice", PASSWORDS[2], CTX)
    return next(p for p in range(before + 1, before + 10) if _is_set(runtime, p))


def _is_set(runtime: Runtime, position: int) -> bool:
    found = runtime.ledger.log.inputs_at(position, position).get(position)
    return found is not None and found.topic.endswith("PasswordSet")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with own_store(request.param, tmp_path, "cl_tamper") as (settings, env):
        runtime = build_runtime(settings)
        try:
            admin_set = _populate(runtime)
            yield Store(runtime, RawEvents(settings), tmp_path, env, admin_set)
        finally:
            runtime.close()


def _failed(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    for text in expected:
        assert text in done.stdout, done.stdout
    return done.stdout


def test_an_untampered_ledger_verifies_and_a_rebuild_gives_the_same_root(store):
    saved = store.save_checkpoint()
    opened = open_checkpoint(saved.read_text(), store.runtime.ledger.verifier_key)
    root = base64.b64encode(opened.root).decode()
    done = store.verify(saved)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ledger ok: {opened.size} leaves, root {root}" in done.stdout
    rebuilt = store.cli("rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"ledger rebuilt: {opened.size} leaves, root {root}" in rebuilt.stderr
    assert store.runtime.ledger.log.root(opened.size) == opened.root
    assert store.verify(saved).returncode == 0


def _claim_self(store: Store, position: int) -> None:
    """Rewrites who set a password: an admin's set now claims to be the user's own. With
    encryption at rest the intruder holds that key too: the ledger must not depend on it."""
    cipher = store.runtime.service.store.mapper.cipher
    state = bytes(store.raw.row(position)[3])
    plain = cipher.decrypt(state) if cipher else state
    assert b'"method":"admin"' in plain
    forged = plain.replace(b'"method":"admin"', b'"method":"self"')
    store.raw.set_state(position, cipher.encrypt(forged) if cipher else forged)


def test_changed_bytes_of_one_event_are_named(store):
    saved = store.save_checkpoint()
    index = store.runtime.ledger.log.leaf_at(store.admin_set).index  # type: ignore[union-attr]
    _claim_self(store, store.admin_set)
    _failed(
        store.verify(saved),
        f"leaf {index} (position {store.admin_set}): the stored event differs",
        "checkpoint",
        "not a prefix of today's tree",
    )


def test_a_deleted_event_is_named(store):
    saved = store.save_checkpoint()
    index = store.runtime.ledger.log.leaf_at(store.admin_set).index  # type: ignore[union-attr]
    store.raw.delete(store.admin_set)
    _failed(
        store.verify(saved),
        f"leaf {index} (position {store.admin_set}): the event is missing from the event store",
    )


def test_an_event_inserted_between_two_others_is_named(store):
    ids = store.raw.ids()
    last = ids[-1]
    store.raw.move(last, last + 1)  # a gap, as rolled-back inserts leave on PostgreSQL
    saved = store.save_checkpoint()
    index = store.runtime.ledger.log.leaf_at(last + 1).index  # type: ignore[union-attr]
    originator, _, topic, state = store.raw.row(store.admin_set)
    store.raw.insert(last, originator, 999, topic, bytes(state))  # a back-filled change
    _failed(
        store.verify(saved),
        f"leaf {index} (position {last + 1}): an event at position {last} was inserted before it",
    )


def test_two_swapped_events_are_named(store):
    saved = store.save_checkpoint()
    first, second = store.admin_set, store.raw.ids()[-1]
    index = store.runtime.ledger.log.leaf_at(first).index  # type: ignore[union-attr]
    store.raw.move(first, -1)
    store.raw.move(second, first)
    store.raw.move(-1, second)
    _failed(store.verify(saved), f"leaf {index} (position {first}): the stored event differs")


def test_ledger_tables_rewritten_to_match_a_changed_store_fail_a_saved_checkpoint(store):
    saved = store.save_checkpoint()
    _claim_self(store, store.admin_set)
    # The log refuses to rebuild over a checkpoint it signed, and names it...
    refused = store.cli("rebuild")
    assert refused.returncode == 1 and "disagrees with the kept checkpoint" in refused.stderr
    # ...and will not sign a checkpoint that forks from the one it kept.
    app = create_app(store.runtime.service, store.runtime.reads, None, store.runtime.ledger)
    with TestClient(app) as client:
        token = client.post("/v1/sessions", json={"loginName": "admin", "password": ADMIN_PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        forked = client.get("/v1/ledger/checkpoint", headers=headers)
    assert forked.status_code == 503 and forked.json()["code"] == "ledger_inconsistent"
    # ...so the intruder also erases the kept checkpoints (the runtime role may not: owner
    # rights again) and rebuilds the tables.
    store.raw.erase_checkpoints(store.runtime)
    assert store.cli("rebuild").returncode == 0
    # The tables now agree with the changed store; only a checkpoint saved outside shows it.
    assert store.verify().returncode == 0
    _failed(store.verify(saved), f"checkpoint {saved}: not a prefix of today's tree")


def test_integrators_racing_each_other_build_one_tree(store):
    """Several processes may integrate (workers, API nodes catching up): the guarded head lets
    exactly one write each batch, so the tree is the one a lone integrator builds."""
    seed(store.runtime, 3000)
    store.runtime.ledger.log.reset()
    logs = [LedgerLog(store.runtime.service.store, store.runtime.read_store) for _ in range(3)]
    with ThreadPoolExecutor(len(logs)) as pool:
        done = list(pool.map(lambda log: log.integrate_all(97), logs))
    log = store.runtime.ledger.log
    head = log.head()
    assert head.position == log.events_head() and sum(done) >= head.size
    raced = log.root(head.size)
    assert store.cli("rebuild").returncode == 0
    assert log.root(head.size) == raced
    assert store.verify().returncode == 0


def test_a_checkpoint_not_signed_by_this_log_is_named_and_a_missing_file_refused(store):
    kept = store.runtime.ledger.signed_checkpoint()
    forged = store.folder / "forged.txt"
    impostor = NoteSigner(store.runtime.ledger.origin, bytes(reversed(range(32))))
    forged.write_text(impostor.sign_checkpoint(kept.size, kept.root), encoding="utf-8")
    _failed(store.verify(forged), f"checkpoint {forged}: not signed by")
    missing = store.cli("verify", "--checkpoint", str(store.folder / "nowhere.txt"))
    assert missing.returncode == 2 and "cannot read a checkpoint" in missing.stderr


def test_an_integrator_never_appends_to_a_tree_someone_else_reset(store):
    mine = LedgerLog(store.runtime.service.store, store.runtime.read_store)
    theirs = LedgerLog(store.runtime.service.store, store.runtime.read_store)
    mine.catch_up()  # remembers the head it wrote
    root = mine.root(mine.head().size)
    theirs.reset()  # `ledger rebuild` in another process, killed before it integrated
    assert mine.catch_up_to(mine.events_head()).size == mine.head().size > 0
    assert mine.root(mine.head().size) == root
    theirs.reset()
    store.runtime.service.start_session("alice", PASSWORDS[2], CTX)  # a new event
    mine.catch_up()  # its remembered head is stale: the guard sends it back to the store's
    assert mine.head().position == mine.events_head()
    assert store.verify().returncode == 0


def test_ledger_prove_gives_an_auditor_everything_to_check_one_event(store):
    """`credledger ledger prove POSITION`: the leaf input, the audit path and a signed
    checkpoint in one JSON, checked here only with the independent verifiers."""
    done = store.cli("prove", str(store.admin_set))
    assert done.returncode == 0, done.stderr
    bundle = json.loads(done.stdout)
    opened = open_checkpoint(bundle["checkpoint"], bundle["verifierKey"])
    assert bundle["verifierKey"] == store.cli("key").stdout.strip()
    leaf = base64.b64decode(bundle["leafInput"])
    assert json.loads(leaf)["position"] == store.admin_set == bundle["position"]
    assert hash_leaf(leaf) == base64.b64decode(bundle["leafHash"])
    path = [base64.b64decode(h) for h in bundle["hashes"]]
    verify_inclusion(bundle["index"], opened.size, hash_leaf(leaf), path, opened.root)
    assert bundle["treeSize"] == opened.size
