"""No crackable hash leaves the process (CONTRACTS §6): password hashes, history hashes, reset
digests and an imported hash's scheme are sealed under the person's data key, like their
personal data, in every event and snapshot, and so in every ledger leaf.

Through the real HTTP app on both stores, each on a store of the test's own with the cipher off
(it would hide everything by itself): every password path, an import of every hash family, a
hash upgrade, a forced snapshot and an erasure leave no `$argon2`, `$2b$`, `$scrypt$` or
`pbkdf2` in the events, the snapshots or the leaves. The same scan over a store built with
sealing off finds them all (the positive control). Hashes stored before sealing existed still
load, log in and verify; after erasure a leaf's sealed hash no longer opens.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.domain import Snapshot
from fastapi.testclient import TestClient
from psycopg import sql

from api.app import create_app
from api.ratelimit import RateLimiter
from credledger.bootstrap import bootstrap
from credledger.settings import Settings
from credledger.wiring import Runtime, build_runtime
from domain.user import PendingReset, User
from ledger.note import NoteVerifier
from projections.ledger_verify import verify_ledger
from projections.rebuild import rebuild
from projections.verify import verify
from service.sealing import DataKeys, Sealed
from service.store import EventStore
from storage.datakeys import SQLITE_DDL, SqlDataKeyTable
from storage.readstores import SqliteReadStore
from tests.api_helpers import admin_headers, bearer, login, new_org, unique
from tests.conftest import ADMIN_PASSWORD, POSTGRES_URL, own_store, secrets_unsealed
from tests.test_import import reference_hash

FORBIDDEN = (b"$argon2", b"$2b$", b"$scrypt$", b"pbkdf2")
PASSWORDS = [f"Sealing-{word}-Pw-{n}" for n, word in enumerate(("one", "two", "three", "four"))]
WRONG = "Sealing-wrong-Pw-99"
LEGACY = "Sealing-legacy-Pw-42"
# Every hash family we import, in every spelling (passlib PHC, Django, Keycloak JSON).
IMPORTED = (
    "bcrypt", "argon2id", "scrypt", "pbkdf2-sha256", "django-pbkdf2-sha256",
    "keycloak-pbkdf2-sha256", "keycloak-pbkdf2-sha512",
)  # fmt: skip
UPGRADED = ("bcrypt", "keycloak-pbkdf2-sha512")  # log in after the import: re-hashed
SNAPSHOTTED = "django-pbkdf2-sha256"  # snapshotted with its legacy hash, then erased
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


# --- a store of the test's own ---


@contextmanager
def running(kind: str, folder: Path) -> Iterator[Runtime]:
    """A bootstrapped runtime on a store of its own, the cipher off whatever the suite says."""
    with own_store(kind, folder, "hashseal") as (settings, _):
        runtime = build_runtime(plain(settings))
        try:
            bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
            yield runtime
        finally:
            runtime.close()


def plain(settings: Settings) -> Settings:
    return settings.model_copy(update={"cipher_key": None})


def app_client(runtime: Runtime) -> TestClient:
    app = create_app(runtime.service, runtime.reads, RateLimiter(0), runtime.ledger)
    return TestClient(app, raise_server_exceptions=False)


# --- the scan ---


def stored_places(
    runtime: Runtime, client: TestClient, headers: dict[str, str]
) -> dict[str, bytes]:
    """Every byte of the event store, by place: its events, its snapshots, every ledger leaf
    (each leaf's input and the stored state it carries), and on SQLite the store's files with
    their write-ahead log (free pages included)."""
    store = runtime.service.store
    names = {
        "events": store.recorder.events_table_name,  # type: ignore[attr-defined]
        "snapshots": store.snapshots.recorder.events_table_name,  # type: ignore[union-attr]
    }
    settings: Settings = runtime.settings
    if settings.is_postgres:
        places = _postgres_rows(settings.database_schema, names)
    else:
        places = _sqlite_rows(settings.sqlite_path, names)
        files = sorted(settings.sqlite_path.parent.glob(f"{settings.sqlite_path.name}*"))
        places["store files"] = b"\x00".join(path.read_bytes() for path in files)
    places["leaves"] = b"\x00".join(leaf_bytes(client, headers))
    return places


def found_in(places: dict[str, bytes], needles: list[bytes]) -> dict[bytes, list[str]]:
    """For each needle, the places holding it."""
    return {needle: [p for p, data in places.items() if needle in data] for needle in needles}


def _sqlite_rows(path: Path, tables: dict[str, str]) -> dict[str, bytes]:
    with sqlite3.connect(path) as conn:
        return {
            place: b"\x00".join(
                _bytes(value) for row in conn.execute(f"SELECT * FROM {table}") for value in row
            )
            for place, table in tables.items()
        }


def _postgres_rows(schema: str, tables: dict[str, str]) -> dict[str, bytes]:
    with psycopg.connect(POSTGRES_URL) as conn:
        return {
            place: b"\x00".join(
                _bytes(value)
                for row in conn.execute(
                    sql.SQL("SELECT * FROM {}.{}").format(*map(sql.Identifier, (schema, table)))
                )
                for value in row
            )
            for place, table in tables.items()
        }


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | memoryview | bytearray):
        return bytes(value)
    return str(value).encode()


def leaf_bytes(client: TestClient, headers: dict[str, str]) -> list[bytes]:
    """Every leaf up to a new checkpoint, as served: its input and the stored state in it."""
    reply = client.get("/v1/ledger/checkpoint", headers=headers)
    assert reply.status_code == 200, reply.text
    size = int(reply.text.splitlines()[1])
    out: list[bytes] = []
    while len(out) < 2 * size:
        page = client.get(
            "/v1/ledger/leaves", params={"start": len(out) // 2, "limit": 1000}, headers=headers
        ).json()["leaves"]
        assert page, "the ledger serves fewer leaves than its checkpoint covers"
        for leaf in page:
            data = base64.b64decode(leaf["input"])
            out += [data, base64.b64decode(json.loads(data)["state"])]
    return out


# --- the activity: every path that stores a hash or a digest ---


@dataclass
class Activity:
    headers: dict[str, str]
    user_id: str  # every password path ran for this user; a reset is left pending
    imported: dict[str, str]  # scheme -> user id
    needles: list[bytes] = field(default_factory=list)  # every hash and digest stored


def drive(runtime: Runtime, client: TestClient) -> Activity:
    """Logins (one failed), a self-service change, an admin set, a reset redeemed and one left
    pending, an import of every hash family, logins re-hashing two imports, forced snapshots
    and an erasure."""
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)  # default policy: history kept
    username = unique("seal")
    created = client.post(
        f"/v1/orgs/{org_id}/users",
        json={"username": username, "password": PASSWORDS[0]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["userId"]
    path = f"/v1/users/{user_id}/password"
    wrong = client.post(
        "/v1/sessions", json={"loginName": f"{username}@{alias}", "password": WRONG}
    )
    assert wrong.status_code == 401, wrong.text
    own = login(client, f"{username}@{alias}", PASSWORDS[0])
    change = {"currentPassword": PASSWORDS[0], "newPassword": PASSWORDS[1]}
    assert client.post(path, json=change, headers=bearer(own["token"])).status_code == 200
    assert client.post(path, json={"newPassword": PASSWORDS[2]}, headers=headers).status_code == 200
    reset = request_reset(client, headers, user_id)
    redeemed = client.post(path, json={"newPassword": PASSWORDS[3], "verificationCode": reset})
    assert redeemed.status_code == 200, redeemed.text
    request_reset(client, headers, user_id)  # left pending: its digests go into the snapshot
    imported, legacy = import_every_family(client, headers, org_id, alias)
    activity = Activity(headers, user_id, imported)
    activity.needles = [*FORBIDDEN, *legacy, *user_secrets(runtime, user_id)]
    for scheme in UPGRADED:
        activity.needles += user_secrets(runtime, imported[scheme])  # the argon2 re-hash
    store = runtime.service.store
    store.take_snapshot(uuid.UUID(user_id))
    erased = uuid.UUID(imported[SNAPSHOTTED])
    store.take_snapshot(erased)
    erase = client.post(f"/v1/users/{erased}/erase", headers=headers)
    assert erase.status_code == 204, erase.text
    store.take_snapshot(erased)  # after erasure too: nothing can be sealed for them any more
    return activity


def request_reset(client: TestClient, headers: dict[str, str], user_id: str) -> str:
    reply = client.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=headers
    )
    assert reply.status_code in (200, 201), reply.text
    code: str = reply.json()["code"]
    return code


def import_every_family(
    client: TestClient, headers: dict[str, str], org_id: str, alias: str
) -> tuple[dict[str, str], list[bytes]]:
    """Imports a user per scheme and logs in those of `UPGRADED`; returns the ids by scheme
    and the imported hashes as needles (a Keycloak credential: its key)."""
    given = {scheme: reference_hash(scheme, LEGACY) for scheme in IMPORTED}
    rows = [{"username": f"imp-{scheme}-{uuid.uuid4().hex[:6]}"} for scheme in IMPORTED]
    for row, scheme in zip(rows, IMPORTED, strict=True):
        row["passwordHash"] = given[scheme]  # type: ignore[assignment]
    reply = client.post(f"/v1/orgs/{org_id}/users:import", json={"users": rows}, headers=headers)
    assert reply.status_code == 200 and not reply.json()["refused"], reply.text
    ids = {IMPORTED[i["index"]]: i["userId"] for i in reply.json()["imported"]}
    for scheme in UPGRADED:
        login(client, f"{rows[IMPORTED.index(scheme)]['username']}@{alias}", LEGACY)
    needles = [
        (str(h["value"]) if isinstance(h, dict) else h).encode() for h in given.values()
    ]  # fmt: skip
    return ids, needles


def user_secrets(runtime: Runtime, user_id: str) -> list[bytes]:
    """Every hash and digest the user's aggregate holds, as the store opens them."""
    user = runtime.service.store.repository.get(uuid.UUID(user_id))
    values = [user.password_hash, user.history_hash, *user.previous_hashes]
    values += list(user.previous_history)
    if user.pending_reset is not None:
        values += [user.pending_reset.code_digest, user.pending_reset.token_digest]
    return [v.encode() for v in values if v]


# --- 1. the byte scan, and its positive control ---


@pytest.mark.parametrize("kind", STORES)
def test_no_hash_digest_or_scheme_name_is_in_any_event_snapshot_or_ledger_leaf(kind, tmp_path):
    with running(kind, tmp_path) as runtime, app_client(runtime) as client:
        activity = drive(runtime, client)
        places = stored_places(runtime, client, activity.headers)
        events = runtime.service.store.recorder.select_notifications(start=None, limit=10**6)
        assert bytes(events[-1].state) in places["events"]  # the scan sees events as stored
        assert places["leaves"].count(b'{"originatorId"') == len(events)  # one leaf each
        assert b'"_type_":"sealed"' in places["snapshots"]
    assert len(activity.needles) > 20
    found = {needle: where for needle, where in found_in(places, activity.needles).items() if where}
    assert found == {}


@pytest.mark.parametrize("kind", STORES)
def test_the_same_scan_finds_every_hash_in_a_store_that_does_not_seal_them(kind, tmp_path):
    with secrets_unsealed(), running(kind, tmp_path) as runtime, app_client(runtime) as client:
        activity = drive(runtime, client)
        places = stored_places(runtime, client, activity.headers)
    found = found_in(places, activity.needles)
    for needle in FORBIDDEN:
        assert {"events", "leaves"} <= set(found[needle]), (needle, found[needle])
    assert not [needle for needle, where in found.items() if not where]
    # The snapshots held the current user's hashes and pending digests, and a legacy hash.
    assert {b"$argon2", b"pbkdf2"} <= {n for n, where in found.items() if "snapshots" in where}


# --- 2. what was stored before sealing existed ---


@pytest.mark.parametrize("kind", STORES)
def test_hashes_stored_before_sealing_still_load_log_in_reset_and_verify(kind, tmp_path):
    with own_store(kind, tmp_path, "hashold") as (owned, _):
        settings = plain(owned)
        with secrets_unsealed():
            runtime = build_runtime(settings)
            bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
            with app_client(runtime) as client:
                headers = admin_headers(client)
                org_id, alias = new_org(client, headers)
                old = old_format_users(runtime, client, headers, org_id, alias)
            runtime.close()
        runtime = build_runtime(settings)  # as deployed: sealing on
        try:
            with app_client(runtime) as client:
                headers = admin_headers(client)
                path = f"/v1/users/{old['user_id']}/password"
                login(client, old["login"], PASSWORDS[0])  # from a plain snapshot and events
                body = {"newPassword": PASSWORDS[1], "verificationCode": old["code"]}
                redeemed = client.post(path, json=body)  # the plain digest in the snapshot
                assert redeemed.status_code == 200, redeemed.text
                login(client, old["login"], PASSWORDS[1])
                login(client, old["imported_login"], LEGACY)  # re-hashed, sealed now
                report = client.get(f"/v1/orgs/{org_id}/import-report", headers=headers).json()
                assert report["total"] == 0
                assert no_drift(runtime)
                new_events = stored_places(runtime, client, headers)["events"]
                assert b"$2b$" in new_events  # the old event, untouched: the ledger covers it
        finally:
            runtime.close()


def old_format_users(
    runtime: Runtime, client: TestClient, headers: dict[str, str], org_id: str, alias: str
) -> dict[str, str]:
    """A user with a password, a pending reset and a snapshot, and an imported user, all
    stored with plain hashes and digests; proves they are plain."""
    username = unique("old")
    created = client.post(
        f"/v1/orgs/{org_id}/users",
        json={"username": username, "password": PASSWORDS[0]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["userId"]
    code = request_reset(client, headers, user_id)
    runtime.service.store.take_snapshot(uuid.UUID(user_id))
    row = {"username": unique("oldimp"), "passwordHash": reference_hash("bcrypt", LEGACY)}
    reply = client.post(f"/v1/orgs/{org_id}/users:import", json={"users": [row]}, headers=headers)
    assert reply.status_code == 200 and not reply.json()["refused"], reply.text
    report = client.get(f"/v1/orgs/{org_id}/import-report", headers=headers).json()
    assert report["schemes"] == {"bcrypt": 1}
    places = stored_places(runtime, client, headers)
    pending = runtime.service.store.repository.get(uuid.UUID(user_id)).pending_reset
    assert (
        b"$argon2id$" in places["snapshots"] and pending.code_digest.encode() in places["snapshots"]
    )
    assert b"$2b$" in places["events"] and b"$2b$" in places["leaves"]
    return {
        "user_id": user_id,
        "login": f"{username}@{alias}",
        "code": code,
        "imported_login": f"{row['username']}@{alias}",
    }


def no_drift(runtime: Runtime) -> bool:
    """`credledger verify` and `credledger ledger verify`, as their commands run them."""
    report = verify(runtime.projector, runtime.reads.models)
    assert report.drift == []
    ledger = verify_ledger(runtime.ledger.log, NoteVerifier(runtime.ledger.verifier_key), [])
    assert ledger.ok, ledger.problems
    return True


# --- 3. erasure ---


def test_after_erasure_a_leafs_sealed_hash_no_longer_opens(stack, client):
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    created = client.post(
        f"/v1/orgs/{org_id}/users",
        json={"username": unique("gone"), "password": PASSWORDS[0]},
        headers=headers,
    )
    user_id = uuid.UUID(created.json()["userId"])
    leaf = password_set_leaf(stack, client, headers, user_id)
    keys: DataKeys = stack.service.store.data_keys
    current = stack.service.store.repository.get(user_id)
    assert keys.open(user_id, "password_hash", leaf["password_hash"]) == current.password_hash
    assert keys.open(user_id, "history_hash", leaf["history_hash"]) == current.history_hash

    assert client.post(f"/v1/users/{user_id}/erase", headers=headers).status_code == 204

    assert password_set_leaf(stack, client, headers, user_id) == leaf  # the leaf is unchanged
    elsewhere = DataKeys(keys.table, stack.service.keys.data_key_wrapping_key)  # nothing cached
    for opener in (keys, elsewhere):
        assert opener.open(user_id, "password_hash", leaf["password_hash"]) is None
        assert opener.open(user_id, "history_hash", leaf["history_hash"]) is None
    assert keys.table.fetch(user_id) == (None,)


def password_set_leaf(
    stack: Any, client: TestClient, headers: dict[str, str], user_id: uuid.UUID
) -> dict[str, Any]:
    """The sealed fields of the user's `PasswordSet` as its ledger leaf serves them."""
    history = client.get(f"/v1/users/{user_id}/history", headers=headers).json()["events"]
    [position] = [e["position"] for e in history if e["type"] == "user.password.set"]
    size = int(client.get("/v1/ledger/checkpoint", headers=headers).text.splitlines()[1])
    proof = client.get(
        "/v1/ledger/proof/inclusion",
        params={"position": position, "treeSize": size},
        headers=headers,
    ).json()
    [leaf] = client.get(
        "/v1/ledger/leaves", params={"start": proof["index"], "limit": 1}, headers=headers
    ).json()["leaves"]
    state = base64.b64decode(json.loads(base64.b64decode(leaf["input"]))["state"])
    cipher = stack.service.store.mapper.cipher
    fields = json.loads(cipher.decrypt(state) if cipher is not None else state)
    assert fields["password_hash"]["_type_"] == "sealed"
    return {name: Sealed(fields[name]["_data_"]) for name in ("password_hash", "history_hash")}


@pytest.mark.parametrize("kind", STORES)
def test_an_erased_users_hashes_read_as_absent_and_replay_history_and_verify_still_work(
    kind, tmp_path
):
    with running(kind, tmp_path) as runtime, app_client(runtime) as client:
        activity = drive(runtime, client)
        user_id = uuid.UUID(activity.user_id)
        store = runtime.service.store
        erased = client.post(f"/v1/users/{user_id}/erase", headers=activity.headers)
        assert erased.status_code == 204, erased.text
        cached = store.repository.get(user_id)  # the copy the process kept holds none either
        assert (cached.password_hash, cached.history_hash, cached.previous_hashes) == (
            None, None, [])  # fmt: skip
        store.repository.cache = None  # every load below replays from the store
        for taken in (False, True):  # from the snapshot before the erasure, then one after
            if taken:
                store.take_snapshot(user_id)
            user = store.repository.get(user_id)
            assert (user.password_hash, user.history_hash, user.legacy_scheme) == (None,) * 3
            assert (user.previous_hashes, user.previous_history) == ([], [])
            assert user.pending_reset is None and user.erased
        history = client.get(f"/v1/users/{user_id}/history", headers=activity.headers)
        assert history.status_code == 200 and history.json()["events"][-1]["type"] == "user.erased"
        assert no_drift(runtime)
        rebuild(runtime.projector, list(runtime.projector.models))
        assert no_drift(runtime)


@pytest.mark.parametrize("kind", STORES)
def test_an_erased_persons_import_is_left_out_of_a_rebuilt_import_report_as_verify_expects(
    kind, tmp_path
):
    with running(kind, tmp_path) as runtime, app_client(runtime) as client:
        headers = admin_headers(client)
        org_id, alias = new_org(client, headers)
        ids, _ = import_every_family(client, headers, org_id, alias)
        url = f"/v1/orgs/{org_id}/import-report"
        before = client.get(url, headers=headers).json()["schemes"]
        assert before == {s: 1 for s in IMPORTED if s not in UPGRADED}
        gone = client.post(f"/v1/users/{ids['scrypt']}/erase", headers=headers)
        assert gone.status_code == 204, gone.text
        after = {s: 1 for s in IMPORTED if s not in (*UPGRADED, "scrypt")}
        assert client.get(url, headers=headers).json()["schemes"] == after
        # A rebuild meets the import after the key is gone: its scheme reads as absent.
        rebuild(runtime.projector, ["imported_hashes"])
        assert client.get(url, headers=headers).json()["schemes"] == after
        assert no_drift(runtime)


def test_sealing_hashes_is_no_setting_an_operator_could_turn_off():
    assert [name for name in Settings.model_fields if "seal" in name] == []


# --- the mapper alone ---


def test_a_snapshot_seals_a_copy_of_the_pending_reset_and_the_aggregate_keeps_its_own(tmp_path):
    mapper = _mapper(tmp_path)
    user = _user_with_pending_reset()
    pending = user.pending_reset
    stored = mapper.to_stored_event(Snapshot.take(user))
    assert user.pending_reset is pending and pending.code_digest == "c0de" * 16
    assert b"c0de" not in stored.state and b"70ce" not in stored.state
    assert b"$argon2" not in stored.state
    loaded = mapper.to_domain_event(stored).state
    assert loaded["pending_reset"] == pending and loaded["password_hash"] == user.password_hash
    assert loaded["previous_hashes"] == user.previous_hashes


def test_a_store_that_does_not_seal_still_opens_what_another_sealed(tmp_path):
    sealing, plain_mapper = _mapper(tmp_path), _mapper(tmp_path, seal_secrets=False)
    user = _user_with_pending_reset()
    [*events] = user.collect_events()
    for event in events:
        assert vars(plain_mapper.to_domain_event(sealing.to_stored_event(event))) == vars(event)
    written = plain_mapper.to_stored_event(events[1])
    assert b"$argon2" in written.state  # ... and writes hashes readable itself


def _mapper(folder: Path, seal_secrets: bool = True) -> Any:
    """The mapper as the application builds it, over an in-memory event store; every mapper
    made over one folder shares its data keys."""
    table = SqlDataKeyTable(SqliteReadStore(folder / "keys.db", SQLITE_DDL))
    keys = DataKeys(table, bytes(range(32)))
    store = EventStore(
        keys, {"PERSISTENCE_MODULE": "eventsourcing.popo"}, seal_secrets=seal_secrets
    )
    return store.mapper


def _user_with_pending_reset() -> User:
    audit = {"actor": "x", "method": "admin", "dialect": "native", "client": {}}
    user = User(
        id=uuid.uuid4(), org_id=uuid.uuid4(), username="grace", numeric_id=7, email=None,
        full_name=None, roles=[], audit=audit,
    )  # fmt: skip
    for n in range(3):
        user.set_password(f"$argon2id$v=19$m=1024,t=1,p=1$c2FsdA${n}" * 2, False, audit, None)
    now = datetime.now(UTC)
    reset = PendingReset("r1", "c0de" * 16, "70ce" * 16, now, now)
    user.request_reset(reset, "return", audit)
    return user
