"""Erasure (CONTRACTS §6) on both stores, through the real app and the real CLI.

One person acts through the native API, LIFE POS (with `X-LP-*` headers) and Kendox from an
address and user agent of their own, gets snapshotted, and is erased. Afterwards no byte of
the event store, snapshots, data keys or read models holds anything of theirs (SQLite: every
byte of every file, free pages and write-ahead logs included; PostgreSQL: every row of every
table), while history, feed, `history` and `export` keep every event with `client: {}`,
`verify` finds no drift, the ledger still proves a checkpoint saved before, and a rebuild
gives the same rows. Before erasure the same scan finds the person's username, email and full
name in the users read model (the positive control) and nowhere in the event store: it was
ciphertext from the first write. Their client metadata is plaintext nowhere, ever: the history
read model keeps it sealed and opens it per read.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.app import create_app
from api.ratelimit import RateLimiter
from credledger.bootstrap import bootstrap
from credledger.cli import main as cli_main
from credledger.settings import Settings
from credledger.wiring import Runtime, build_runtime
from projections.rebuild import rebuild
from tests.api_helpers import GOOD_PASSWORD, bearer, login, new_org, new_user
from tests.conftest import ADMIN_PASSWORD, POSTGRES_URL, own_store

NEW_PASSWORD = "Erasure-second-pw-5521"
LIFEPOS_PASSWORD = "Erasure-third-pw-77"
ADMIN_ADDRESS = ("192.0.2.10", 40000)


@dataclass
class Person:
    """Everything of one person that must be gone after erasure, unique to this run."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def __post_init__(self) -> None:
        t = self.tag
        self.username = f"ada-{t}"
        self.email = f"ada.{t}@erasure.example"
        self.full_name = f"Ada {t} Lovelace"
        self.address = f"198.51.100.{int(t[:2], 16) % 250 + 1}-{t}"  # unique, as TestClient allows
        self.user_agent = f"ErasureAgent/{t}"
        self.lp = {
            "X-LP-Client-Identifier": f"till-{t}",
            "X-LP-Client-Type": "App",
            "X-LP-Client-Name": f"phone-{t}",
            "X-LP-Client-OS-Name": f"os-{t}",
            "X-LP-Client-Model": f"model-{t}",
            "Accept-Language": f"x-{t}",
        }

    def needles(self) -> dict[str, bytes]:
        values = {
            "username": self.username,
            "email": self.email,
            "full name": self.full_name,
            "remote address": self.address,
            "user agent": self.user_agent,
            **{header: value for header, value in self.lp.items() if header != "X-LP-Client-Type"},
        }
        return {name: value.encode() for name, value in values.items()}


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Erased:
    kind: str
    folder: Path
    settings: Settings
    env: dict[str, str]
    runtime: Runtime
    admin: TestClient
    admin_headers: dict[str, str]
    person: Person
    user_id: str
    org_id: str
    alias: str
    old_token: str
    reset_code: str
    checkpoint: str
    leaves_before: list[dict[str, Any]]
    history_before: list[dict[str, Any]]
    found_before: dict[str, list[str]]
    wrapped_key: bytes
    log: Capture


# --- the scan: every byte the product keeps ---


def scan(store: Erased, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """For each needle, where it was found: SQLite file names or PostgreSQL table names."""
    places: dict[str, bytes] = {}
    if store.kind == "sqlite":
        for path in sorted(store.folder.glob("store*.db*")):
            places[path.name] = path.read_bytes()
    else:
        places = _postgres_tables(store.settings.database_schema)
    return {
        name: [place for place, data in places.items() if needle in data]
        for name, needle in needles.items()
    }


def _postgres_tables(schema: str) -> dict[str, bytes]:
    out = {}
    with psycopg.connect(POSTGRES_URL) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            rows = conn.execute(
                sql.SQL("SELECT * FROM {}.{}").format(*map(sql.Identifier, (schema, table)))
            ).fetchall()
            out[table] = b"\n".join(_bytes(value) for row in rows for value in row)
    return out


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | memoryview | bytearray):
        return bytes(value)
    return str(value).encode()


def event_store_places(store: Erased) -> set[str]:
    if store.kind == "sqlite":
        return {p.name for p in store.folder.glob("store.db*")}
    return {"credledger_events", "credledger_snapshots"}


def wrapped_key(runtime: Runtime, user_id: str) -> bytes | None:
    row = runtime.service.store.data_keys.table.fetch(uuid.UUID(user_id))
    return row[0] if row else None


# --- the scenario, once per store ---


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def erased(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Erased]:
    folder = tmp_path_factory.mktemp(f"erasure-{request.param}")
    capture = Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        with own_store(request.param, folder, "erase") as (settings, env):
            runtime = build_runtime(settings)
            try:
                bootstrap(runtime.service, admin_password=ADMIN_PASSWORD)
                yield _scenario(request.param, folder, settings, env, runtime, capture)
            finally:
                runtime.close()
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)


def _client(runtime: Runtime, address: tuple[str, int], agent: str = "admin-console") -> TestClient:
    app = create_app(runtime.service, runtime.reads, RateLimiter(0), runtime.ledger)
    return TestClient(
        app, raise_server_exceptions=False, client=address, headers={"User-Agent": agent}
    )


def _scenario(
    kind: str,
    folder: Path,
    settings: Settings,
    env: dict[str, str],
    runtime: Runtime,
    capture: Capture,
) -> Erased:
    person = Person()
    admin = _client(runtime, ADMIN_ADDRESS)
    admin_headers = bearer(login(admin, "admin", ADMIN_PASSWORD)["token"])
    org_id, alias = new_org(admin, admin_headers)
    user_id, _ = new_user(
        admin, admin_headers, org_id,
        username=person.username, email=person.email, fullName=person.full_name,
    )  # fmt: skip
    login_name = f"{person.username}@{alias}"
    own = _client(runtime, (person.address, 50123), person.user_agent)
    token = login(own, login_name, GOOD_PASSWORD)["token"]
    changed = own.post(
        f"/v1/users/{user_id}/password",
        json={"currentPassword": GOOD_PASSWORD, "newPassword": NEW_PASSWORD},
        headers=bearer(token),
    )
    assert changed.status_code == 200, changed.text
    lifepos = own.post(
        f"/orgs/{org_id}/me/set-credentials",
        json={"old_password": NEW_PASSWORD, "new_password": LIFEPOS_PASSWORD},
        headers={**bearer(token), **person.lp},
    )
    assert lifepos.status_code == 200, lifepos.text
    token = lifepos.json()["token"]
    wrong = own.post("/v1/sessions", json={"loginName": login_name, "password": "not-it-at-all"})
    assert wrong.status_code == 401
    invited = own.post(
        "/InfoShare/Json/Authentication/SendPasswordResetInvitation",
        json={
            "tenantName": alias,
            "user": person.username,
            "targetURL": f"{runtime.settings.public_url}/ui/reset?t=%LoginToken%",
        },
    )
    assert invited.status_code == 200, invited.text
    runtime.service.background.wait_idle()  # the invitation is issued after the answer
    spare = login(own, login_name, LIFEPOS_PASSWORD)["token"]
    assert own.delete("/v1/sessions/current", headers=bearer(spare)).status_code == 204
    reset = admin.post(
        f"/v1/users/{user_id}/password-reset", json={"delivery": "return"}, headers=admin_headers
    )
    assert reset.status_code == 200, reset.text
    runtime.service.store.take_snapshot(uuid.UUID(user_id))

    checkpoint = admin.get("/v1/ledger/checkpoint", headers=admin_headers).text
    size = int(checkpoint.splitlines()[1])
    leaves = admin.get(
        "/v1/ledger/leaves", params={"start": 0, "limit": size}, headers=admin_headers
    ).json()["leaves"]
    history = admin.get(f"/v1/users/{user_id}/history", headers=admin_headers).json()["events"]
    store = Erased(
        kind, folder, settings, env, runtime, admin, admin_headers, person, user_id, org_id,
        alias, token, reset.json()["code"], checkpoint, leaves, history, {},
        wrapped_key(runtime, user_id) or b"", capture,
    )  # fmt: skip
    store.found_before = scan(store, person.needles())
    erased = admin.post(f"/v1/users/{user_id}/erase", headers=admin_headers)
    assert erased.status_code == 204, erased.text
    return store


def run_cli(store: Erased, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in store.env.items():
            if name.startswith("CREDLEDGER_"):
                patch.setenv(name, value)
        with redirect_stdout(out):
            code = cli_main(list(argv))
    return code, out.getvalue()


# --- before: the control ---


# What the users read model keeps in plaintext; client metadata stays sealed in every table.
KEPT_BY_THE_USERS_MODEL = {"username", "email", "full name"}


def test_before_erasure_the_read_models_hold_the_person_and_the_event_store_does_not(erased):
    for name in KEPT_BY_THE_USERS_MODEL:
        places = erased.found_before[name]
        assert places, f"the scan cannot see the {name} even where it is kept in plaintext"
        assert not set(places) & event_store_places(erased), f"{name} stored as plaintext"
    assert erased.wrapped_key


def test_before_erasure_client_metadata_is_stored_nowhere_as_plaintext(erased):
    found = {
        name: places
        for name, places in erased.found_before.items()
        if places and name not in KEPT_BY_THE_USERS_MODEL
    }
    assert found == {}


def test_the_history_before_erasure_carried_the_client_metadata(erased):
    clients = [e["client"] for e in erased.history_before]
    assert {"remoteAddress": erased.person.address, "userAgent": erased.person.user_agent} in [
        {k: c.get(k) for k in ("remoteAddress", "userAgent")} for c in clients
    ]
    assert any(c.get("clientModel") == erased.person.lp["X-LP-Client-Model"] for c in clients)


# --- after ---


def test_no_byte_of_events_snapshots_keys_or_read_models_holds_the_person(erased):
    erased.runtime.reads.models.fresh()
    found = {
        name: places for name, places in scan(erased, erased.person.needles()).items() if places
    }
    assert found == {}


def test_the_destroyed_data_key_is_gone_from_the_files(erased):
    assert wrapped_key(erased.runtime, erased.user_id) is None
    assert scan(erased, {"wrapped key": erased.wrapped_key}) == {"wrapped key": []}


def test_the_products_log_lines_never_name_the_person(erased):
    assert any(line.startswith("mail: ") for line in erased.log.lines), "no log line captured"
    text = "\n".join(erased.log.lines).encode()
    assert [name for name, needle in erased.person.needles().items() if needle in text] == []


def test_history_keeps_every_event_with_an_empty_client(erased):
    after = erased.admin.get(
        f"/v1/users/{erased.user_id}/history", headers=erased.admin_headers
    ).json()["events"]
    assert [e["type"] for e in after] == [e["type"] for e in erased.history_before] + [
        "user.erased"
    ]
    for old, new in zip(erased.history_before, after, strict=False):
        assert {**old, "client": {}} == new
    assert all(e["client"] == {} for e in after)
    assert after[-1]["actor"] != erased.user_id and after[-1]["method"] == "admin"


def test_the_feed_keeps_the_persons_rows_with_an_empty_client(erased):
    feed = erased.admin.get(
        "/v1/events", params={"after": 0, "limit": 1000}, headers=erased.admin_headers
    ).json()["events"]
    rows = [e for e in feed if e["userId"] == erased.user_id]
    assert [r["position"] for r in rows[:-1]] == [e["position"] for e in erased.history_before]
    assert rows[-1]["type"] == "user.erased"
    assert all(r["client"] == {} for r in rows)


def test_cli_history_and_export_keep_every_event_with_an_empty_client(erased):
    code, out = run_cli(erased, "history", erased.user_id, "--json")
    assert code == 0
    events = json.loads(out)["events"]
    assert [e["type"] for e in events] == [e["type"] for e in erased.history_before] + [
        "user.erased"
    ]
    assert all(e["client"] == {} for e in events)
    code, out = run_cli(
        erased, "export", "--since", "2000-01-01T00:00:00Z", "--until", "2999-01-01T00:00:00Z"
    )
    assert code == 0
    mine = [json.loads(line) for line in out.splitlines() if erased.user_id in line]
    assert len(mine) == len(events) and all(row["client"] == {} for row in mine)
    assert erased.person.username not in out and erased.person.address not in out


def test_the_user_is_gone_and_erasing_twice_is_404(erased):
    url = f"/v1/users/{erased.user_id}"
    assert erased.admin.get(url, headers=erased.admin_headers).status_code == 404
    again = erased.admin.post(f"{url}/erase", headers=erased.admin_headers)
    assert again.status_code == 404 and again.json()["code"] == "not_found"


def test_sessions_and_the_pending_reset_ended(erased):
    own = erased.admin.get(f"/v1/users/{erased.user_id}", headers=bearer(erased.old_token))
    assert own.status_code == 401
    redeemed = erased.admin.post(
        f"/v1/users/{erased.user_id}/password",
        json={"verificationCode": erased.reset_code, "newPassword": "Erasure-fourth-pw-31"},
    )
    assert redeemed.status_code == 400, redeemed.text


def test_verify_reports_zero_drift(erased):
    code, out = run_cli(erased, "verify")
    assert code == 0, out
    assert out.strip().endswith("0 drifting")


def test_the_ledger_still_proves_the_checkpoint_saved_before_leaf_for_leaf(erased, tmp_path):
    saved = tmp_path / "before.checkpoint"
    saved.write_text(erased.checkpoint)
    now = erased.admin.get("/v1/ledger/checkpoint", headers=erased.admin_headers).text
    code, out = run_cli(erased, "ledger", "verify", "--checkpoint", str(saved))
    assert code == 0, out
    size, root = now.splitlines()[1:3]
    assert out.splitlines()[-1] == f"ledger ok: {size} leaves, root {root}"
    before = len(erased.leaves_before)
    after = erased.admin.get(
        "/v1/ledger/leaves", params={"start": 0, "limit": before}, headers=erased.admin_headers
    ).json()["leaves"]
    assert after == erased.leaves_before


def test_a_rebuild_gives_the_same_rows(erased):
    models = erased.runtime.reads.models
    models.fresh()
    before = (models.user(erased.user_id), models.history(erased.user_id))
    rebuild(erased.runtime.projector, list(erased.runtime.projector.models))
    assert (models.user(erased.user_id), models.history(erased.user_id)) == before
    assert before[0] is not None and before[0].username == "" and before[0].email is None


def test_the_username_can_be_taken_again(erased):
    user_id, _ = new_user(
        erased.admin, erased.admin_headers, erased.org_id, username=erased.person.username
    )
    assert user_id != erased.user_id
    assert login(erased.admin, f"{erased.person.username}@{erased.alias}", GOOD_PASSWORD)
