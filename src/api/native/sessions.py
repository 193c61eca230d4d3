"""POST /v1/sessions (login) and DELETE /v1/sessions/current (logout)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import (
    HASHING_ADMISSION,
    ActorDep,
    LimiterDep,
    NativeContextDep,
    ServiceDep,
    limit_by_login,
)
from api.native.schemas import SessionIn, SessionOut
from api.timefmt import rfc3339

router = APIRouter(prefix="/v1", tags=["native"])


@router.post("/sessions", status_code=201, dependencies=[HASHING_ADMISSION])
def start_session(
    body: SessionIn,
    request: Request,
    service: ServiceDep,
    limiter: LimiterDep,
    ctx: NativeContextDep,
) -> SessionOut:
    """Log in with `loginName` (`user@alias`, or a bare username in the default org)."""
    limit_by_login(limiter, request, service, body.login_name)
    grant = service.start_session(body.login_name, body.password, ctx)
    return SessionOut(
        session_id=grant.session_id,
        token=grant.token,
        expires_at=rfc3339(grant.expires_at) or "",
        user_id=str(grant.user_id),
        org_id=str(grant.org_id),
        change_required=grant.change_required,
    )


@router.delete("/sessions/current", status_code=204)
def end_session(actor: ActorDep, service: ServiceDep, ctx: NativeContextDep) -> Response:
    service.end_session(actor, ctx)
    return Response(status_code=204)
