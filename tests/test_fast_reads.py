"""A user read in one statement (head, positions and row at one snapshot), on both stores:
it is taken only when provably current, and every other case falls back to the full path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from projections.rebuild import rebuild
from tests.api_helpers import admin_headers, new_org, new_user


def _counting(stack, monkeypatch) -> Counter[str]:
    """How often the read path asks the read store and the event store, by call."""
    calls: Counter[str] = Counter()
    models = stack.runtime.reads.models

    def counted(name: str, inner: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return inner(*args, **kwargs)

        return call

    for name in ("query", "query_with_head"):
        monkeypatch.setattr(models.reads, name, counted(name, getattr(models.reads, name)))
    monkeypatch.setattr(models.projector, "head", counted("head", models.projector.head))
    return calls


def _user(client: TestClient) -> tuple[str, dict[str, str], str]:
    """A new user's id, the admin's headers and the user's login name."""
    headers = admin_headers(client)
    org_id, alias = new_org(client, headers)
    user_id, username = new_user(client, headers, org_id)
    return user_id, headers, f"{username}@{alias}"


def _fail_login(client: TestClient, login_name: str) -> None:
    """A write: the failed attempt is an event of the user."""
    wrong = {"loginName": login_name, "password": "Not-the-password-4471"}
    assert client.post("/v1/sessions", json=wrong).status_code == 401


def test_a_current_read_is_one_statement(stack, client, monkeypatch):
    user_id, headers, login_name = _user(client)
    assert client.get(f"/v1/users/{user_id}", headers=headers).status_code == 200
    calls = _counting(stack, monkeypatch)
    reply = client.get(f"/v1/users/{user_id}", headers=headers)
    assert reply.status_code == 200
    assert reply.json()["userId"] == user_id
    assert calls == Counter(query_with_head=1)


def test_a_read_behind_the_head_catches_up_and_sees_the_write(stack, client, monkeypatch):
    user_id, headers, login_name = _user(client)
    before = client.get(f"/v1/users/{user_id}", headers=headers).json()
    _fail_login(client, login_name)
    calls = _counting(stack, monkeypatch)
    after = client.get(f"/v1/users/{user_id}", headers=headers).json()
    assert calls["query_with_head"] == 1 and calls["head"] == 1  # the fast check said: behind
    assert after["failedAttempts"] == before["failedAttempts"] + 1


def test_a_rebuild_switch_is_seen_and_its_new_tables_serve_the_next_reads(stack, client):
    user_id, headers, login_name = _user(client)
    before = client.get(f"/v1/users/{user_id}", headers=headers).json()
    models = stack.runtime.reads.models
    old = dict(models._seen or {})
    rebuild(stack.runtime.projector, list(stack.runtime.projector.models))
    _fail_login(client, login_name)
    after = client.get(f"/v1/users/{user_id}", headers=headers).json()
    assert after["failedAttempts"] == before["failedAttempts"] + 1
    assert models._seen is not None and models._seen["users"] != old["users"]


def test_tables_that_are_gone_send_the_read_down_the_full_path(stack, client):
    user_id, headers, login_name = _user(client)
    models = stack.runtime.reads.models
    assert client.get(f"/v1/users/{user_id}", headers=headers).status_code == 200
    seen = dict(models._seen or {})
    models._seen = {**seen, "users": "rm_users_g999999", "orgs": "rm_orgs_g999999"}
    reply = client.get(f"/v1/users/{user_id}", headers=headers)
    assert reply.status_code == 200 and reply.json()["userId"] == user_id
    assert models._seen == seen


def test_an_unknown_user_is_not_found_by_the_fast_statement(stack, client, monkeypatch):
    _, headers, _ = _user(client)
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/v1/users/{missing}", headers=headers).status_code == 404
    calls = _counting(stack, monkeypatch)
    assert client.get(f"/v1/users/{missing}", headers=headers).status_code == 404
    assert calls == Counter(query_with_head=1)
