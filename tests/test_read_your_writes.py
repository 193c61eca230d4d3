"""Read-your-writes under a running worker: a checkpoint, proof or read answered after a
change was acknowledged covers that change, however the worker's integration interleaves.

The worker integrates in the background while each request catches up on its own; the race
this pins down (a request whose catch-up finds the batch already taken by the worker) showed
up in a few rounds of forty on PostgreSQL, so each store runs two hundred.
"""

from __future__ import annotations

import base64
import uuid

from tests.api_helpers import admin_headers, new_org_user
from tests.independent import open_checkpoint, verify_inclusion
from tests.test_projection_worker import _Running

ROUNDS = 200


def test_every_checkpoint_and_proof_covers_the_change_acknowledged_before_it(stack, client):
    account = new_org_user(client)
    headers = admin_headers(client)
    key = client.get("/v1/ledger/key").json()["verifierKey"]
    store = stack.service.store
    misses = []
    with _Running(stack):
        for round_ in range(ROUNDS):
            reply = client.post(
                f"/v1/users/{account['user_id']}/password",
                json={"newPassword": f"Stress-{round_}-{uuid.uuid4().hex[:12]}"},
                headers=headers,
            )
            assert reply.status_code == 200, reply.text
            # Only this test writes to this user; the store's head now covers its change.
            acknowledged = store.recorder.max_notification_id()
            note = client.get("/v1/ledger/checkpoint", headers=headers)
            assert note.status_code == 200, note.text
            size = open_checkpoint(note.text, key).size
            proof = client.get(
                "/v1/ledger/proof/inclusion",
                params={"position": acknowledged, "treeSize": size},
                headers=headers,
            )
            if proof.status_code != 200:
                misses.append((round_, acknowledged, size, proof.text))
                continue
            body = proof.json()
            verify_inclusion(
                body["index"],
                size,
                base64.b64decode(body["leafHash"]),
                [base64.b64decode(h) for h in body["hashes"]],
                open_checkpoint(note.text, key).root,
            )
    assert misses == []


def test_every_read_after_a_change_shows_it_while_the_worker_projects(stack, client):
    account = new_org_user(client)
    headers = admin_headers(client)
    with _Running(stack):
        for round_ in range(ROUNDS // 2):
            reply = client.post(
                f"/v1/users/{account['user_id']}/password",
                json={"newPassword": f"Reread-{round_}-{uuid.uuid4().hex[:12]}"},
                headers=headers,
            )
            assert reply.status_code == 200, reply.text
            sequence = reply.json()["details"]["sequence"]
            shown = client.get(f"/v1/users/{account['user_id']}", headers=headers)
            assert shown.status_code == 200, shown.text
            assert int(shown.json()["details"]["sequence"]) >= int(sequence)
