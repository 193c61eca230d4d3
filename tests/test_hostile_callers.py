"""Anonymous callers cannot take over, enumerate, cancel or out-count (CONTRACTS §14).

Each finding of the probe is reproduced here through the real app on both stores: reset-link
poisoning, invitations that revealed and cancelled, and look-alike spellings that reached one
account through many rate-limit counters.
"""

from __future__ import annotations

import itertools
import json
import uuid

import pytest
from fastapi.testclient import TestClient

from service.outbox import FileOutbox
from tests.api_helpers import (
    ADMIN_PASSWORD,
    admin_headers,
    bearer,
    login,
    new_org,
    new_user,
    unique,
)

INVITE = "/InfoShare/Json/Authentication/SendPasswordResetInvitation"
SET_WITH_TOKEN = "/InfoShare/Json/Authentication/SetPasswordWithToken"
GOOD_PREFIX = "https://good.example/reset/"
NEW = "green-Forest-99-tide"


@pytest.fixture
def mails(stack, monkeypatch, tmp_path):
    """Every mail the service sends, read back from a file outbox."""
    path = tmp_path / "mails.jsonl"
    stack.service.background.wait_idle()  # an earlier test's queued mail goes to its outbox
    monkeypatch.setattr(stack.service, "outbox", FileOutbox(path))

    def read() -> list[dict]:
        stack.service.background.wait_idle()
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    return read


def _org_with_user(client, prefixes=(GOOD_PREFIX,), **user):
    headers = admin_headers(client)
    policy = {"resetUrlPrefixes": list(prefixes)} if prefixes is not None else None
    org_id, alias = new_org(client, headers, policy)
    user.setdefault("email", f"{unique('m')}@example.org")
    user_id, username = new_user(client, headers, org_id, **user)
    return {"admin": headers, "org_id": org_id, "alias": alias, "user_id": user_id,
            "username": username, "login": f"{username}@{alias}"}  # fmt: skip


def _invite(client, account, target=GOOD_PREFIX + "?t=%LoginToken%", user=None):
    body = {"tenantName": account["alias"], "user": user or account["username"],
            "targetURL": target}  # fmt: skip
    return client.post(INVITE, json=body)


def _history_types(client, account) -> list[str]:
    reply = client.get(f"/v1/users/{account['user_id']}/history", headers=account["admin"])
    return [event["type"] for event in reply.json()["events"]]


# --- 1. reset-link poisoning ---


def test_an_invitation_to_a_foreign_host_is_refused_and_nothing_is_mailed_or_issued(client, mails):
    account = _org_with_user(client)
    reply = _invite(client, account, target="https://evil.example/steal?t=%LoginToken%")
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == 10169
    assert "targetURL" in reply.json()["message"]
    assert mails() == []
    assert "user.password.reset.requested" not in _history_types(client, account)


@pytest.mark.parametrize(
    "target",
    [
        "https://good.example.evil.example/reset/?t=%LoginToken%",  # a string prefix, not a host
        "https://good.example@evil.example/reset/?t=%LoginToken%",  # credentials before a host
        "https://good.example:8443/reset/?t=%LoginToken%",  # another port
        "http://good.example/reset/?t=%LoginToken%",  # another scheme
        "https://good.example/resetter?t=%LoginToken%",  # a path that only starts alike
        "https://good.example/reset/../admin?t=%LoginToken%",  # leaves the prefix's path
        "https://good.example/reset/%2e%2e/admin?t=%LoginToken%",  # the same, encoded
        "https://good.example\\@evil.example/reset/",  # a backslash browsers read as '/'
        "javascript:alert(1)//good.example/reset/",
        "//evil.example/reset/",
    ],
)
def test_links_are_compared_as_parsed_urls_not_as_strings(client, mails, target):
    account = _org_with_user(client)
    assert _invite(client, account, target=target).status_code == 400
    assert mails() == []


def test_an_allowed_link_is_mailed_with_a_token_that_sets_the_password(client, mails):
    account = _org_with_user(client)
    reply = _invite(client, account, target="https://GOOD.example:443/reset/x?t=%LoginToken%")
    assert (reply.status_code, reply.json()) == (200, {})
    [mail] = mails()
    assert mail["body"].startswith("https://GOOD.example:443/reset/x?t=")
    token = mail["body"].strip().split("?t=")[1]
    body = {"tenantName": account["alias"], "newPassword": NEW, "token": token}
    assert client.post(SET_WITH_TOKEN, json=body).status_code == 200
    login(client, account["login"], NEW)


def test_without_a_configured_prefix_only_this_servers_pages_are_allowed(stack, client, mails):
    account = _org_with_user(client, prefixes=None)
    public = stack.settings.public_url
    assert _invite(client, account, target=GOOD_PREFIX + "?t=%LoginToken%").status_code == 400
    assert _invite(client, account, target=f"{public}/reset?t=%LoginToken%").status_code == 400
    assert _invite(client, account, target=f"{public}/ui/reset?t=%LoginToken%").status_code == 200
    assert len(mails()) == 1


def test_zitadel_link_templates_obey_the_same_prefixes(client, mails):
    account = _org_with_user(client)
    url = f"/v2/users/{account['user_id']}/password_reset"
    evil = {"sendLink": {"urlTemplate": "https://evil.example/{{.UserID}}?c={{.Code}}"}}
    refused = client.post(url, json=evil, headers=account["admin"])
    assert refused.status_code == 400
    assert refused.json()["details"][0]["id"] == "VALIDATION-1"
    assert mails() == []
    good = {"sendLink": {"urlTemplate": GOOD_PREFIX + "{{.UserID}}?c={{.Code}}"}}
    assert client.post(url, json=good, headers=account["admin"]).status_code == 200
    assert GOOD_PREFIX + account["user_id"] in mails()[0]["body"]


@pytest.mark.parametrize(
    "prefixes",
    [["evil"], ["ftp://good.example/"], ["https://good.example/?q=1"], ["https://u@good.example/"],
     ["https://good.example/a/../b/"], "https://good.example/", [1]],
)  # fmt: skip
def test_a_policy_with_an_unusable_prefix_is_refused(client, prefixes):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    reply = client.put(
        f"/v1/orgs/{org_id}/password-policy", json={"resetUrlPrefixes": prefixes}, headers=headers
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["code"] == "invalid_request"


def test_the_policy_shows_and_keeps_its_prefixes(client):
    headers = admin_headers(client)
    org_id, _ = new_org(client, headers)
    assert (
        client.get(f"/v1/orgs/{org_id}", headers=headers).json()["passwordPolicy"][
            "resetUrlPrefixes"
        ]
        is None
    )  # the default: this server's /ui/
    body = {"resetUrlPrefixes": [GOOD_PREFIX]}
    assert client.put(f"/v1/orgs/{org_id}/password-policy", json=body, headers=headers).is_success
    policy = client.get(f"/v1/orgs/{org_id}", headers=headers).json()["passwordPolicy"]
    assert policy["resetUrlPrefixes"] == [GOOD_PREFIX]


# --- 2. anonymous invitations reveal nothing and cancel nothing ---


def test_an_anonymous_invitation_never_replaces_an_admins_reset(client, mails):
    account = _org_with_user(client)
    issued = client.post(
        f"/v1/users/{account['user_id']}/password-reset",
        json={"delivery": "return"},
        headers=account["admin"],
    ).json()
    assert _invite(client, account).json() == {}
    assert mails() == []  # nothing mailed while the admin's reset is pending
    redeemed = client.post(
        f"/v1/users/{account['user_id']}/password",
        json={"newPassword": NEW, "verificationCode": issued["code"]},
    )
    assert redeemed.status_code == 200, redeemed.text


def test_at_most_one_mail_while_a_reset_is_pending(client, mails):
    account = _org_with_user(client)
    for _ in range(3):
        assert _invite(client, account).json() == {}
    assert len(mails()) == 1
    requested = _history_types(client, account).count("user.password.reset.requested")
    assert requested == 1


def test_unknown_users_and_tenants_get_the_same_answer_and_no_mail(client, mails):
    account = _org_with_user(client)
    real = _invite(client, account)
    unknown_user = _invite(client, account, user=unique("nobody"))
    unknown_tenant = client.post(
        INVITE, json={"tenantName": unique("t"), "user": "x", "targetURL": "https://a/"}
    )
    for reply in (real, unknown_user, unknown_tenant):
        assert (reply.status_code, reply.content, reply.headers.get("content-type")) == (
            real.status_code, real.content, real.headers.get("content-type"),
        )  # fmt: skip
    assert len(mails()) == 1


def test_invitations_are_limited_per_address_and_per_account(stack):
    app = stack.client(rate_limit=3).app
    account = _org_with_user(TestClient(app))  # set up from an address of its own
    one, other = (TestClient(app, client=(f"198.51.100.{n}", 4000)) for n in (1, 2))
    for _ in range(3):
        assert _invite(one, account).status_code == 200
    limited = _invite(one, account, user=unique("nobody"))  # the address is spent
    assert limited.status_code == 429 and limited.json()["errorCode"] == 10168
    assert "Retry-After" in limited.headers
    # Another address, the same account in another spelling: the account is spent too.
    respelled = _invite(other, {**account, "alias": account["alias"].upper()})
    assert respelled.status_code == 429
    assert _invite(other, account, user=unique("nobody")).status_code == 200


def test_native_reset_requests_answer_202_alike_and_mail_a_link_to_the_reset_page(
    stack, client, mails
):
    account = _org_with_user(client, prefixes=None)
    real = client.post("/v1/password-reset-requests", json={"loginName": account["login"]})
    unknown = client.post(
        "/v1/password-reset-requests", json={"loginName": f"{unique('no')}@{account['alias']}"}
    )
    assert (real.status_code, real.json()) == (unknown.status_code, unknown.json()) == (202, {})
    [mail] = mails()
    prefix = f"{stack.settings.public_url}/ui/reset?token="
    assert mail["body"].startswith(prefix)
    token = mail["body"].strip().removeprefix(prefix)
    redeemed = client.post(
        f"/v1/users/{account['user_id']}/password", json={"newPassword": NEW, "resetToken": token}
    )
    assert redeemed.status_code == 200, redeemed.text
    bad = client.post("/v1/password-reset-requests", json={"loginName": 5})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_request"


# --- 3. one account, one counter ---


_ADDRESSES = itertools.count(1)


def _spent_after(app, attempts) -> list[int]:
    """Statuses of `attempts` (callables taking a client), each from an address of its own,
    so only the account's counter can refuse."""
    statuses = []
    for attempt in attempts:
        n = next(_ADDRESSES)
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        statuses.append(attempt(TestClient(app, client=(address, 4000))).status_code)
    return statuses


def test_look_alike_login_names_share_one_counter(stack):
    app = stack.client(rate_limit=3).app
    account = _org_with_user(TestClient(app))
    name, alias = account["username"], account["alias"]
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    spellings = [f"{name}@{alias}", f"{name.upper()}@{alias.upper()}", f"{fullwidth}@{alias}",
                 f"{name.title()}@{alias}"]  # fmt: skip

    def attempt(spelling):
        body = {"loginName": spelling, "password": "not-the-password-1"}
        return lambda c: c.post("/v1/sessions", json=body)

    assert _spent_after(app, [attempt(s) for s in spellings]) == [401, 401, 401, 429]


def test_a_bare_username_and_its_default_org_login_share_one_counter(stack):
    app = stack.client(rate_limit=2).app
    admin = TestClient(app)
    me = login(admin, "admin", ADMIN_PASSWORD)
    headers = bearer(me["token"])
    default_alias = admin.get(f"/v1/orgs/{me['orgId']}", headers=headers).json()["alias"]
    _, username = new_user(admin, headers, me["orgId"])

    def attempt(spelling):
        body = {"loginName": spelling, "password": "not-the-password-1"}
        return lambda c: c.post("/v1/sessions", json=body)

    statuses = _spent_after(app, [attempt(username), attempt(f"{username}@{default_alias}"),
                                  attempt(username.upper())])  # fmt: skip
    assert statuses == [401, 401, 429]


def test_every_spelling_of_a_user_id_shares_one_counter_on_zitadel_paths(stack):
    app = stack.client(rate_limit=4).app
    account = _org_with_user(TestClient(app))
    plain = uuid.UUID(account["user_id"])
    spellings = [str(plain), plain.hex, "{" + str(plain) + "}", f"urn:uuid:{plain}",
                 str(plain).upper()]  # fmt: skip

    def attempt(spelling):
        body = {"newPassword": {"password": NEW}, "verificationCode": "WRONG1"}
        return lambda c: c.post(f"/v2/users/{spelling}/password", json=body)

    statuses = _spent_after(app, [attempt(s) for s in spellings])
    assert statuses[:4] == [400] * 4 and statuses[4] == 429


def test_connect_and_native_paths_count_against_the_same_account(stack):
    app = stack.client(rate_limit=2).app
    account = _org_with_user(TestClient(app))
    user_id = account["user_id"]
    wrong_code = {"newPassword": NEW, "verificationCode": "WRONG1"}

    def native(c):
        return c.post(f"/v1/users/{user_id}/password", json=wrong_code)

    def connect(c):
        body = {"userId": uuid.UUID(user_id).hex, "newPassword": {"password": NEW},
                "verificationCode": "WRONG1"}  # fmt: skip
        return c.post("/zitadel.user.v2.UserService/SetPassword", json=body)

    def by_login(c):
        body = {"loginName": account["login"], "password": "not-the-password-1"}
        return c.post("/v1/sessions", json=body)

    assert _spent_after(app, [native, connect, by_login]) == [400, 400, 429]


def test_the_account_counter_does_not_tell_real_users_from_unknown_ones(stack):
    app = stack.client(rate_limit=2).app
    account = _org_with_user(TestClient(app))
    unknown = f"{unique('ghost')}@{account['alias']}"

    def attempt(spelling):
        body = {"loginName": spelling, "password": "not-the-password-1"}
        return lambda c: c.post("/v1/sessions", json=body)

    real = _spent_after(app, [attempt(account["login"])] * 3)
    ghost = _spent_after(app, [attempt(unknown), attempt(unknown.upper()), attempt(unknown)])
    assert real == ghost == [401, 401, 429]


def test_kendox_redemptions_count_against_the_genuine_tokens_user_only(stack, mails):
    app = stack.client(rate_limit=3).app
    setup = TestClient(app)
    account = _org_with_user(setup)
    _invite(setup, account)  # the account's first count
    token = mails()[0]["body"].strip().split("?t=")[1]

    def redeem(with_token, password="short"):
        body = {"tenantName": account["alias"], "newPassword": password, "token": with_token}
        return lambda c: c.post(SET_WITH_TOKEN, json=body)

    # Forged tokens name no account: no tenant-wide or victim's counter fills up.
    assert _spent_after(app, [redeem("forged." + str(n)) for n in range(4)]) == [400] * 4
    assert _spent_after(app, [redeem(token)] * 3) == [400, 400, 429]
