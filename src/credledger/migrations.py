"""Versioned SQL migrations for PostgreSQL, applied with yoyo (recorded in `_yoyo_migration`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

from credledger.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def _yoyo_url(settings: Settings) -> str:
    pg = settings.postgres_parts()
    auth = quote(pg["user"], safe="")
    if pg["password"]:
        auth += ":" + quote(pg["password"], safe="")
    return (
        f"postgresql+psycopg://{auth}@{pg['host']}:{pg['port']}/{pg['dbname']}"
        f"?schema={settings.database_schema}"
    )


def _ensure_schema(settings: Settings) -> None:
    pg = settings.postgres_parts()
    with psycopg.connect(**pg, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(settings.database_schema)
            )
        )


def apply(settings: Settings) -> list[str]:
    """Apply what is pending; returns the ids applied (none when already up to date)."""
    _ensure_schema(settings)
    backend = get_backend(_yoyo_url(settings))
    todo = backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))
    with backend.lock():
        backend.apply_migrations(todo)
    return [m.id for m in todo]


def pending(settings: Settings) -> list[str]:
    backend = get_backend(_yoyo_url(settings))
    return [m.id for m in backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))]
