"""What a hostile HTTP client finds (a security probe's findings, pinned).

Forged client addresses: `X-Forwarded-For` names the client only when the TCP peer is a
trusted proxy (`CREDLEDGER_TRUSTED_PROXIES`), for the audit trail and the per-address rate
limit alike. Headers: nosniff on every answer, no-store on every API answer, a hash-based CSP
on the documentation pages, no server banner. Slow headers: a connection that has not sent a
request's headers within `CREDLEDGER_REQUEST_TIMEOUT` is closed, however it trickles.

The live tests run `credledger serve` (SQLite) as a subprocess; the header rules run through
TestClient; the proxy resolution has unit tests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api import assure, horizon, kendox, lifepos, zitadel, zitadel_connect
from api.app import NATIVE
from api.proxies import ForwardedClient, ProxyResolver, parse_trusted_proxies
from credledger.settings import Settings
from tests.api_helpers import GOOD_PASSWORD, bearer, login, new_account, new_org_user, unique
from tests.conftest import ADMIN_PASSWORD, Stack
from tests.test_cli import CLI, _env, _free_port

FORGED = "203.0.113.9"
HEADER_TIMEOUT = 1.0  # CREDLEDGER_REQUEST_TIMEOUT of the plain server
TRICKLE_GAP = 0.2  # well under the timeout: a timer reset by data would never fire
RATE_LIMIT = 5
DIALECTS = [NATIVE] + [m.DIALECT for m in (lifepos, assure, kendox, horizon, zitadel)]
DIALECTS.append(zitadel_connect.DIALECT)


# --- live servers ---


@dataclass
class Server:
    base: str
    port: int
    log: Path

    def client(self, source: str = "127.0.0.1") -> httpx.Client:
        """A client whose connections come from `source` (any 127.x address is this host)."""
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=self.base, transport=transport, timeout=10)


@contextmanager
def _serving(folder: Path, **settings: str) -> Iterator[Server]:
    port = _free_port()
    log = folder / "serve.log"
    env = _env(
        CREDLEDGER_DATABASE_URL=f"sqlite:///{folder}/data/store.db",
        CREDLEDGER_ADMIN_PASSWORD=ADMIN_PASSWORD,
        CREDLEDGER_RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT),
        **settings,
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
            cwd=folder, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", port, log)
    try:
        _wait_healthy(server, process)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _wait_healthy(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"credledger serve exited early:\n{server.log.read_text()}")
        try:
            if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no /healthz within 30 s:\n{server.log.read_text()}")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Defaults, but a one-second header deadline."""
    folder = tmp_path_factory.mktemp("plain")
    with _serving(folder, CREDLEDGER_REQUEST_TIMEOUT=str(HEADER_TIMEOUT)) as server:
        yield server


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """127.0.0.1 is our reverse proxy; other loopback addresses are plain clients."""
    folder = tmp_path_factory.mktemp("proxied")
    with _serving(folder, CREDLEDGER_TRUSTED_PROXIES="127.0.0.1/32") as server:
        yield server


def _history(client: httpx.Client, headers: dict[str, str], user_id: str) -> list[dict[str, Any]]:
    """The user's history once the failed login below reached it (projected in background)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        reply = client.get(f"/v1/users/{user_id}/history", headers=headers)
        assert reply.status_code == 200, reply.text
        events = reply.json()["events"]
        if any(e["type"] == "user.password.check.failed" for e in events):
            return events
        time.sleep(0.1)
    raise AssertionError("the failed login never reached the history")


def _user_with_a_failed_login(client: httpx.Client, forwarded_for: str) -> list[dict[str, Any]]:
    """Registers a user, fails a login as them, all with `forwarded_for`; their history."""
    xff = {"X-Forwarded-For": forwarded_for}
    account = new_org_user(_AsHeaders(client, xff))
    reply = client.post(
        "/v1/sessions", json={"loginName": account["login_name"], "password": "Wrong-pw-1"},
        headers=xff,
    )  # fmt: skip
    assert reply.status_code == 401, reply.text
    return _history(client, account["admin"], account["user_id"])


class _AsHeaders:
    """The test helpers' client interface, with `headers` added to every request."""

    def __init__(self, client: httpx.Client, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), **self.headers}
        return self.client.post(url, **kwargs, headers=headers)


def _wrong_logins(client: httpx.Client, count: int, forwarded_for: str | None) -> list[int]:
    """`count` failed logins, each for another (unknown) account: only the address repeats."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    body = {"password": "Wrong-pw-1"}
    return [
        client.post(
            "/v1/sessions", json={**body, "loginName": unique("nobody")}, headers=headers
        ).status_code
        for _ in range(count)
    ]


def test_by_default_the_history_records_the_peer_never_a_forged_forwarded_for(plain):
    with plain.client() as client:
        events = _user_with_a_failed_login(client, FORGED)
    assert {e["client"]["remoteAddress"] for e in events} == {"127.0.0.1"}
    assert FORGED not in json.dumps(events)


def test_by_default_forged_forwarded_for_does_not_escape_the_address_limit(tmp_path):
    """From 127.0.0.1, where uvicorn's own defaults believed any X-Forwarded-For."""
    with _serving(tmp_path) as server, server.client() as client:
        statuses = [
            _wrong_logins(client, 1, f"203.0.113.{100 + i}")[0] for i in range(RATE_LIMIT + 1)
        ]
    assert statuses == [401] * RATE_LIMIT + [429]


def test_behind_a_trusted_proxy_the_history_records_the_forwarded_client(behind_proxy):
    # The client forged an entry; our proxy (127.0.0.1) appended the address it saw.
    with behind_proxy.client() as client:
        events = _user_with_a_failed_login(client, f"{FORGED}, 198.51.100.1")
    (failed,) = [e for e in events if e["type"] == "user.password.check.failed"]
    assert failed["client"]["remoteAddress"] == "198.51.100.1"
    assert {e["client"]["remoteAddress"] for e in events} == {"198.51.100.1"}
    assert FORGED not in json.dumps(events)


def test_behind_a_trusted_proxy_the_address_limit_counts_each_forwarded_client(behind_proxy):
    with behind_proxy.client() as client:
        assert _wrong_logins(client, RATE_LIMIT + 1, "203.0.113.20") == [401] * RATE_LIMIT + [429]
        # Another client behind the same proxy has its own count.
        assert _wrong_logins(client, 1, "203.0.113.21") == [401]


def test_a_peer_outside_the_trusted_networks_is_counted_as_itself(behind_proxy):
    with behind_proxy.client("127.0.0.2") as client:
        statuses = [
            _wrong_logins(client, 1, f"203.0.113.{30 + i}")[0] for i in range(RATE_LIMIT + 1)
        ]
    assert statuses == [401] * RATE_LIMIT + [429]


@pytest.mark.parametrize(
    "value",
    ["10.0.0.0/8, not-a-network", "10.0.0.1/8", "300.1.2.3/32", "2001:db8::/200"],
)
def test_serve_refuses_an_invalid_trusted_proxies_setting_naming_it(tmp_path, value):
    env = _env(
        CREDLEDGER_DATABASE_URL=f"sqlite:///{tmp_path}/x.db", CREDLEDGER_TRUSTED_PROXIES=value
    )
    refused = subprocess.run(
        [str(CLI), "serve", "--port", str(_free_port())], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "CREDLEDGER_TRUSTED_PROXIES" in refused.stderr
    bad = value.rpartition(", ")[2]
    assert repr(bad) in refused.stderr
    assert "Uvicorn running" not in refused.stdout + refused.stderr


def test_the_live_server_sends_no_banner_and_the_security_headers(plain):
    reply = httpx.get(f"{plain.base}/healthz", timeout=10)
    assert reply.status_code == 200
    assert "server" not in reply.headers
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["cache-control"] == "no-store"


# --- slow headers ---


@contextmanager
def _connection(server: Server) -> Iterator[socket.socket]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        yield sock


def _until_closed(sock: socket.socket, trickle: bytes, limit: float) -> tuple[float, bytes]:
    """Sends `trickle` a byte every TRICKLE_GAP (all of it, then more of the last header);
    returns the seconds until the server closed the connection, and what it answered."""
    started, answer, sent = time.monotonic(), b"", 0
    sock.settimeout(TRICKLE_GAP)
    while time.monotonic() - started < limit:
        try:
            if not answer:  # once answered, only wait for the close
                sock.sendall(trickle[sent : sent + 1] or b"a")
                sent += 1
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            chunk = b""
        if not chunk:
            return time.monotonic() - started, answer
        answer += chunk
    raise AssertionError(f"still open after {limit} s; answered {answer!r}")


def _read_answer(sock: socket.socket) -> bytes:
    """One complete answer with a Content-Length body."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head


SLOW_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def test_headers_trickled_a_byte_at_a_time_are_cut_off_at_the_timeout(plain):
    with _connection(plain) as sock:
        elapsed, answer = _until_closed(sock, SLOW_REQUEST, limit=HEADER_TIMEOUT + 5)
    assert HEADER_TIMEOUT - 0.2 <= elapsed <= HEADER_TIMEOUT + 1.5
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"x-content-type-options: nosniff" in answer.lower()
    assert "Request headers not complete in 1s: closing" in plain.log.read_text()


def test_a_keep_alive_connection_trickling_its_next_request_is_cut_off(plain):
    with _connection(plain) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _read_answer(sock).startswith(b"HTTP/1.1 200 ")
        elapsed, answer = _until_closed(sock, SLOW_REQUEST, limit=HEADER_TIMEOUT + 5)
    assert elapsed <= HEADER_TIMEOUT + 1.5
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_connection_that_never_sends_anything_is_closed_quietly(plain):
    with _connection(plain) as sock:
        started = time.monotonic()
        sock.settimeout(HEADER_TIMEOUT + 5)
        assert sock.recv(4096) == b""
    assert time.monotonic() - started <= HEADER_TIMEOUT + 1.5


def test_a_keep_alive_connection_in_steady_use_outlives_the_timeout(plain):
    with plain.client() as client:
        started = time.monotonic()
        while time.monotonic() - started < HEADER_TIMEOUT * 2:
            assert client.get("/healthz").status_code == 200
            time.sleep(HEADER_TIMEOUT / 3)
        again = client.get("/healthz").status_code
    assert again == 200
    assert httpx.get(f"{plain.base}/healthz", timeout=10).status_code == 200


def test_the_servers_own_answer_to_a_malformed_request_carries_nosniff(plain):
    with _connection(plain) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        head = _read_answer(sock)
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"x-content-type-options: nosniff" in head.lower()


def test_request_timeout_must_be_positive():
    with pytest.raises(ValidationError, match="request_timeout"):
        Settings(request_timeout=0)


# --- header rules, through the app ---


@pytest.fixture(scope="module")
def app(sqlite_stack: Stack) -> FastAPI:
    app = sqlite_stack.client().app
    assert isinstance(app, FastAPI)

    @app.get("/v1/test-boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("an unexpected failure")

    @app.get("/v1/test-cached", include_in_schema=False)
    async def cached() -> JSONResponse:
        return JSONResponse({}, headers={"Cache-Control": "public, max-age=60"})

    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_each_dialects_404_carries_nosniff_and_no_store(client, dialect):
    reply = client.get(f"{dialect.prefixes[0].rstrip('/')}/no-such-thing-{uuid.uuid4().hex}")
    assert reply.status_code == 404
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("DELETE", "/healthz", None, 405),
        ("POST", "/v1/sessions", b"x" * (128 * 1024), 413),  # api.limits refuses it
        ("GET", "/v1/test-boom", None, 500),  # the 500 handler answers outside middleware
        ("GET", "/no-such-prefix", None, 404),
    ],
)
def test_error_answers_from_every_layer_carry_the_headers(client, method, path, body, status):
    reply = client.request(method, path, content=body)
    assert reply.status_code == status
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["cache-control"] == "no-store"


def _token_answers(client: TestClient) -> Iterator[tuple[str, httpx.Response]]:
    account = new_account(client)
    user, admin = account["user_id"], account["admin"]
    yield (
        "session",
        client.post(
            "/v1/sessions", json={"loginName": account["login_name"], "password": GOOD_PASSWORD}
        ),
    )
    yield (
        "native reset",
        client.post(f"/v1/users/{user}/password-reset", json={"delivery": "return"}, headers=admin),
    )
    yield (
        "zitadel reset",
        client.post(f"/v2/users/{user}/password_reset", json={"returnCode": {}}, headers=admin),
    )
    yield (
        "connect reset",
        client.post(
            f"{zitadel_connect.SERVICE}/PasswordReset",
            json={"userId": user, "returnCode": {}},
            headers=admin,
        ),
    )
    token = login(client, account["login_name"], GOOD_PASSWORD)["token"]
    yield (
        "lifepos credentials",
        client.post(
            f"/orgs/{account['org_id']}/me/set-credentials",
            json={"old_password": GOOD_PASSWORD, "new_password": "sunny-Meadow-77-tide"},
            headers={
                **bearer(token),
                "X-LP-Client-Identifier": "till-7",
                "X-LP-Client-Type": "App",
            },
        ),
    )


def test_answers_carrying_a_token_code_or_secret_are_never_stored(client):
    seen = []
    for name, reply in _token_answers(client):
        assert reply.status_code in (200, 201), (name, reply.text)
        assert reply.headers["cache-control"] == "no-store", name
        assert reply.headers["x-content-type-options"] == "nosniff", name
        seen.append(name)
    assert len(seen) == 5


def test_an_answer_choosing_its_own_caching_and_the_static_assets_keep_it(client):
    assert client.get("/v1/test-cached").headers["cache-control"] == "public, max-age=60"
    asset = client.get("/docs/assets/swagger-ui.css")
    assert asset.status_code == 200
    assert "cache-control" not in asset.headers  # StaticFiles revalidates by ETag
    assert asset.headers["x-content-type-options"] == "nosniff"


class _InlineScripts(HTMLParser):
    """The text of each <script> without src, as the browser hashes it."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and "src" not in dict(attrs):
            self._inside = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._inside = self._inside and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.scripts[-1] += data


def _policy(reply: httpx.Response) -> dict[str, list[str]]:
    directives = (d.split() for d in reply.headers["content-security-policy"].split(";"))
    return {d[0]: d[1:] for d in directives if d}


def _expected_hashes(html: str) -> list[str]:
    parser = _InlineScripts()
    parser.feed(html)
    digests = (hashlib.sha256(s.encode()).digest() for s in parser.scripts)
    return [f"'sha256-{base64.b64encode(d).decode()}'" for d in digests]


@pytest.mark.parametrize(("page", "inline_scripts"), [("/docs", 1), ("/redoc", 0)])
@pytest.mark.parametrize("root_path", ["", "/behind/a/prefix"])
def test_docs_pages_allow_only_their_own_scripts_by_hash(app, page, inline_scripts, root_path):
    with TestClient(app, root_path=root_path) as client:
        reply = client.get(page)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    policy = _policy(reply)
    hashes = _expected_hashes(reply.text)
    assert len(hashes) == inline_scripts
    assert policy["script-src"] == ["'self'", *hashes]
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in reply.headers["content-security-policy"]
    sources = {source for values in policy.values() for source in values}
    assert sources <= {"'self'", "'none'", "'unsafe-inline'", "data:", "blob:", *hashes}
    assert "'unsafe-inline'" not in policy["script-src"]
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_api_answers_carry_no_page_policy(client):
    assert "content-security-policy" not in client.get("/healthz").headers


# --- proxy resolution ---

TRUSTED = parse_trusted_proxies("10.0.0.0/8, 127.0.0.1/32, fd00::/8")


def _resolve(peer: str, *headers: tuple[str, str]) -> tuple[str, str | None] | None:
    raw = [(name.lower().encode(), value.encode("latin-1")) for name, value in headers]
    return ProxyResolver(TRUSTED).resolve(peer, raw)


def test_an_untrusted_peer_is_the_client_whatever_it_forwards():
    assert _resolve("198.51.100.4", ("X-Forwarded-For", FORGED)) is None
    assert _resolve("198.51.100.4", ("Forwarded", f"for={FORGED}")) is None
    assert _resolve("198.51.100.4", ("X-Forwarded-Proto", "https")) is None


def test_a_trusted_peer_without_forwarding_headers_is_the_client():
    assert _resolve("10.0.0.1") is None


def test_the_client_is_the_rightmost_address_that_is_not_a_trusted_proxy():
    chain = ("X-Forwarded-For", f"1.1.1.1, {FORGED}, 10.0.0.7, 10.0.0.3")
    assert _resolve("10.0.0.1", chain) == (FORGED, None)


def test_a_chain_of_trusted_proxies_only_yields_the_farthest_one():
    assert _resolve("10.0.0.1", ("X-Forwarded-For", "10.0.0.9, 10.0.0.3")) == ("10.0.0.9", None)


def test_several_forwarded_for_lines_read_as_one_list():
    lines = ("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", f"{FORGED}, 10.0.0.2")
    assert _resolve("10.0.0.1", *lines) == (FORGED, None)


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        ("fd00::1", "[2001:db8::7]:4711", "2001:db8::7"),
        ("fd00::1", "203.0.113.9:443", FORGED),
        ("::ffff:127.0.0.1", FORGED, FORGED),  # an IPv4 peer on a dual-stack socket
        ("10.0.0.1", "::ffff:203.0.113.9", FORGED),
        ("10.0.0.1", "2001:DB8:0:0::7", "2001:db8::7"),  # one spelling per address
    ],
)
def test_ipv6_and_ports_are_understood(peer, forwarded_for, client):
    assert _resolve(peer, ("X-Forwarded-For", forwarded_for)) == (client, None)


def test_rfc_7239_forwarded_names_the_client_and_its_scheme():
    header = 'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711";proto=https'
    assert _resolve("10.0.0.1", ("Forwarded", header)) == ("2001:db8:cafe::17", "https")
    assert _resolve("10.0.0.1", ("Forwarded", f"for={FORGED}, for=10.0.0.5")) == (FORGED, None)


def test_x_forwarded_for_wins_over_forwarded():
    headers = ("Forwarded", "for=192.0.2.60"), ("X-Forwarded-For", FORGED)
    assert _resolve("10.0.0.1", *headers) == (FORGED, None)


def test_the_scheme_comes_from_a_single_x_forwarded_proto():
    xff = ("X-Forwarded-For", FORGED)
    assert _resolve("10.0.0.1", xff, ("X-Forwarded-Proto", "HTTPS")) == (FORGED, "https")
    assert _resolve("10.0.0.1", xff, ("X-Forwarded-Proto", "gopher")) == (FORGED, None)
    assert _resolve("10.0.0.1", xff, ("X-Forwarded-Proto", "https, http")) == (FORGED, None)


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("unknown", None),  # the peer stays the client
        ("<script>alert(1)</script>", None),
        ("", None),
        (" , ", None),
        ("[2001:db8::7", None),
        ("203.0.113.9, 999.1.1.1, 10.0.0.4", "10.0.0.4"),  # junk ends the walk at our proxy
        ("198.51.100.1, not an address", None),
        ("a" * 5000, None),
    ],
)
def test_junk_never_becomes_a_client_address(forwarded_for, client):
    found = _resolve("10.0.0.1", ("X-Forwarded-For", forwarded_for))
    assert found == (None if client is None else (client, None))


@pytest.mark.parametrize("forwarded", ["for=unknown", 'for="_hidden"', "proto=https", "for=", ";;"])
def test_unknown_or_obfuscated_forwarded_nodes_name_no_client(forwarded):
    assert _resolve("10.0.0.1", ("Forwarded", forwarded)) is None


def test_the_middleware_rewrites_the_client_only_for_a_trusted_peer():
    seen: list[tuple[Any, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["client"], scope["scheme"]))

    middleware = ForwardedClient(app, TRUSTED)
    headers = [(b"x-forwarded-for", FORGED.encode()), (b"x-forwarded-proto", b"https")]
    for peer in ("10.0.0.1", "198.51.100.4"):
        scope = {"type": "http", "client": (peer, 5555), "scheme": "http", "headers": headers}
        asyncio.run(middleware(scope, None, None))  # type: ignore[arg-type]
    assert seen == [((FORGED, 0), "https"), (("198.51.100.4", 5555), "http")]


def test_trusted_proxies_parse_cidrs_and_single_addresses():
    assert parse_trusted_proxies(" 10.0.0.0/8 ,2001:db8::/32,127.0.0.1,") == (
        ip_network("10.0.0.0/8"),
        ip_network("2001:db8::/32"),
        ip_network("127.0.0.1/32"),
    )
    assert parse_trusted_proxies("") == ()
    assert Settings(trusted_proxies="::1/128").trusted_networks == (ip_network("::1/128"),)
    assert Settings().trusted_networks == ()


@pytest.mark.parametrize("value", ["10.0.0.0/33", "10.0.0.1/8", "localhost", "10.0.0.0/8;x"])
def test_an_invalid_trusted_proxy_is_refused_naming_the_entry(value):
    with pytest.raises(ValidationError, match="CREDLEDGER_TRUSTED_PROXIES") as refused:
        Settings(trusted_proxies=f"192.168.0.0/16, {value}")
    assert repr(value) in str(refused.value)
