"""Organizations, their password policy, and user registration inside them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Body

from api.deps import ActorDep, NativeContextDep, ReadsDep, ServiceDep
from api.native.schemas import (
    CreatedOrgOut,
    CreatedUserOut,
    DetailsOut,
    DetailsReply,
    OrgIn,
    OrgOut,
    UserIn,
)
from domain.policy import PasswordPolicy

router = APIRouter(prefix="/v1/orgs", tags=["native"])


@router.post("", status_code=201)
def register_org(
    body: OrgIn, actor: ActorDep, service: ServiceDep, ctx: NativeContextDep
) -> CreatedOrgOut:
    policy = PasswordPolicy.from_camel(body.password_policy) if body.password_policy else None
    created = service.register_org(actor, body.name, body.alias, policy, ctx)
    return CreatedOrgOut(org_id=str(created.id), details=DetailsOut.of(created.details))


@router.get("/{org_id}")
def get_org(org_id: UUID, actor: ActorDep, reads: ReadsDep) -> OrgOut:
    org = reads.get_org(actor, org_id)
    return OrgOut(
        org_id=str(org.org_id),
        name=org.name,
        alias=org.alias,
        password_policy=org.password_policy,
        details=DetailsOut.of(org.details),
    )


@router.put("/{org_id}/password-policy")
def update_policy(
    org_id: UUID,
    actor: ActorDep,
    service: ServiceDep,
    ctx: NativeContextDep,
    policy: dict[str, Any] = Body(  # noqa: B008 - FastAPI's way to declare a free-form body
        examples=[{"minLength": 12, "requireDigit": True, "maxFailedAttempts": 5}]
    ),
) -> DetailsReply:
    """Replaces the whole policy; omitted fields take the defaults."""
    details = service.update_policy(actor, org_id, PasswordPolicy.from_camel(policy), ctx)
    return DetailsReply(details=DetailsOut.of(details))


@router.post("/{org_id}/users", status_code=201)
def register_user(
    org_id: UUID, body: UserIn, actor: ActorDep, service: ServiceDep, ctx: NativeContextDep
) -> CreatedUserOut:
    created = service.register_user(
        actor,
        org_id,
        body.username,
        body.password,
        body.email,
        body.full_name,
        list(body.roles),
        body.change_required,
        ctx,
    )
    return CreatedUserOut(user_id=str(created.id), details=DetailsOut.of(created.details))
