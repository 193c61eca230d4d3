"""Admission control: when hashing is saturated a request is refused at once, in its dialect
(native 503 `overloaded`, every vendor its rate-limited answer, all with `Retry-After`),
instead of queueing; admitted commands finish ahead of newcomers."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from typing import Any

import pytest

from domain.errors import Overloaded
from service.admission import HashingQueue
from tests.api_helpers import GOOD_PASSWORD, bearer, new_account

NEW = "Overload-fresh-pw-5521"

# --- the queue ---


def _hold(queue: HashingQueue, continuing: bool, release: threading.Event, log: list[str],
          name: str) -> threading.Thread:  # fmt: skip
    def run() -> None:
        with queue.slot(continuing):
            log.append(name)
            release.wait(5)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _until(condition: Any) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_an_admitted_commands_next_hash_goes_ahead_of_newcomers():
    queue = HashingQueue(slots=1, max_wait=0)
    log: list[str] = []
    first, rest = threading.Event(), threading.Event()
    holder = _hold(queue, False, first, log, "holder")
    _until(lambda: log == ["holder"])
    newcomer = _hold(queue, False, rest, log, "newcomer")
    _until(lambda: len(queue._new) == 1)
    continuation = _hold(queue, True, rest, log, "continuation")
    _until(lambda: len(queue._continuing) == 1)
    first.set()
    rest.set()
    for thread in (holder, newcomer, continuation):
        thread.join(5)
    assert log == ["holder", "continuation", "newcomer"]


def test_a_newcomer_is_refused_at_once_when_the_predicted_wait_exceeds_the_bound():
    queue = HashingQueue(slots=1, max_wait=5)
    queue.seconds_per_hash = 100.0  # as measured on a badly overloaded machine
    release = threading.Event()
    holder = _hold(queue, False, release, [], "holder")
    _until(lambda: queue._free == 0)
    started = time.monotonic()
    with pytest.raises(Overloaded) as refused:
        with queue.slot(False):
            pass
    assert time.monotonic() - started < 2  # not after waiting the 5 s bound
    assert refused.value.retry_after_seconds >= 5
    release.set()
    holder.join(5)


def test_a_newcomer_that_waited_the_whole_bound_is_refused_and_continuations_are_not():
    queue = HashingQueue(slots=1, max_wait=0.2)  # no measurement yet: predicts no wait
    release = threading.Event()
    holder = _hold(queue, False, release, [], "holder")
    _until(lambda: queue._free == 0)
    with pytest.raises(Overloaded):
        with queue.slot(False):
            pass
    log: list[str] = []
    continuation = _hold(queue, True, threading.Event(), log, "continuation")
    time.sleep(0.4)  # twice the bound: a continuation keeps waiting
    assert log == [] and len(queue._continuing) == 1
    release.set()
    holder.join(5)
    _until(lambda: log == ["continuation"])
    continuation.join(1)


def test_requests_admitted_at_the_door_count_before_they_reach_the_queue():
    # 64 clients over 40 worker threads: most admitted requests wait for a thread, not in the
    # queue, and the wait they add must still be seen.
    queue = HashingQueue(slots=2, max_wait=1.0)
    queue.seconds_per_hash = 0.1  # a command: two hashes, so 0.1 s of a slot per command
    with ExitStack() as admitted:
        for _ in range(12):  # 10 beyond the slots: about 1 s of hashing ahead
            admitted.enter_context(queue.admitted())
        assert queue.predicted_wait() > 1.0 and not queue._new
        with pytest.raises(Overloaded):
            admitted.enter_context(queue.admitted())
        with pytest.raises(Overloaded):
            queue.refuse_if_saturated()
    assert queue.predicted_wait() == 0.0  # all answered: nothing ahead
    with queue.admitted(), queue.slot(False):
        pass


def test_a_free_slot_admits_whatever_the_measured_cost():
    queue = HashingQueue(slots=2, max_wait=0.01)
    queue.seconds_per_hash = 100.0
    with queue.slot(False), queue.slot(False):
        pass


# --- the answer, in every dialect ---


@pytest.fixture
def saturated(stack, client):
    """A service over the same store whose only hashing slot is taken and whose hashes are
    measured at 100 s: every password-verifying request is refused before hashing."""
    account = new_account(client)
    service = stack.another_service(hash_concurrency=1, hash_max_wait=5)
    with stack.client(service=service) as busy:
        queue = service.hasher.queue
        queue.seconds_per_hash = 100.0
        with queue.slot(False):
            yield busy, account


def _timed(send: Any) -> Any:
    started = time.monotonic()
    reply = send()
    assert time.monotonic() - started < 2, "refused after waiting, not at once"
    assert int(reply.headers["Retry-After"]) >= 5
    return reply


def test_native_answers_503_overloaded(saturated):
    busy, account = saturated
    reply = _timed(
        lambda: busy.post(
            "/v1/sessions", json={"loginName": account["login_name"], "password": GOOD_PASSWORD}
        )
    )
    assert reply.status_code == 503
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["code"] == "overloaded"


def test_lifepos_answers_its_429_too_many_requests(saturated):
    busy, a = saturated
    reply = _timed(
        lambda: busy.post(
            f"/orgs/{a['org_id']}/me/set-credentials",
            json={"old_password": GOOD_PASSWORD, "new_password": NEW},
            headers={
                **bearer(a["token"]),
                "X-LP-Client-Identifier": "t",
                "X-LP-Client-Type": "App",
            },
        )  # fmt: skip
    )
    assert reply.status_code == 429 and reply.json()["code"] == "TooManyRequests"


def test_assure_answers_its_429(saturated):
    busy, a = saturated
    body = {"Username": a["login_name"], "OldPassword": GOOD_PASSWORD, "NewPassword": NEW,
            "RepeatNewPassword": NEW}  # fmt: skip
    reply = _timed(lambda: busy.post("/api/core/ChangePassword/executeChangePassword", json=body))
    assert reply.status_code == 429 and reply.json()["success"] is False


def test_kendox_answers_its_429_10168(saturated, client):
    busy, a = saturated
    grant = client.post(
        f"/v1/users/{a['user_id']}/password-reset", json={"delivery": "return"}, headers=a["admin"]
    ).json()
    body = {"tenantName": a["alias"], "newPassword": NEW, "token": grant["token"]}
    reply = _timed(
        lambda: busy.post("/InfoShare/Json/Authentication/SetPasswordWithToken", json=body)
    )
    assert reply.status_code == 429 and reply.json()["errorCode"] == 10168


def test_horizon_answers_its_429(saturated):
    busy, a = saturated
    headers = {"X-API-ID": a["login_name"], "X-API-KEY": GOOD_PASSWORD}
    body = {"password": NEW, "previousPassword": GOOD_PASSWORD}
    reply = _timed(
        lambda: busy.post("/api/v1/security/identity/local/password", json=body, headers=headers)
    )
    assert reply.status_code == 429 and reply.json()["error"] == "SEC-RATE-001"


def test_zitadel_answers_rate_1_on_rest_and_connect(saturated):
    busy, a = saturated
    body = {"newPassword": {"password": NEW}, "currentPassword": GOOD_PASSWORD}
    rest = _timed(
        lambda: busy.post(
            f"/v2/users/{a['user_id']}/password", json=body, headers=bearer(a["token"])
        )
    )
    assert rest.status_code == 429 and rest.json()["details"][0]["id"] == "RATE-1"
    connect = _timed(
        lambda: busy.post(
            "/zitadel.user.v2.UserService/SetPassword",
            json={"userId": a["user_id"], **body},
            headers=bearer(a["token"]),
        )
    )
    assert connect.status_code == 429 and connect.json()["code"] == "resource_exhausted"
