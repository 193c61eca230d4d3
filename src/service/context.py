"""Who is calling and through which API: passed into every use case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

INSTANCE_ADMIN = "instance_admin"
ADMIN = "admin"
AUDITOR = "auditor"
ORG_ROLES = frozenset({ADMIN, AUDITOR})


@dataclass(frozen=True)
class RequestContext:
    """The dialect that carried the request and the client metadata auditors will see."""

    dialect: str = "native"
    client: dict[str, Any] = field(default_factory=dict)

    def audit(self, actor: str, method: str | None = None) -> dict[str, Any]:
        return {"actor": actor, "method": method, "dialect": self.dialect, "client": self.client}


@dataclass(frozen=True)
class Actor:
    """An authenticated caller."""

    user_id: UUID
    org_id: UUID
    roles: tuple[str, ...]
    session_id: str | None = None

    @property
    def is_instance_admin(self) -> bool:
        return INSTANCE_ADMIN in self.roles

    def is_admin_of(self, org_id: UUID) -> bool:
        return self.is_instance_admin or (ADMIN in self.roles and org_id == self.org_id)

    def can_audit(self, org_id: UUID) -> bool:
        return self.is_instance_admin or (
            org_id == self.org_id and (ADMIN in self.roles or AUDITOR in self.roles)
        )

    def reaches(self, org_id: UUID) -> bool:
        """Other orgs are invisible (404), not merely forbidden."""
        return self.is_instance_admin or org_id == self.org_id
