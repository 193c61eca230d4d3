"""`credledger serve | init | migrate`."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from credledger import ledger_commands, migrations, operations
from credledger.bootstrap import bootstrap
from credledger.settings import Settings
from credledger.wiring import ConfigurationError, build_runtime, build_service
from domain.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="credledger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server (bootstraps a fresh store)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    init = commands.add_parser("init", help="bootstrap the instance without serving")
    init.add_argument("--org-alias", required=True)
    init.add_argument("--org-name", required=True)
    init.add_argument("--admin-login", required=True)
    init.add_argument("--admin-password")
    commands.add_parser("migrate", help="apply migrations/ to the configured PostgreSQL")
    operations.add_commands(commands)
    ledger_commands.add_commands(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        simple = {
            "serve": _serve,
            "init": _init,
            "migrate": _migrate,
            "ledger": ledger_commands.run,
        }
        return simple.get(args.command, operations.run)(args)
    except (ConfigurationError, DomainError, ValueError) as error:
        print(f"credledger: {error}", file=sys.stderr)
        return 2 if isinstance(error, ConfigurationError) else 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.ratelimit import RateLimiter

    settings = Settings()
    runtime = build_runtime(settings)
    service = runtime.service
    if service.instance() is None:
        password = settings.admin_password.get_secret_value() if settings.admin_password else None
        done = bootstrap(service, admin_password=password)
        print(
            f"credledger: created organization 'default' and instance admin 'admin' "
            f"(org {done.org_id})"
        )
        if done.generated_password:
            print(f"credledger: admin password (shown once): {done.generated_password}", flush=True)
    limiter = RateLimiter(settings.rate_limit_per_minute)
    app = create_app(service, runtime.reads, limiter, runtime.ledger)
    worker = runtime.worker() if settings.projections == "inprocess" else None
    if worker is not None:
        worker.start()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    finally:
        if worker is not None:
            worker.stop()
        runtime.close()
    return 0


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
