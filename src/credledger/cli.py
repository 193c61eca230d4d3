"""`credledger serve | init | migrate`."""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial

from credledger import (
    configure_logging,
    import_command,
    ledger_commands,
    migrations,
    operations,
    roles_command,
)
from credledger.bootstrap import bootstrap
from credledger.settings import Settings
from credledger.wiring import ConfigurationError, build_service
from domain.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="credledger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server (bootstraps a fresh store)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--workers", type=_positive, default=1, help="server processes sharing the port"
    )
    init = commands.add_parser("init", help="bootstrap the instance without serving")
    init.add_argument("--org-alias", required=True)
    init.add_argument("--org-name", required=True)
    init.add_argument("--admin-login", required=True)
    init.add_argument("--admin-password")
    commands.add_parser("migrate", help="apply migrations/ to the configured PostgreSQL")
    operations.add_commands(commands)
    ledger_commands.add_commands(commands)
    import_command.add_commands(commands)
    roles_command.add_commands(commands)
    args = parser.parse_args(argv)
    configure_logging()
    try:
        simple = {
            "serve": _serve,
            "init": _init,
            "migrate": _migrate,
            "ledger": ledger_commands.run,
            "import": import_command.run,
            "roles": roles_command.run,
        }
        return simple.get(args.command, operations.run)(args)
    except (ConfigurationError, DomainError, ValueError) as error:
        print(f"credledger: {error}", file=sys.stderr)
        return 2 if isinstance(error, ConfigurationError) else 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from credledger.http_protocol import HeaderTimeoutH11Protocol

    settings = Settings()
    service = build_service(settings)  # bootstrap once, before any server process starts
    try:
        if service.instance() is None:
            password = (
                settings.admin_password.get_secret_value() if settings.admin_password else None
            )
            done = bootstrap(service, admin_password=password)
            print(
                f"credledger: created organization 'default' and instance admin 'admin' "
                f"(org {done.org_id})"
            )
            if done.generated_password:
                print(
                    f"credledger: admin password (shown once): {done.generated_password}",
                    flush=True,
                )
    finally:
        service.store.close()
    # Each process builds its own application from the environment (credledger.asgi).
    uvicorn.run(
        "credledger.asgi:application",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        # Forwarded headers are read by the app, from CREDLEDGER_TRUSTED_PROXIES only
        # (api.proxies): uvicorn's own reading trusts any caller on 127.0.0.1.
        proxy_headers=False,
        server_header=False,  # no version banner for scanners
        # uvicorn's h11 protocol plus a deadline for the request headers (slowloris).
        http=partial(HeaderTimeoutH11Protocol, header_timeout=settings.request_timeout),
    )
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _init(args: argparse.Namespace) -> int:
    settings = Settings()
    service = build_service(settings)
    password = args.admin_password or (
        settings.admin_password.get_secret_value() if settings.admin_password else None
    )
    done = bootstrap(service, args.org_alias, args.org_name, args.admin_login, password)
    out = {"orgId": str(done.org_id), "userId": str(done.user_id)}
    if done.generated_password:
        out["adminPassword"] = done.generated_password  # shown once
    print(json.dumps(out))
    return 0


def _migrate(_: argparse.Namespace) -> int:
    settings = Settings()
    if not settings.is_postgres:
        print("credledger: the embedded SQLite store creates its own tables; nothing to migrate")
        return 0
    applied = migrations.apply(settings)
    print(
        f"credledger: applied {len(applied)} migration(s)"
        + (f": {', '.join(applied)}" if applied else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
