"""ZITADEL's official Python SDK, unchanged, against a live credledger server (Connect paths)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn
from zitadel_client import Zitadel
from zitadel_client.exceptions import ApiError
from zitadel_client.models.user_service_get_user_by_id_request import (
    UserServiceGetUserByIDRequest,
)
from zitadel_client.models.user_service_password import UserServicePassword
from zitadel_client.models.user_service_password_reset_request import (
    UserServicePasswordResetRequest,
)
from zitadel_client.models.user_service_set_password_request import UserServiceSetPasswordRequest
from zitadel_client.models.user_service_unlock_user_request import UserServiceUnlockUserRequest

from api.app import create_app
from api.ratelimit import RateLimiter
from tests.api_helpers import GOOD_PASSWORD, login, new_account

NEW = "sdk-Chosen-55-river"


@pytest.fixture
def server(stack):
    """A real uvicorn on a loopback port, serving this stack."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(stack.service, stack.runtime.reads, RateLimiter(0))
    live = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    for _ in range(200):
        if live.started:
            break
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    live.should_exit = True
    thread.join(10)


def test_official_sdk_sets_a_password_reads_the_user_resets_and_unlocks(server, client):
    account = new_account(client)
    as_user = Zitadel.with_access_token(server, account["token"])
    reply = as_user.users.set_password(
        UserServiceSetPasswordRequest(
            user_id=account["user_id"],
            new_password=UserServicePassword(password=NEW, change_required=False),
            current_password=GOOD_PASSWORD,
        )
    )
    assert reply.details.resource_owner == account["org_id"]
    assert int(reply.details.sequence) > 0 and reply.details.change_date is not None
    login(client, account["login_name"], NEW)

    admin_token = account["admin"]["Authorization"].split()[1]
    as_admin = Zitadel.with_access_token(server, admin_token)
    user = as_admin.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=account["user_id"]))
    assert user.user.user_id == account["user_id"]
    assert user.user.login_names == [account["login_name"]]
    assert user.details.sequence == reply.details.sequence

    reset = as_admin.users.password_reset(
        UserServicePasswordResetRequest(user_id=account["user_id"], return_code={})
    )
    assert len(reset.verification_code) == 6
    unlocked = as_admin.users.unlock_user(UserServiceUnlockUserRequest(user_id=account["user_id"]))
    assert unlocked.details.resource_owner == account["org_id"]


def test_official_sdk_surfaces_our_errors_as_its_exceptions(server, client):
    account = new_account(client)
    as_user = Zitadel.with_access_token(server, account["token"])
    with pytest.raises(ApiError) as raised:
        as_user.users.set_password(
            UserServiceSetPasswordRequest(
                user_id=account["user_id"],
                new_password=UserServicePassword(password=NEW),
                current_password="wrong-current-1",
            )
        )
    assert raised.value.code == 400
    assert "COMMAND-3M0fs" in str(raised.value.response_body)
