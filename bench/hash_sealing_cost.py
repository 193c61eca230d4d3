"""What does sealing password hashes cost? Sealing on vs off, side by side in one run.

- Change and login paths: p50 of self-service password changes and of logins over HTTP, four
  `credledger serve` processes (SQLite and PostgreSQL, each with hash sealing on and off),
  closed-loop clients on loopback, rounds alternating which variant goes first (the harness
  of bench/ledger_change_path.py). Production argon2 (m=19 MiB, t=2, p=1) by default, as
  deployed; `--argon2 cheap` (m=1 MiB, t=1) magnifies everything that is not argon2. The
  default policy (`historyCount` 4): each change also makes a history hash, so two values are
  sealed per change, and each user's snapshot (every 50 events) seals 4 kept hashes.
  Sealing off is no setting: each server is started by a launcher that builds the store with
  `EventStore(seal_secrets=...)`, exactly as the tests do; before measuring, the bench checks
  through the ledger's leaves that one variant really stores `$argon2` and the other does not.
- Cold load: a user replayed from the store with no aggregate cache (a login or change on a
  node that has not seen the user lately opens every sealed value since the last snapshot),
  in-process, sealing on vs off interleaved; and one AES-GCM seal and open of a hash.
- Import: `import_users` in-process, batches of --import-rows users with a mix of legacy
  schemes (bench/import_throughput.py's), sealing on vs off interleaved: the path that seals
  the most hashes per second (each user's hash and scheme).

Writes the tables to --output (default bench/hash_sealing_results.md) and prints them. Usage:

    .venv/bin/python bench/hash_sealing_cost.py [--rounds 6] [--changes 20] [--clients 1 4]
        [--argon2 production|cheap] [--loads 2000] [--import-rows 2000] [--import-runs 8]
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx2 as httpx
import ledger_change_path
import psycopg
from import_throughput import legacy_hashes
from ledger_change_path import ADMIN, Server, arguments, percentile, stores_of
from psycopg import sql
from rebuild_throughput import POSTGRES_URL, each_store

from credledger import migrations, wiring
from credledger.bootstrap import bootstrap
from credledger.settings import Settings
from credledger.wiring import build_runtime
from domain.policy import PasswordPolicy
from service.context import RequestContext
from service.store import EventStore

HERE = Path(__file__).resolve().parent
VARIANTS = ("on", "off")
CHEAP_ARGON2 = {"CREDLEDGER_ARGON2_MEMORY_COST": "1024", "CREDLEDGER_ARGON2_TIME_COST": "1"}
# `credledger serve` with the store's sealing switch set: the CLI, one line before it.
LAUNCHER = """#!{python}
import functools, sys
from credledger import cli, wiring
from service.store import EventStore
wiring.EventStore = functools.partial(EventStore, seal_secrets={seal})
sys.exit(cli.main())
"""


# --- the change and login paths, over HTTP ---


def launcher(folder: Path, seal: bool) -> Path:
    path = folder / f"credledger-seal-{'on' if seal else 'off'}"
    path.write_text(LAUNCHER.format(python=sys.executable, seal=seal), encoding="utf-8")
    path.chmod(0o755)
    return path


class SealingServer(Server):
    """A server of one variant, with accounts under the default policy: each change sets a
    new password (history kept), each login uses the current one."""

    def __init__(self, store: str, variant: str, folder: Path, env: dict[str, str]) -> None:
        self.sealed = variant == "on"
        # Server runs `CLI serve`: here the launcher of this variant.
        real, ledger_change_path.CLI = ledger_change_path.CLI, launcher(folder, self.sealed)
        try:
            super().__init__(store, f"sealing {variant}", folder, env)
        finally:
            ledger_change_path.CLI = real

    def _accounts(self, count: int) -> list[dict[str, Any]]:
        with httpx.Client(base_url=self.url, timeout=120) as c:
            token = c.post("/v1/sessions", json={"loginName": "admin", "password": ADMIN})
            self.admin = {"Authorization": f"Bearer {token.json()['token']}"}
            alias = f"bench-{uuid.uuid4().hex[:8]}"
            body = {"name": "Bench", "alias": alias}  # the default policy
            org = c.post("/v1/orgs", json=body, headers=self.admin).json()["orgId"]
            out = []
            for i in range(count):
                password = new_password()
                body = {"username": f"u{i}", "password": password}
                user = c.post(f"/v1/orgs/{org}/users", json=body, headers=self.admin)
                login = {"loginName": f"u{i}@{alias}", "password": password}
                session = c.post("/v1/sessions", json=login).json()["token"]
                out.append({**login, "user": user.json()["userId"], "token": session})
        return out

    def stores_hashes_readable(self) -> bool:
        """Whether any ledger leaf (the stored bytes of an event) shows an argon2 hash."""
        with httpx.Client(base_url=self.url, timeout=120) as c:
            c.get("/v1/ledger/checkpoint", headers=self.admin)  # integrates every event
            leaves = c.get("/v1/ledger/leaves", params={"limit": 1000}, headers=self.admin)
        for leaf in leaves.json()["leaves"]:
            state = json.loads(base64.b64decode(leaf["input"]))["state"]
            if b"$argon2" in base64.b64decode(state):
                return True
        return False

    def changes(self, clients: int, count: int) -> list[float]:
        def change(c: httpx.Client, account: dict[str, Any]) -> None:
            new = new_password()
            body = {"currentPassword": account["password"], "newPassword": new}
            headers = {"Authorization": f"Bearer {account['token']}"}
            reply = c.post(f"/v1/users/{account['user']}/password", json=body, headers=headers)
            assert reply.status_code == 200, reply.text
            account["password"] = new

        return self._closed_loop(clients, count, change)

    def logins(self, clients: int, count: int) -> list[float]:
        def login(c: httpx.Client, account: dict[str, Any]) -> None:
            body = {"loginName": account["loginName"], "password": account["password"]}
            reply = c.post("/v1/sessions", json=body)
            assert reply.status_code == 201, reply.text

        return self._closed_loop(clients, count, login)

    def _closed_loop(
        self, clients: int, count: int, one: Callable[[httpx.Client, dict[str, Any]], None]
    ) -> list[float]:
        """`clients` closed-loop clients doing `count` requests each; latencies in ms."""
        latencies: list[float] = []
        lock = threading.Lock()

        def client(account: dict[str, Any]) -> None:
            with httpx.Client(base_url=self.url, timeout=120) as c:
                for _ in range(count):
                    started = time.perf_counter()
                    one(c, account)
                    elapsed = (time.perf_counter() - started) * 1000
                    with lock:
                        latencies.append(elapsed)

        threads = [threading.Thread(target=client, args=(a,)) for a in self.accounts[:clients]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return latencies


def new_password() -> str:
    return f"Bench-{uuid.uuid4().hex[:12]}-Lantern"


PATHS = {"change": SealingServer.changes, "login": SealingServer.logins}


def http_paths(args: Any) -> str:
    """Both paths on every store, rounds alternating which variant goes first."""
    stores, folder = stores_of(args), Path(tempfile.mkdtemp())
    env = CHEAP_ARGON2 if args.argon2 == "cheap" else {}
    servers = {(s, v): SealingServer(s, v, folder, env) for s in stores for v in VARIANTS}
    results: dict[tuple[str, str, int, str], list[float]] = {}
    paired: dict[tuple[str, str, int], list[float]] = {}  # per round: p50 on / p50 off
    try:
        for (store, variant), server in servers.items():
            readable = server.stores_hashes_readable()
            assert readable != server.sealed, f"{store}, sealing {variant}: readable={readable}"
        for round_ in range(args.rounds):
            for store in stores:
                for path, run in PATHS.items():
                    for clients in args.clients:
                        p50 = {}
                        for variant in VARIANTS if round_ % 2 == 0 else VARIANTS[::-1]:
                            done = run(servers[(store, variant)], clients, args.changes)
                            results.setdefault((store, path, clients, variant), []).extend(done)
                            p50[variant] = statistics.median(done)
                        paired.setdefault((store, path, clients), []).append(p50["on"] / p50["off"])
    finally:
        for server in servers.values():
            server.stop()
    lines = [
        f"machine: {os.cpu_count()} cores; {args.rounds} rounds alternating on/off, "
        f"{args.changes} requests per client per round",
        "",
        "| store | path | clients | requests | p50 on (ms) | p50 off (ms) | p50 on/off "
        "| median of per-round on/off | p95 on | p95 off |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for store in stores:
        for path in PATHS:
            for clients in args.clients:
                on, off = (results[(store, path, clients, v)] for v in VARIANTS)
                lines.append(
                    f"| {store} | {path} | {clients} | {len(on)} | {statistics.median(on):.1f} "
                    f"| {statistics.median(off):.1f} "
                    f"| {statistics.median(on) / statistics.median(off):.3f} "
                    f"| {statistics.median(paired[(store, path, clients)]):.3f} "
                    f"| {percentile(on, 0.95):.1f} | {percentile(off, 0.95):.1f} |"
                )
    return "\n".join(lines) + "\n"


# --- cold loads and the AES work itself, in-process ---


@contextlib.contextmanager
def sealing(seal: bool) -> Iterator[None]:
    """Runtimes built inside have the store's sealing switch set so (tests do the same)."""
    real = wiring.EventStore
    wiring.EventStore = partial(EventStore, seal_secrets=seal)  # type: ignore[misc]
    try:
        yield
    finally:
        wiring.EventStore = real  # type: ignore[misc]


def cold_pair(settings: Settings, changes: int, loads: int) -> dict[str, float]:
    """A user with `changes` password changes in a store of each variant, replayed from its
    store `loads` times per variant, interleaved in blocks; µs per load."""
    users, runtimes = {}, {}
    try:
        for variant in VARIANTS:
            variant_settings = _variant(settings, variant)
            with sealing(variant == "on"):
                runtimes[variant] = build_runtime(variant_settings)
            users[variant] = _user_with_changes(runtimes[variant], changes)
        timings: dict[str, list[float]] = {v: [] for v in VARIANTS}
        block = max(1, loads // 20)
        for n in range(0, loads, block):
            for variant in VARIANTS if (n // block) % 2 == 0 else VARIANTS[::-1]:
                timings[variant] += _cold_loads(runtimes[variant], users[variant], block)
        on, off = (statistics.median(timings[v]) for v in VARIANTS)
        return {"on": on, "off": off, "events": float(changes)} | aes_micro(runtimes["on"])
    finally:
        for runtime in runtimes.values():
            runtime.close()
        if settings.is_postgres:
            _drop_variant_schemas(settings)


def _drop_variant_schemas(settings: Settings) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for variant in VARIANTS:
            name = sql.Identifier(f"{settings.database_schema}_{variant}")
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))


def _variant(settings: Settings, variant: str) -> Settings:
    """A store of its own per variant: events of one never meet the other's."""
    if settings.is_postgres:
        changed = settings.model_copy(
            update={"database_schema": f"{settings.database_schema}_{variant}"}
        )
        migrations.apply(changed)
        return changed
    path = settings.sqlite_path
    return Settings(
        **(settings.model_dump() | {"database_url": f"sqlite:///{path.with_name(variant)}.db"})
    )


def _user_with_changes(runtime: Any, changes: int) -> uuid.UUID:
    service = runtime.service
    bootstrap(service, admin_password=ADMIN)
    ctx = RequestContext("native", {"userAgent": "bench/1.0", "remoteAddress": "127.0.0.1"})
    admin = service.authenticate(service.start_session("admin", ADMIN, ctx).token)
    alias = f"cold-{uuid.uuid4().hex[:8]}"
    org = service.register_org(admin, "Cold", alias, PasswordPolicy(), ctx)
    password = new_password()
    user = service.register_user(admin, org.id, "u", password, None, None, [], False, ctx)
    actor = service.authenticate(service.start_session(f"u@{alias}", password, ctx).token)
    for _ in range(changes):
        new = new_password()
        finder = service.own_user_finder(actor, user.id)
        service.change_own_password(finder, password, new, False, ctx, revoke_others=False)
        password = new
    return user.id


def _cold_loads(runtime: Any, user_id: uuid.UUID, count: int) -> list[float]:
    repository = runtime.service.store.repository
    out = []
    for _ in range(count):
        repository.cache = None  # no aggregate cache: every load replays from the store
        started = time.perf_counter()
        repository.get(user_id)
        out.append((time.perf_counter() - started) * 1e6)
    return out


def aes_micro(runtime: Any) -> dict[str, float]:
    """µs per seal and per open of a production argon2id hash under a person's data key."""
    keys, subject = runtime.service.store.data_keys, uuid.uuid4()
    value = "$argon2id$v=19$m=19456,t=2,p=1$" + "s" * 22 + "$" + "h" * 43
    sealed = keys.seal(subject, "password_hash", value)
    rounds = 20_000
    timings = {}
    for name, call in (
        ("seal us", lambda: keys.seal(subject, "password_hash", value)),
        ("open us", lambda: keys.open(subject, "password_hash", sealed)),
    ):
        started = time.perf_counter()
        for _ in range(rounds):
            call()
        timings[name] = (time.perf_counter() - started) / rounds * 1e6
    return timings


def cold_table(args: Any) -> str:
    rows = each_store(args.store, lambda s: cold_pair(s, args.cold_changes, args.loads))
    lines = [
        f"Cold load of a user with {args.cold_changes} changes (a snapshot every 50 events), "
        f"no aggregate cache, {args.loads} loads per variant interleaved in blocks; medians:",
        "",
        "| store | sealing on (µs) | sealing off (µs) | on − off (µs) | on/off |",
        "|---|---|---|---|---|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['on']:,.0f} | {r['off']:,.0f} | {r['on'] - r['off']:,.0f} "
            f"| {r['on'] / r['off']:.2f} |"
        )
    micro = rows[0][1]
    lines += [
        "",
        f"AES-GCM under a person's data key (cached), for one argon2id hash: seal "
        f"{micro['seal us']:.1f} µs, open {micro['open us']:.1f} µs.",
    ]
    return "\n".join(lines) + "\n"


# --- imports, in-process ---


def import_pair(settings: Settings, rows: int, runs: int) -> dict[str, float]:
    """Users imported per second into a store of each variant, batches interleaved."""
    runtimes: dict[str, Any] = {}
    try:
        targets = {}
        for variant in VARIANTS:
            with sealing(variant == "on"):
                runtimes[variant] = build_runtime(_variant(settings, variant))
            targets[variant] = _import_target(runtimes[variant])
        rates: dict[str, list[float]] = {v: [] for v in VARIANTS}
        hashes = legacy_hashes()
        for run in range(runs):
            for variant in VARIANTS if run % 2 == 0 else VARIANTS[::-1]:
                batch = [
                    {
                        "username": f"i{uuid.uuid4().hex[:12]}",
                        "passwordHash": hashes[i % len(hashes)],
                    }
                    for i in range(rows)
                ]
                service, admin, org_id = targets[variant]
                started = time.perf_counter()
                result = service.import_users(admin, org_id, batch, RequestContext())
                rates[variant].append(rows / (time.perf_counter() - started))
                assert not result.refused, result.refused[:3]
        on, off = (statistics.median(rates[v]) for v in VARIANTS)
        ratios = sorted(a / b for a, b in zip(rates["on"], rates["off"], strict=True))
        return {"on": on, "off": off, "ratio": statistics.median(ratios)}
    finally:
        for runtime in runtimes.values():
            runtime.close()
        if settings.is_postgres:
            _drop_variant_schemas(settings)


def _import_target(runtime: Any) -> tuple[Any, Any, uuid.UUID]:
    service = runtime.service
    bootstrap(service, admin_password=ADMIN)
    ctx = RequestContext()
    admin = service.authenticate(service.start_session("admin", ADMIN, ctx).token)
    alias = f"imp-{uuid.uuid4().hex[:8]}"
    return service, admin, service.register_org(admin, "Import", alias, PasswordPolicy(), ctx).id


def import_table(args: Any) -> str:
    rows = each_store(args.store, lambda s: import_pair(s, args.import_rows, args.import_runs))
    lines = [
        f"Import, in-process: {args.import_runs} interleaved batches of {args.import_rows:,} "
        "users per variant (bcrypt, argon2id, Keycloak and Django PBKDF2 in turn); users/s "
        "medians, on/off the median of per-batch ratios:",
        "",
        "| store | sealing on users/s | sealing off users/s | on/off |",
        "|---|---|---|---|",
    ]
    for name, r in rows:
        lines.append(f"| {name} | {r['on']:,.0f} | {r['off']:,.0f} | {r['ratio']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = arguments(__doc__)
    parser.set_defaults(rounds=6)
    parser.add_argument("--argon2", choices=("production", "cheap"), default="production")
    parser.add_argument("--loads", type=int, default=2000)
    parser.add_argument("--cold-changes", type=int, default=60)
    parser.add_argument("--import-rows", type=int, default=2000)
    parser.add_argument("--import-runs", type=int, default=8)
    parser.add_argument("--output", type=Path, default=HERE / "hash_sealing_results.md")
    args = parser.parse_args()
    argon2 = "m=19 MiB, t=2, p=1" if args.argon2 == "production" else "m=1 MiB, t=1, p=1"
    command = " ".join(["bench/hash_sealing_cost.py", *sys.argv[1:]])
    header = (
        f"# Sealing password hashes: cost\n\n`.venv/bin/python {command}` — "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; password hashes, "
        f"history hashes and reset digests sealed under the person's data key (AES-256-GCM) "
        f"on vs off, side by side in one run.\n\n"
    )
    paths = http_paths(args)
    title = f"Changes and logins over HTTP (argon2id {argon2}, the default policy):\n\n"
    print(title + paths)
    cold = cold_table(args)
    print(cold)
    imports = import_table(args)
    print(imports)
    text = header + title + paths + "\n" + cold + "\n" + imports
    args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
