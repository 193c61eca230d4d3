"""The SQL that gives a runtime role what `credledger serve` needs, and no more (CONTRACTS §8).

`credledger migrate` runs as the schema owner; the server runs as a role that may read and
append events but never rewrite them. This module only writes SQL text (quoted with psycopg,
no connection): an operator reviews it and runs it as the owner, so the role need not exist
yet when it is printed.
"""

from __future__ import annotations

import textwrap

from psycopg import sql

# Rows of every table `migrate` makes, now and in later migrations (rate limits, ...), are
# the runtime's to read and write. No TRUNCATE, REFERENCES or TRIGGER anywhere.
TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_RIGHTS = "USAGE, SELECT"  # nextval for serial columns; never setval (UPDATE)

# Tables whose rights differ from TABLE_RIGHTS, and why. Each must exist after `migrate`.
EXCEPTIONS: dict[str, tuple[str, str]] = {
    "credledger_events": (
        "SELECT, INSERT, UPDATE",
        "read and append. UPDATE only because the library locks this table IN EXCLUSIVE "
        "MODE before each insert, which PostgreSQL allows only with UPDATE, DELETE or "
        "TRUNCATE; the triggers of migration 0005 refuse every UPDATE (SQLSTATE 42501)",
    ),
    "credledger_snapshots": ("SELECT, INSERT", "read and append; never rewritten"),
    "ledger_checkpoints": ("SELECT, INSERT", "every checkpoint the log signs is kept"),
    "_yoyo_migration": ("SELECT", "serve checks that the schema is migrated"),
    "_yoyo_version": ("", "migrate's own bookkeeping"),
    "_yoyo_log": ("", "migrate's own bookkeeping"),
    "yoyo_lock": ("", "migrate's own bookkeeping"),
}

# Names PostgreSQL reads as something other than a role even when quoted, or reserves.
NOT_ROLES = {"public", "none", "current_user", "current_role", "session_user"}
MAX_NAME_BYTES = 63  # longer identifiers are silently truncated by PostgreSQL


def check_role_name(name: str, what: str) -> None:
    """Refuses a name that would not mean the role the operator typed."""
    if not name:
        raise ValueError(f"{what} must not be empty")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise ValueError(f"{what} {name!r} is longer than {MAX_NAME_BYTES} bytes")
    # A line break would end the script's `--` comments that name the role: refuse them all.
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise ValueError(f"{what} {name!r} contains a control character")
    if name in NOT_ROLES or name.startswith("pg_"):
        raise ValueError(f"{what} {name!r} is reserved by PostgreSQL")


def _text(query: sql.Composable) -> str:
    return query.as_string(None)


def runtime_grants(schema: str, owner: str, role: str) -> str:
    """The reviewed script: idempotent (it revokes before it grants), one transaction."""
    check_role_name(role, "the runtime role")
    check_role_name(owner, "the schema owner")
    if role == owner:
        raise ValueError("the runtime role must not be the schema owner (it would own the events)")
    names = {
        "schema": sql.Identifier(schema),
        "owner": sql.Identifier(owner),
        "role": sql.Identifier(role),
    }

    def line(template: str, **extra: sql.Composable) -> str:
        return _text(sql.SQL(template).format(**names, **extra))

    out = [
        f"-- credledger: rights of the runtime role {_text(names['role'])} "
        f"on schema {_text(names['schema'])} (CONTRACTS §8).",
        f"-- Review, then run after `credledger migrate`, as the schema owner "
        f"{_text(names['owner'])} or a superuser.",
        "-- The role must exist first, e.g. " + line("CREATE ROLE {role} LOGIN PASSWORD '...';"),
        "-- Running it again is harmless: it revokes what it grants, then grants it.",
        "BEGIN;",
        "",
        "-- The schema: use it, and create and drop its own read-model tables (rm_<model>_g<N>),",
        "-- which a rebuild fills one generation beside the live one.",
        line("GRANT USAGE, CREATE ON SCHEMA {schema} TO {role};"),
        "",
        "-- Every table and sequence the owner has made in the schema: read and write rows.",
        "-- (A loop, not GRANT ... ON ALL TABLES: that fails, for an owner who is not a",
        "-- superuser, on the read-model tables the runtime role owns.)",
        _owned_objects_block(schema, owner, role),
        "",
        "-- Every table and sequence a later `credledger migrate` makes: the same.",
        line(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            "REVOKE ALL ON TABLES FROM {role};"
        ),
        line(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            "REVOKE ALL ON SEQUENCES FROM {role};"
        ),
        line(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            f"GRANT {TABLE_RIGHTS} ON TABLES TO {{role}};"
        ),
        line(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            f"GRANT {SEQUENCE_RIGHTS} ON SEQUENCES TO {{role}};"
        ),
        "",
        "-- Except these tables:",
    ]
    for table, (rights, why) in EXCEPTIONS.items():
        target = sql.Identifier(schema, table)
        out += textwrap.wrap(
            f"{table}: {why}.", 96, initial_indent="-- ", subsequent_indent="--   "
        )
        out.append(line("REVOKE ALL ON {table} FROM {role};", table=target))
        if rights:
            out.append(line(f"GRANT {rights} ON {{table}} TO {{role}};", table=target))
    out += ["", "COMMIT;", ""]
    return "\n".join(out)


def _owned_objects_block(schema: str, owner: str, role: str) -> str:
    """A DO block granting TABLE_RIGHTS / SEQUENCE_RIGHTS on each table and sequence the owner
    owns in the schema. The names reach it as literals in a dollar-quoted body, so the tag
    must not occur in them."""
    tag = "$grants$"
    schema_text, owner_text, role_text = (
        _text(sql.Literal(value)) for value in (schema, owner, role)
    )
    if any(tag in value for value in (schema, owner, role)):
        raise ValueError(f"names must not contain {tag}")
    return f"""DO {tag}
DECLARE
    object record;
BEGIN
    FOR object IN
        SELECT c.oid::regclass AS name, c.relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = {schema_text}
          AND pg_get_userbyid(c.relowner) = {owner_text}
          AND c.relkind IN ('r', 'p', 'S')
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %I', object.name, {role_text});
        IF object.relkind = 'S' THEN
            EXECUTE format('GRANT {SEQUENCE_RIGHTS} ON SEQUENCE %s TO %I',
                           object.name, {role_text});
        ELSE
            EXECUTE format('GRANT {TABLE_RIGHTS} ON TABLE %s TO %I',
                           object.name, {role_text});
        END IF;
    END LOOP;
END
{tag};"""
