"""Import of existing users with their hashes, and what is left to upgrade (CONTRACTS §7)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from api.deps import ActorDep, NativeContextDep, ReadsDep, ServiceDep
from api.native.schemas import Body

MAX_IMPORT_ROWS = 1000
MAX_IMPORT_BYTES = 1024 * 1024  # the body limit of this route (api.limits)
IMPORT_PATH = "/v1/orgs/{org_id}/users:import"

router = APIRouter(tags=["native"])


class ImportIn(Body):
    # Rows stay free-form here: the service refuses a bad row with its index and reason
    # and imports the rest, where a schema would refuse the whole request.
    users: list[Any] = Field(max_length=MAX_IMPORT_ROWS)


class ImportedOut(Body):
    index: int
    user_id: str


class RefusedOut(Body):
    index: int
    code: str
    message: str


class ImportOut(Body):
    imported: list[ImportedOut]
    refused: list[RefusedOut]


class ImportReportOut(Body):
    org_id: str
    schemes: dict[str, int]  # scheme -> users still carrying an imported hash of it
    total: int


@router.post(IMPORT_PATH)
def import_users(
    org_id: UUID, body: ImportIn, actor: ActorDep, service: ServiceDep, ctx: NativeContextDep
) -> ImportOut:
    """Up to 1000 users a call (a body of at most 1 MiB), each with `username`,
    `passwordHash` and optional `email`, `fullName`, `roles`, `changeRequired`."""
    result = service.import_users(actor, org_id, body.users, ctx)
    return ImportOut(
        imported=[ImportedOut(index=i, user_id=str(u)) for i, u in result.imported],
        refused=[RefusedOut(index=r.index, code=r.code, message=r.message) for r in result.refused],
    )


@router.get("/v1/orgs/{org_id}/import-report")
def import_report(org_id: UUID, actor: ActorDep, reads: ReadsDep) -> ImportReportOut:
    schemes = reads.import_report(actor, org_id)
    return ImportReportOut(org_id=str(org_id), schemes=schemes, total=sum(schemes.values()))
