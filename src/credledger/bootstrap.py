"""First start: the default organization and an instance_admin (CONTRACTS §4)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from uuid import UUID

from domain.names import split_login_name
from service.context import RequestContext
from service.credentials import CredentialService

DEFAULT_ALIAS = "default"
DEFAULT_NAME = "Default organization"
DEFAULT_ADMIN = "admin"


@dataclass(frozen=True)
class Bootstrapped:
    org_id: UUID
    user_id: UUID
    generated_password: str | None  # shown once to the operator, never stored


def bootstrap(
    service: CredentialService,
    alias: str = DEFAULT_ALIAS,
    name: str = DEFAULT_NAME,
    admin_login: str = DEFAULT_ADMIN,
    admin_password: str | None = None,
) -> Bootstrapped:
    username, login_alias = split_login_name(admin_login)
    if login_alias is not None and login_alias.lower() != alias.lower():
        raise ValueError(f"--admin-login {admin_login!r} names another org than {alias!r}")
    generated = None
    if admin_password is None:
        admin_password = generated = secrets.token_urlsafe(18)
    org_id, user_id = service.bootstrap(
        alias, name, username, admin_password, RequestContext("cli", {})
    )
    return Bootstrapped(org_id, user_id, generated)
