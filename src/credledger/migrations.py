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
    """Migrations not yet applied; read-only, so it works on a database never migrated."""
    known = [m.id for m in read_migrations(str(MIGRATIONS_DIR))]
    schema = settings.database_schema
    with psycopg.connect(**settings.postgres_parts(), connect_timeout=10) as conn:
        table = conn.execute("SELECT to_regclass(%s)", (f"{schema}._yoyo_migration",)).fetchone()
        if table is None or table[0] is None:
            return known
        query = sql.SQL("SELECT migration_id FROM {}._yoyo_migration").format(
            sql.Identifier(schema)
        )
        applied = {row[0] for row in conn.execute(query)}
    return [migration for migration in known if migration not in applied]
