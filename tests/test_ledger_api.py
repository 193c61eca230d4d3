"""The ledger API on both stores, checked the way an auditor would: with verifiers that are
not the product's (tests/independent.py, pymerkle), from what the API serves."""

from __future__ import annotations

import base64
import json

import pytest
from pymerkle import InmemoryTree

from tests.api_helpers import (
    GOOD_PASSWORD,
    PROBLEM_JSON,
    admin_headers,
    bearer,
    login,
    new_org_user,
)
from tests.independent import (
    hash_leaf,
    open_checkpoint,
    verify_consistency,
    verify_inclusion,
)

NEW_PASSWORD = "amber-Compass-77-meadow"


def b64d(text: str) -> bytes:
    return base64.b64decode(text)


def checkpoint(client, headers):
    key = client.get("/v1/ledger/key").json()
    reply = client.get("/v1/ledger/checkpoint", headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    return open_checkpoint(reply.text, key["verifierKey"]), reply.text


def change_password(client, account) -> int:
    """A self-service change; returns the position of its history row."""
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    reply = client.post(
        f"/v1/users/{account['user_id']}/password",
        json={"currentPassword": GOOD_PASSWORD, "newPassword": NEW_PASSWORD},
        headers=bearer(token),
    )
    assert reply.status_code == 200, reply.text
    history = client.get(f"/v1/users/{account['user_id']}/history", headers=account["admin"])
    changed = [e for e in history.json()["events"] if e["type"] == "user.password.changed"]
    return changed[-1]["position"]


def test_the_key_is_public_and_names_the_origin(client):
    reply = client.get("/v1/ledger/key")
    assert reply.status_code == 200
    key = reply.json()
    assert key["origin"].startswith("credledger/")
    name, key_id, encoded = key["verifierKey"].split("+", 2)
    assert name == key["origin"] and len(key_id) == 8 and b64d(encoded)[0] == 1


def test_a_checkpoint_covers_a_change_made_just_before_it_and_proves_it(client):
    account = new_org_user(client)
    position = change_password(client, account)
    opened, _ = checkpoint(client, account["admin"])
    reply = client.get(
        "/v1/ledger/proof/inclusion",
        params={"position": position, "treeSize": opened.size},
        headers=account["admin"],
    )
    assert reply.status_code == 200, reply.text
    proof = reply.json()
    assert proof["position"] == position and proof["treeSize"] == opened.size
    verify_inclusion(
        proof["index"],
        opened.size,
        b64d(proof["leafHash"]),
        [b64d(h) for h in proof["hashes"]],
        opened.root,
    )
    # The leaf is the stored event: its input hashes to the proven leaf and names the change.
    admin = admin_headers(client)
    leaves = client.get(
        "/v1/ledger/leaves", params={"start": proof["index"], "limit": 1}, headers=admin
    ).json()["leaves"]
    data = b64d(leaves[0]["input"])
    assert hash_leaf(data) == b64d(proof["leafHash"])
    leaf = json.loads(data)
    assert set(leaf) == {"originatorId", "originatorVersion", "position", "state", "topic"}
    assert leaf["originatorId"] == account["user_id"] and leaf["position"] == position
    assert leaf["topic"].endswith("PasswordChanged")
    assert data == json.dumps(leaf, sort_keys=True, separators=(",", ":")).encode()


def test_every_leaf_served_rebuilds_the_signed_root_in_another_implementation(client):
    admin = admin_headers(client)
    opened, _ = checkpoint(client, admin)
    tree = InmemoryTree(algorithm="sha256")
    start = 0
    while start < opened.size:
        page = client.get(
            "/v1/ledger/leaves", params={"start": start, "limit": 1000}, headers=admin
        ).json()["leaves"]
        assert [leaf["index"] for leaf in page] == list(range(start, start + len(page)))
        positions = [leaf["position"] for leaf in page]
        assert positions == sorted(positions)
        for leaf in page:
            tree.append_entry(b64d(leaf["input"]))
        start += len(page)
    assert tree.get_root(opened.size) == opened.root


def test_consistency_between_two_checkpoints_verifies(client):
    account = new_org_user(client)
    older, _ = checkpoint(client, account["admin"])
    change_password(client, account)
    newer, _ = checkpoint(client, account["admin"])
    assert newer.size > older.size
    reply = client.get(
        "/v1/ledger/proof/consistency",
        params={"from": older.size, "to": newer.size},
        headers=account["admin"],
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["from"], body["to"]) == (older.size, newer.size)
    verify_consistency(
        older.size, newer.size, older.root, newer.root, [b64d(h) for h in body["hashes"]]
    )


def test_nothing_new_means_the_same_kept_checkpoint(client):
    admin = admin_headers(client)
    _, first = checkpoint(client, admin)
    _, again = checkpoint(client, admin)
    assert again == first


def test_without_tree_size_the_proof_is_against_the_latest_checkpoint(client):
    account = new_org_user(client)
    position = change_password(client, account)
    proof = client.get(
        "/v1/ledger/proof/inclusion", params={"position": position}, headers=account["admin"]
    ).json()
    opened, _ = checkpoint(client, account["admin"])
    assert proof["treeSize"] == opened.size
    hashes = [b64d(h) for h in proof["hashes"]]
    verify_inclusion(proof["index"], opened.size, b64d(proof["leafHash"]), hashes, opened.root)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/ledger/proof/inclusion", {"index": 0, "treeSize": 10**9}),
        ("/v1/ledger/proof/inclusion", {"index": 5, "treeSize": 5}),
        ("/v1/ledger/proof/inclusion", {"index": 10**9, "treeSize": 1}),
        ("/v1/ledger/proof/inclusion", {"treeSize": 1}),
        ("/v1/ledger/proof/inclusion", {"index": 0, "position": 1}),
        ("/v1/ledger/proof/inclusion", {"index": -1}),
        ("/v1/ledger/proof/consistency", {"from": 3, "to": 2}),
        ("/v1/ledger/proof/consistency", {"from": 1, "to": 10**9}),
        ("/v1/ledger/proof/consistency", {"from": "x", "to": 2}),
        ("/v1/ledger/leaves", {"limit": 1001}),
    ],
)
def test_impossible_sizes_are_invalid_requests(client, path, params):
    reply = client.get(path, params=params, headers=admin_headers(client))
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"] == PROBLEM_JSON
    assert reply.json()["code"] == "invalid_request"


def test_a_position_with_no_event_is_not_found(client):
    reply = client.get(
        "/v1/ledger/proof/inclusion", params={"position": 10**12}, headers=admin_headers(client)
    )
    assert reply.status_code == 404
    assert reply.json()["code"] == "not_found"


def test_who_may_read_the_ledger(client):
    account = new_org_user(client, roles=[])
    user = bearer(login(client, account["login_name"], GOOD_PASSWORD)["token"])
    auditor = new_org_user(client, roles=["auditor"])
    auditor_headers = bearer(login(client, auditor["login_name"], GOOD_PASSWORD)["token"])
    assert client.get("/v1/ledger/checkpoint").status_code == 401
    assert client.get("/v1/ledger/checkpoint", headers=user).status_code == 403
    assert client.get("/v1/ledger/checkpoint", headers=auditor_headers).status_code == 200
    consistency = {"from": 1, "to": 1}
    assert (
        client.get("/v1/ledger/proof/consistency", params=consistency, headers=user).status_code
        == 403
    )
    # Leaf inputs carry whole stored events: instance admins only.
    assert client.get("/v1/ledger/leaves", headers=auditor_headers).status_code == 403
    assert client.get("/v1/ledger/leaves", headers=account["admin"]).status_code == 200
