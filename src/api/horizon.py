"""EVERTRUST Horizon "Set the password for a local identity" (CONTRACTS §3.4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from api.deps import (
    LimiterDep,
    ServiceDep,
    bearer_token,
    client_metadata,
    limit_by_login,
)
from api.dialects import Dialect, Outcome, outcome_for
from api.problems import Problem
from domain.errors import (
    AuthenticationRequired,
    CurrentPasswordRequired,
    Forbidden,
    InvalidCurrentPassword,
    UserNotFound,
)
from service.context import Actor, RequestContext

INVALID_REQUEST = Outcome(400, "LOCAL-ID-007", "Invalid Set Password Request")
BAD_CREDENTIALS = Outcome(401, "SEC-AUTH-002", "Invalid credentials or principal does not exist")
UNEXPECTED = Outcome(500, "LOCAL-ID-001", "Unexpected error")
CODES: dict[str, Outcome] = {
    **dict.fromkeys(
        (
            "invalid_request", "current_password_required", "invalid_current_password",
            "request_too_large", "reset_not_pending", "reset_code_invalid", "reset_code_expired",
            "reset_token_invalid", "reset_token_expired", "reset_token_user_gone", "alias_taken",
            "username_taken", "already_initialized",
        ),
        INVALID_REQUEST,
    ),
    "password_policy": Outcome(400, "LOCAL-ID-010", "Password does not match the password policy"),
    "authentication_required": Outcome(401, "SEC-AUTH-006", "Principal not authenticated"),
    "invalid_credentials": BAD_CREDENTIALS,
    "account_locked": BAD_CREDENTIALS,
    "session_invalid": Outcome(
        401, "SEC-AUTH-009", "Principal not authenticated or authentication expired"
    ),
    "forbidden": Outcome(403, "SEC-PERM-001", "Insufficient privileges"),
    "user_not_found": Outcome(404, "LOCAL-ID-003", "Local Identity not found"),
    "org_not_found": Outcome(404, "LOCAL-ID-003", "Local Identity not found"),
    "route_not_found": Outcome(404, "LOCAL-ID-002", "Not found"),
    "method_not_allowed": Outcome(405, "LOCAL-ID-008", "Method not allowed"),
    "rate_limited": Outcome(429, "SEC-RATE-001", "Too many requests"),
    "overloaded": Outcome(429, "SEC-RATE-001", "Too many requests"),  # its rate-limit row
    "concurrent_update": UNEXPECTED,
    "store_unavailable": UNEXPECTED,
    "ledger_entry_not_found": Outcome(404, "LOCAL-ID-002", "Not found"),
    "ledger_inconsistent": UNEXPECTED,
    "internal": UNEXPECTED,
}  # fmt: skip


class HorizonProblem(BaseModel):
    error: str
    message: str
    title: str
    detail: str | None
    status: int


def render(problem: Problem) -> Response:
    outcome = outcome_for(problem, CODES)
    detail = problem.explanation()
    body = HorizonProblem(
        error=str(outcome.code),
        message=outcome.message or problem.message,
        title=outcome.message or problem.message,
        detail=detail,
        status=outcome.status,
    )
    return JSONResponse(
        body.model_dump(),
        outcome.status,
        headers=problem.headers,
        media_type="application/problem+json",
    )


PREFIX = "/api/v1/security"
DIALECT = Dialect("horizon", (PREFIX,), render, HorizonProblem)
router = APIRouter(prefix=PREFIX, tags=["horizon"])


class SetPasswordIn(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    password: str = Field(min_length=1, max_length=16 * 1024)
    identifier: str | None = Field(default=None, max_length=300)
    previousPassword: str | None = Field(default=None, max_length=16 * 1024)


async def horizon_context(request: Request) -> RequestContext:
    return RequestContext("horizon", client_metadata(request))


def horizon_caller(
    request: Request,
    service: ServiceDep,
    ctx: Annotated[RequestContext, Depends(horizon_context)],
    limiter: LimiterDep,
) -> Actor:
    """X-API-ID (login name) + X-API-KEY (password) on every call, or a bearer session."""
    api_id, api_key = request.headers.get("x-api-id"), request.headers.get("x-api-key")
    if api_id and api_key:
        limit_by_login(limiter, request, service, api_id)
        # Only these calls hash, so admission is checked here rather than at the door.
        service.refuse_if_hashing_saturated()
        return service.actor_from_password(api_id, api_key, ctx)
    token = bearer_token(request)
    if token is None:
        raise AuthenticationRequired()
    return service.authenticate(token)


@router.post(
    "/identity/local/password",
    status_code=204,
    summary="Set the password for a local identity",
)
def set_local_password(
    body: SetPasswordIn,
    caller: Annotated[Actor, Depends(horizon_caller)],
    ctx: Annotated[RequestContext, Depends(horizon_context)],
    service: ServiceDep,
) -> Response:
    """Own password with `previousPassword`; another identity needs its org's admin."""
    target = service.user_by_login_name(body.identifier) if body.identifier else None
    if body.identifier is None or (target is not None and target.id == caller.user_id):
        if body.previousPassword is None:
            raise CurrentPasswordRequired()
        service.change_own_password(
            service.user_finder(caller.user_id), body.previousPassword, body.password, False,
            ctx, kept_session_id=caller.session_id, wrong=InvalidCurrentPassword,
        )  # fmt: skip
        return Response(status_code=204)
    if not (caller.is_instance_admin or "admin" in caller.roles):
        raise Forbidden()
    if target is None:
        raise UserNotFound()
    service.set_password(caller, target.id, body.password, False, ctx)
    return Response(status_code=204)
