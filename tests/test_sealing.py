"""Personal data sealing (CONTRACTS §6): the stored format opens with nothing but the README's
recipe and the `cryptography` AES-GCM primitive; values are bound to their person and field;
keys are made once, destroyed for good, and forgotten by every process within a minute."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Mapper, MapperDeserialisationError

from credledger.wiring import build_runtime
from domain.user import User
from service.context import Actor, RequestContext
from service.sealing import KEY_CACHE_SECONDS, DataKeys, Sealed
from service.store import EventStore
from storage.datakeys import SQLITE_DDL, SqlDataKeyTable
from storage.readstores import SqliteReadStore
from tests.api_helpers import GOOD_PASSWORD, bearer, login, new_org_user, new_user
from tests.conftest import own_store

SECRET = "test-secret-key-" + "k" * 32
WRAPPING_KEY = hmac.new(SECRET.encode(), b"data-key-wrapping", hashlib.sha256).digest()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def key_table(folder: Path) -> SqlDataKeyTable:
    return SqlDataKeyTable(SqliteReadStore(folder / "keys.db", SQLITE_DDL))


def registered(user_id: uuid.UUID, client: dict[str, Any]) -> User.Registered:
    user = User(
        id=user_id,
        org_id=uuid.uuid4(),
        username="grace",
        numeric_id=7,
        email="grace@example.org",
        full_name="Grace Hopper",
        roles=[],
        audit={"actor": "x", "method": "admin", "dialect": "native", "client": client},
    )
    return user.collect_events()[0]


def test_a_stored_event_opens_with_the_documented_recipe_alone(tmp_path):
    with own_store("sqlite", tmp_path, "seal") as (settings, _):
        runtime = build_runtime(settings)
        org = runtime.service.store  # the store whose raw bytes we read back
        user = User(
            id=uuid.uuid4(), org_id=uuid.uuid4(), username="grace", numeric_id=7,
            email="grace@example.org", full_name="Grace Hopper", roles=[],
            audit={"actor": "x", "method": "admin", "dialect": "native",
                   "client": {"remoteAddress": "192.0.2.55"}},
        )  # fmt: skip
        org.save(user)
        runtime.close()
        with sqlite3.connect(settings.sqlite_path) as conn:
            (state,) = conn.execute(
                "SELECT state FROM stored_events WHERE originator_id = ?", (user.id.hex,)
            ).fetchone()
        with sqlite3.connect(tmp_path / "store-keys.db") as conn:
            (wrapped,) = conn.execute(
                "SELECT wrapped_key FROM data_keys WHERE subject = ?", (str(user.id),)
            ).fetchone()
    # The recipe: KEK = HMAC-SHA256(secret, "data-key-wrapping"); wrapped = nonce || AES-GCM
    # with AAD "data-key" 0x1f subject bytes; a sealed value = base64(0x01 || nonce || AES-GCM)
    # with AAD subject bytes 0x1f field name, over the value's JSON.
    data_key = AESGCM(WRAPPING_KEY).decrypt(
        wrapped[:12], wrapped[12:], b"data-key\x1f" + user.id.bytes
    )
    if settings.cipher_key is not None:
        # Encryption at rest wraps the whole event first, in the library's own format:
        # 12-byte nonce || 16-byte tag || AES-GCM ciphertext, no associated data.
        whole = AESGCM(base64.b64decode(settings.cipher_key.get_secret_value()))
        state = whole.decrypt(state[:12], state[28:] + state[12:28], None)
    stored = json.loads(state)
    opened = {}
    for name in ("username", "email", "full_name"):
        assert stored[name]["_type_"] == "sealed"
        raw = base64.b64decode(stored[name]["_data_"])
        assert raw[0] == 1
        aad = user.id.bytes + b"\x1f" + name.encode()
        opened[name] = json.loads(AESGCM(data_key).decrypt(raw[1:13], raw[13:], aad))
    assert opened == {
        "username": "grace",
        "email": "grace@example.org",
        "full_name": "Grace Hopper",
    }
    client = base64.b64decode(stored["audit"]["client"]["_data_"])
    aad = user.id.bytes + b"\x1fclient"
    assert json.loads(AESGCM(data_key).decrypt(client[1:13], client[13:], aad)) == {
        "remoteAddress": "192.0.2.55"
    }
    assert stored["audit"]["method"] == "admin"  # what is not personal stays readable
    assert b"grace" not in state and b"192.0.2.55" not in state


def test_a_value_moved_to_another_person_or_field_does_not_open(tmp_path):
    keys = DataKeys(key_table(tmp_path), WRAPPING_KEY)
    ada, bob = uuid.uuid4(), uuid.uuid4()
    keys.for_sealing(bob)
    sealed = keys.seal(ada, "username", "ada")
    assert sealed is not None and keys.open(ada, "username", sealed) == "ada"
    with pytest.raises(ValueError, match="altered"):
        keys.open(bob, "username", sealed)
    with pytest.raises(ValueError, match="altered"):
        keys.open(ada, "email", sealed)


def test_another_secret_key_is_named_instead_of_reading_garbage(tmp_path):
    subject = uuid.uuid4()
    DataKeys(key_table(tmp_path), WRAPPING_KEY).for_sealing(subject)
    other = DataKeys(key_table(tmp_path), bytes(32))
    with pytest.raises(ValueError, match="CREDLEDGER_SECRET_KEY"):
        other.for_opening(subject)


def test_events_stored_before_sealing_existed_still_load(tmp_path):
    runtime_mapper = _mapper(tmp_path)
    plain = Mapper(runtime_mapper.transcoder)
    event = registered(uuid.uuid4(), {"remoteAddress": "192.0.2.1"})
    loaded = runtime_mapper.to_domain_event(plain.to_stored_event(event))
    assert (loaded.username, loaded.email, loaded.audit["client"]) == (
        "grace", "grace@example.org", {"remoteAddress": "192.0.2.1"},
    )  # fmt: skip


def test_after_the_key_is_destroyed_fields_read_as_absent_and_nothing_is_sealed_again(tmp_path):
    mapper = _mapper(tmp_path)
    user_id = uuid.uuid4()
    stored = mapper.to_stored_event(registered(user_id, {"remoteAddress": "192.0.2.1"}))
    mapper.keys.destroy(user_id)
    loaded = mapper.to_domain_event(stored)
    assert (loaded.username, loaded.email, loaded.full_name) == (None, None, None)
    assert loaded.audit["client"] == {} and loaded.audit["method"] == "admin"
    again = mapper.to_stored_event(registered(user_id, {"remoteAddress": "192.0.2.1"}))
    assert b"grace" not in again.state and b"sealed" not in again.state
    assert mapper.keys.table.fetch(user_id) == (None,)


def test_a_tampered_sealed_value_fails_loudly_rather_than_reading_as_erased(tmp_path):
    mapper = _mapper(tmp_path)
    user_id = uuid.uuid4()
    stored = mapper.to_stored_event(registered(user_id, {}))
    state = json.loads(stored.state)
    raw = bytearray(base64.b64decode(state["username"]["_data_"]))
    raw[-1] ^= 1
    state["username"]["_data_"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(MapperDeserialisationError, match="username"):
        mapper.to_domain_event(replace(stored, state=json.dumps(state).encode()))


def test_a_lost_key_store_is_an_error_not_a_silent_erasure_of_everyone(tmp_path):
    stored = _mapper(tmp_path).to_stored_event(registered(uuid.uuid4(), {}))
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(MapperDeserialisationError, match="data key store is missing"):
        _mapper(tmp_path / "elsewhere").to_domain_event(stored)


def test_a_person_gets_one_key_even_when_processes_race_to_make_it(tmp_path):
    subject = uuid.uuid4()
    keys = [DataKeys(key_table(tmp_path), WRAPPING_KEY) for _ in range(8)]
    made: list[bytes | None] = [None] * len(keys)
    start = threading.Barrier(len(keys))

    def make(i: int) -> None:
        start.wait()
        made[i] = keys[i].for_sealing(subject)

    threads = [threading.Thread(target=make, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made[0] is not None and len(set(made)) == 1


def test_another_process_forgets_a_destroyed_key_within_the_cache_time(tmp_path):
    clock = Clock()
    here = DataKeys(key_table(tmp_path), WRAPPING_KEY, clock)
    elsewhere = DataKeys(key_table(tmp_path), WRAPPING_KEY, clock)
    subject = uuid.uuid4()
    sealed = here.seal(subject, "email", "x@example.org")
    assert isinstance(sealed, Sealed)
    assert elsewhere.open(subject, "email", sealed) == "x@example.org"
    here.destroy(subject)
    assert here.open(subject, "email", sealed) is None
    clock.now += KEY_CACHE_SECONDS + 1
    assert elsewhere.open(subject, "email", sealed) is None


def _mapper(folder: Path) -> Any:
    """The mapper exactly as the application builds it, over an in-memory event store."""
    keys = DataKeys(key_table(folder), WRAPPING_KEY)
    return EventStore(keys, env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


# --- the endpoint's rules, on both stores ---


def test_only_an_admin_of_the_users_org_may_erase(client):
    account = new_org_user(client)
    auditor_id, auditor = new_user(client, account["admin"], account["org_id"], roles=["auditor"])
    url = f"/v1/users/{account['user_id']}/erase"
    own = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    assert client.post(url, headers=bearer(own)).status_code == 403
    audits = login(client, f"{auditor}@{account['alias']}", GOOD_PASSWORD)["token"]
    assert client.post(url, headers=bearer(audits)).status_code == 403
    stranger = new_org_user(client, roles=["admin"])
    outsider = login(client, stranger["login_name"], GOOD_PASSWORD)["token"]
    reply = client.post(url, headers=bearer(outsider))
    assert reply.status_code == 404 and reply.json()["code"] == "not_found"
    assert client.post(url, headers=account["admin"]).status_code == 204
    assert auditor_id


def test_a_removed_user_can_be_erased(client):
    account = new_org_user(client, email="gone@example.org")
    url = f"/v1/users/{account['user_id']}"
    assert client.delete(url, headers=account["admin"]).status_code == 204
    assert client.post(f"{url}/erase", headers=account["admin"]).status_code == 204
    history = client.get(f"{url}/history", headers=account["admin"]).json()["events"]
    assert [e["type"] for e in history][-2:] == ["user.removed", "user.erased"]


def test_a_crash_before_the_key_is_destroyed_is_finished_by_the_next_call(stack, client):
    account = new_org_user(client)
    user_id = uuid.UUID(account["user_id"])
    data_keys = stack.service.store.data_keys
    actor = Actor(uuid.uuid4(), uuid.UUID(account["org_id"]), ("admin",))
    real = data_keys.destroy

    def crash(_: uuid.UUID) -> None:
        raise ConnectionError("the key store went away")

    data_keys.destroy = crash  # type: ignore[method-assign]
    try:
        with pytest.raises(ConnectionError):
            stack.service.erase_user(actor, user_id, RequestContext())
    finally:
        data_keys.destroy = real  # type: ignore[method-assign]
    assert data_keys.table.fetch(user_id) not in (None, (None,))  # erased, key still there
    reply = client.post(f"/v1/users/{user_id}/erase", headers=account["admin"])
    assert reply.status_code == 404
    assert data_keys.table.fetch(user_id) == (None,)
