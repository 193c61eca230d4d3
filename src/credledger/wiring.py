"""Builds the service from settings: store, hasher, keys, outbox."""

from __future__ import annotations

import base64
import binascii
import logging
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.ratelimit import RateLimiter, RateLimits
from credledger import migrations
from credledger.encryption import check_stored_events, cipher_env
from credledger.settings import Settings
from ledger.note import NoteSigner
from projections.catalog import all_models
from projections.ledger import LedgerLog
from projections.projector import Projector
from projections.queries import ReadModels
from projections.readstore import ReadStore
from projections.runner import POLL_SECONDS, Follower, Leadership, Listener, ProjectionWorker
from service.core import Clock, utc_now
from service.credentials import CredentialService
from service.hashing import Argon2Parameters, Hasher
from service.keys import Keyring
from service.ledger import LedgerService
from service.outbox import outbox_from_setting
from service.reads import ReadService
from service.sealing import DataKeys
from service.store import EventStore
from storage.datakeys import SQLITE_DDL, SqlDataKeyTable
from storage.event_facts import StoredFacts
from storage.leadership import DatabaseLeadership, FileLeadership
from storage.originators import StoredOriginators
from storage.pg_connections import PgTimeouts
from storage.readstores import PostgresReadStore, SqliteReadStore
from storage.shared_limits import DatabaseRateLimiter

log = logging.getLogger("credledger")


# How often the worker looks for new events where nothing announces them (the embedded store).
EMBEDDED_POLL_SECONDS = 0.05


class ConfigurationError(Exception):
    """The service cannot start as configured; the message says what to do."""


# The library's aggregate cache: a cached aggregate is fast-forwarded with the events stored
# since (one indexed query, usually empty) instead of replayed, and handed out as a copy, so
# every node stays exact over a shared store. Sessions and users are read on every request.
AGGREGATE_CACHE = {"AGGREGATE_CACHE_MAXSIZE": "10000", "AGGREGATE_CACHE_FASTFORWARD": "y"}


def store_env(settings: Settings) -> dict[str, str]:
    try:
        cipher = cipher_env(settings)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    if not settings.is_postgres:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            **AGGREGATE_CACHE,
            **cipher,
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    pg = settings.postgres_parts()
    return {
        **AGGREGATE_CACHE,
        **cipher,
        **pg_timeouts(settings).to_env(),
        # The library's factory with bounded retries over a guarded pool (storage.pg_events).
        "PERSISTENCE_MODULE": "storage.pg_events:GuardedPostgresFactory",
        "POSTGRES_DBNAME": pg["dbname"],
        "POSTGRES_HOST": pg["host"],
        "POSTGRES_PORT": pg["port"],
        "POSTGRES_USER": pg["user"],
        "POSTGRES_PASSWORD": pg["password"],
        "POSTGRES_SCHEMA": settings.database_schema,
        "CREATE_TABLE": "n",  # the schema comes from `credledger migrate`
        "POSTGRES_POOL_SIZE": str(settings.database_pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.database_max_overflow),
        "POSTGRES_CONNECT_TIMEOUT": str(math.ceil(settings.database_pool_timeout)),
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }


def pg_timeouts(settings: Settings) -> PgTimeouts:
    return PgTimeouts(
        statement=settings.pg_statement_timeout,
        connect=settings.pg_connect_timeout,
        pool_wait=settings.database_pool_timeout,
    )


def pg_conninfo(settings: Settings, role: str) -> dict[str, Any]:
    """A session of its own (the leader's lock, LISTEN), named for operators, with the
    same timeouts as every pooled connection."""
    return {
        **settings.postgres_parts(),
        **pg_timeouts(settings).connection_kwargs(),
        "application_name": f"credledger-{role}:{settings.database_schema}"[:63],
    }


def secret_key(settings: Settings) -> str:
    """From the environment, or generated once and kept in the embedded data directory."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.is_postgres:
        raise ConfigurationError(
            "CREDLEDGER_SECRET_KEY must be set for PostgreSQL (every node needs the same key)"
        )
    return _kept_secret(settings.data_dir / "secret.key", lambda: secrets.token_urlsafe(48))


def _kept_secret(path: Path, make: Callable[[], str]) -> str:
    """A secret made on first use and kept, readable by its owner only, in the data dir."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make() + "\n")
    return path.read_text().strip()


def ledger_signer(settings: Settings, keys: Keyring) -> NoteSigner:
    """The checkpoint signer: CREDLEDGER_LEDGER_KEY, or a seed kept in the data directory."""
    if settings.ledger_key is not None:
        encoded = settings.ledger_key.get_secret_value()
    elif settings.is_postgres:
        raise ConfigurationError(
            "CREDLEDGER_LEDGER_KEY must be set for PostgreSQL (base64 of a 32-byte Ed25519 "
            "seed, the same on every node; e.g. `openssl rand -base64 32`)"
        )
    else:
        encoded = _kept_secret(
            settings.data_dir / "ledger.key",
            lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
        )
    try:
        seed = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ConfigurationError("CREDLEDGER_LEDGER_KEY is not base64") from None
    origin = settings.ledger_origin or f"credledger/{keys.keyed_id('instance')}"
    try:
        return NoteSigner(origin, seed)
    except ValueError as error:
        raise ConfigurationError(f"ledger: {error}") from None


def build_store(settings: Settings, keys: Keyring) -> EventStore:
    if settings.is_postgres:
        missing = migrations.pending(settings)
        if missing:
            raise ConfigurationError(
                f"the PostgreSQL database is not migrated ({len(missing)} pending: "
                f"{', '.join(missing)}): run `credledger migrate` first"
            )
    env = store_env(settings)
    data_keys = DataKeys(SqlDataKeyTable(data_key_store(settings)), keys.data_key_wrapping_key)
    store = EventStore(data_keys, env=env)
    try:
        check_stored_events(store)
    except ValueError as error:
        store.close()
        raise ConfigurationError(str(error)) from None
    store.originators = StoredOriginators(store)
    return store


def data_key_store(settings: Settings) -> ReadStore:
    if settings.is_postgres:
        return PostgresReadStore(
            settings.postgres_parts(),
            settings.database_schema,
            max_size=4,
            timeouts=pg_timeouts(settings),
        )
    path = settings.sqlite_path
    # FULL: a key must be on disk before any event sealed with it can be.
    keys = path.with_name(f"{path.stem}-keys{path.suffix or '.db'}")
    return SqliteReadStore(keys, SQLITE_DDL, synchronous="FULL")


def build_service(settings: Settings, clock: Clock = utc_now) -> CredentialService:
    hasher = Hasher(
        Argon2Parameters(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        ),
        max_concurrent=settings.hash_concurrency,
        max_wait=settings.hash_max_wait,
    )
    try:
        keys = Keyring(secret_key(settings))
    except ValueError as error:
        raise ConfigurationError(f"CREDLEDGER_SECRET_KEY: {error}") from None
    return CredentialService(
        store=build_store(settings, keys),
        hasher=hasher,
        keys=keys,
        outbox=outbox_from_setting(settings.mail_outbox),
        clock=clock,
        session_minutes=settings.session_minutes,
        public_url=settings.public_url,
    )


def build_read_store(settings: Settings) -> ReadStore:
    if settings.is_postgres:
        return PostgresReadStore(
            settings.postgres_parts(), settings.database_schema, timeouts=pg_timeouts(settings)
        )
    path = settings.sqlite_path
    # A file of its own: the event store's writers never wait on projection writes.
    store = SqliteReadStore(path.with_name(f"{path.stem}-readmodels{path.suffix or '.db'}"))
    store.attach_events(path)  # a read checks the events' head in its own statement
    return store


@dataclass
class Runtime:
    """Everything a process serves from: the write side, the read side and its worker."""

    settings: Settings
    service: CredentialService
    reads: ReadService
    projector: Projector
    read_store: ReadStore
    ledger: LedgerService

    def worker(self) -> ProjectionWorker:
        listener = None
        if self.settings.is_postgres:
            # The channel the library NOTIFYs on every insert into the events table.
            channel = self.service.store.recorder.channel_name  # type: ignore[attr-defined]
            listener = Listener(pg_conninfo(self.settings, "listen"), channel)
        followers: list[Follower] = [self.projector]
        if self.settings.ledger_background:
            followers.append(self.ledger.log)
        worker = ProjectionWorker(
            followers,
            listener,
            self._leadership(),
            # The embedded store announces no inserts to other processes: poll briskly, so a
            # read served by another process waits little for the worker.
            poll_seconds=POLL_SECONDS if listener is not None else EMBEDDED_POLL_SECONDS,
        )
        self.service.store.after_save.append(worker.wake)
        # Reads in this process catch up themselves unless another process's worker leads.
        self.reads.models.catch_up_here = lambda: not worker.standing_by
        return worker

    def _leadership(self) -> Leadership:
        if self.settings.is_postgres:
            return DatabaseLeadership(
                pg_conninfo(self.settings, "lead"), self.settings.database_schema
            )
        path = self.settings.sqlite_path
        return FileLeadership(path.with_name(f"{path.stem}-worker.lock"))

    def rate_limiter(self, per_minute: int | None = None, namespace: str = "") -> RateLimits:
        """Counted in the database on PostgreSQL (every process and node shares it), in
        memory on the embedded store. `namespace` keeps separate counts on one database."""
        limit = self.settings.rate_limit_per_minute if per_minute is None else per_minute
        if isinstance(self.read_store, PostgresReadStore):
            keys = self.service.keys
            return DatabaseRateLimiter(
                self.read_store, limit, lambda key: keys.digest("rate-limit", namespace + key)
            )
        return RateLimiter(limit)

    def close(self) -> None:
        self.service.background.close()  # mails of anonymous reset requests go out first
        self.read_store.close()
        self.service.store.close()


def build_runtime(settings: Settings, clock: Clock = utc_now) -> Runtime:
    service = build_service(settings, clock)
    read_store = build_read_store(settings)
    projector = Projector(service.store, StoredFacts(service.store), read_store, all_models())
    in_process = settings.projections == "inprocess"
    reads = ReadService(ReadModels(read_store, projector, in_process), clock)
    ledger = LedgerService(
        LedgerLog(service.store, read_store), ledger_signer(settings, service.keys)
    )
    return Runtime(settings, service, reads, projector, read_store, ledger)
