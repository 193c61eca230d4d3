"""Configuration from `CREDLEDGER_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.proxies import Network, parse_trusted_proxies


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CREDLEDGER_", env_ignore_empty=True, extra="ignore"
    )

    database_url: str = "sqlite:///var/credledger.db"
    # PostgreSQL schema holding every table; lets several instances (or test runs) share a DB.
    database_schema: str = Field(default="public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    database_pool_size: int = Field(default=5, ge=1)
    database_max_overflow: int = Field(default=35, ge=0)  # sized for the worker threads
    # Seconds a checkout waits for a pooled connection. Its first name,
    # CREDLEDGER_DATABASE_CONNECT_TIMEOUT, still works.
    database_pool_timeout: float = Field(
        default=2.0,
        gt=0,
        validation_alias=AliasChoices(
            "database_pool_timeout",
            "credledger_database_pool_timeout",
            "credledger_database_connect_timeout",
        ),
    )
    # PostgreSQL cancels any statement running longer (seconds); no request may hang on one.
    pg_statement_timeout: float = Field(default=5.0, gt=0)
    # Seconds one attempt to open a PostgreSQL connection may take (libpq, whole, at least 2).
    pg_connect_timeout: int = Field(default=3, ge=2)
    secret_key: SecretStr | None = None
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_cost: int = Field(default=19_456, ge=8)  # KiB
    argon2_parallelism: int = Field(default=1, ge=1)
    hash_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1)
    # Seconds a request may wait for its first hashing slot before it is refused (0 = wait).
    hash_max_wait: float = Field(default=1.0, ge=0)
    session_minutes: int = Field(default=720, ge=1)
    mail_outbox: str = "log"
    # Where people reach this server (scheme, host, port, any path prefix): reset mails link
    # to its `/ui/`, and by default caller-supplied reset links must start there.
    public_url: str = Field(
        default="http://127.0.0.1:8080", pattern=r"^https?://[^/?#\s]+[^?#\s]*$"
    )
    projections: Literal["inprocess", "external"] = "inprocess"
    rate_limit_per_minute: int = Field(default=30, ge=0)
    admin_password: SecretStr | None = None
    # The ledger (CONTRACTS §5): base64 of a 32-byte Ed25519 seed; generated into the data
    # directory on the embedded default, required on PostgreSQL.
    ledger_key: SecretStr | None = None
    ledger_origin: str | None = None  # default `credledger/<instance id>`
    # false: the worker leaves the ledger alone; checkpoint and proof requests integrate.
    ledger_background: bool = True
    # Whole-event encryption at rest (CONTRACTS §8), off when unset: base64 of a 16, 24 or
    # 32-byte AES key, the same on every node. Previous keys (comma-separated) only open
    # events written before a rotation and can never be dropped (README, "Encryption at rest").
    cipher_key: SecretStr | None = None
    cipher_previous_keys: SecretStr | None = None
    # Reverse proxies whose X-Forwarded-For / Forwarded name the client (api.proxies):
    # comma-separated CIDRs; none by default, so the TCP peer is the client.
    trusted_proxies: str = ""
    # Seconds a connection may take to send a request's headers (credledger.http_protocol).
    request_timeout: float = Field(default=30.0, gt=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks_only(cls, value: str) -> str:
        parse_trusted_proxies(value)  # refused at startup, naming the bad entry
        return value

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        return parse_trusted_proxies(self.trusted_proxies)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @cached_property
    def sqlite_path(self) -> Path:
        if not self.database_url.startswith("sqlite:///"):
            raise ValueError(
                f"unsupported CREDLEDGER_DATABASE_URL {self.database_url!r}: "
                "use sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
            )
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def data_dir(self) -> Path:
        return self.sqlite_path.parent if not self.is_postgres else Path("var")

    def postgres_parts(self) -> dict[str, str]:
        url = urlsplit(self.database_url)
        return {
            "host": url.hostname or "127.0.0.1",
            "port": str(url.port or 5432),
            "user": unquote(url.username or "postgres"),
            "password": unquote(url.password or ""),
            "dbname": url.path.lstrip("/") or "postgres",
        }
