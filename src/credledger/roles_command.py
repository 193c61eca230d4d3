"""`credledger roles ROLE [--owner OWNER]`: print the runtime role's grants (CONTRACTS §8).

It only prints (nothing is run and nothing is connected to), so an operator can review the SQL
and apply it as the schema owner, e.g. `credledger roles credledger_app | psql ...`.
"""

from __future__ import annotations

import argparse
import sys

from credledger.privileges import runtime_grants
from credledger.settings import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    roles = commands.add_parser(
        "roles",
        help="print the SQL granting a runtime role what the server needs (PostgreSQL)",
        description=(
            "Print, for review, the SQL that lets ROLE run the server on the configured "
            "schema: read and append events (never update, delete or truncate them), write "
            "the read models, ledger and data keys. Run it after `credledger migrate`, as "
            "the schema owner."
        ),
    )
    roles.add_argument("role", metavar="ROLE", help="the runtime role (need not exist yet)")
    roles.add_argument(
        "--owner",
        help="the schema owner who runs `credledger migrate` "
        "(default: the user of CREDLEDGER_DATABASE_URL)",
    )


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if not settings.is_postgres:
        sys.stderr.write(
            "credledger: the embedded SQLite store has no database roles; nothing to grant\n"
        )
        return 0
    owner = args.owner if args.owner is not None else settings.postgres_parts()["user"]
    try:
        script = runtime_grants(settings.database_schema, owner, args.role)
    except ValueError as error:
        sys.stderr.write(f"credledger roles: {error}\n")
        return 2
    sys.stdout.write(script)
    return 0
