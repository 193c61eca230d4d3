"""Kendox InfoShare reset-by-token (CONTRACTS §3.3)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from api.deps import (
    HASHING_ADMISSION,
    LimiterDep,
    NativeContextDep,
    ServiceDep,
    limit_by_login,
    limit_password_attempts,
)
from api.dialects import Dialect, Outcome, outcome_for
from api.problems import Problem
from service.context import RequestContext

GENERIC = Outcome(400, 10169)
CODES: dict[str, Outcome] = {
    **dict.fromkeys(
        (
            "invalid_request", "password_policy", "current_password_required", "request_too_large",
            "invalid_current_password", "invalid_credentials", "authentication_required",
            "session_invalid", "forbidden", "alias_taken", "username_taken", "already_initialized",
            "reset_not_pending", "reset_code_invalid", "reset_code_expired", "account_locked",
            "user_not_found", "concurrent_update",
        ),
        GENERIC,
    ),
    "route_not_found": Outcome(404, 10169),
    "method_not_allowed": Outcome(405, 10169),
    "reset_token_expired": Outcome(400, 10063),
    "reset_token_invalid": Outcome(400, 10376),
    "reset_token_user_gone": Outcome(400, 10244),
    "org_not_found": Outcome(400, 10038),
    "rate_limited": Outcome(429, 10168),
    "overloaded": Outcome(429, 10168),  # its rate-limit row
    "store_unavailable": Outcome(500, 10085),
    "ledger_entry_not_found": Outcome(404, 10169),
    "ledger_inconsistent": Outcome(500, 10085),
    "internal": Outcome(500, 10085),
}  # fmt: skip
RULES: dict[str, Outcome] = {
    "too_short": Outcome(400, 10081),
    "missing_symbol": Outcome(400, 10083),
    "missing_lowercase": Outcome(400, 10084),
    "missing_uppercase": Outcome(400, 10084),
    "missing_digit": Outcome(400, 10086),
    **dict.fromkeys(
        ("too_long", "same_as_current", "reused", "common", "contains_identity"), GENERIC
    ),
}


class ServiceException(BaseModel):
    type: str = "ServiceException"
    errorCode: int
    message: str


def render(problem: Problem) -> Response:
    outcome = outcome_for(problem, CODES, RULES)
    body = ServiceException(
        errorCode=int(outcome.code), message=f"{problem.message} ({outcome.code})"
    )
    return JSONResponse(body.model_dump(), outcome.status, headers=problem.headers)


PREFIX = "/InfoShare/Json/Authentication"
DIALECT = Dialect("kendox", (PREFIX,), render, ServiceException)
router = APIRouter(prefix=PREFIX, tags=["kendox"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class InvitationIn(Strict):
    tenantName: str = Field(min_length=1, max_length=100)
    user: str = Field(min_length=1, max_length=128)
    targetURL: str = Field(min_length=1, max_length=2048)


class SetPasswordWithTokenIn(Strict):
    tenantName: str = Field(min_length=1, max_length=100)
    newPassword: str = Field(min_length=1, max_length=16 * 1024)
    token: str = Field(min_length=1, max_length=4096)


class Empty(BaseModel):
    pass


def _ctx(native: RequestContext) -> RequestContext:
    return RequestContext("kendox", native.client)


@router.post("/SendPasswordResetInvitation", dependencies=[HASHING_ADMISSION])
def send_password_reset_invitation(
    body: InvitationIn,
    service: ServiceDep,
    native: NativeContextDep,
    limiter: LimiterDep,
    request: Request,
) -> Empty:
    """Mails `targetURL` (which must lie under one of the tenant's allowed reset link
    prefixes) with `%LoginToken%` replaced; `{}` for every well-formed request, in the same
    time whether or not the tenant and user exist; a reset already pending is kept."""
    limit_by_login(limiter, request, service, f"{body.user}@{body.tenantName}")
    service.send_reset_invitation(body.tenantName, body.user, body.targetURL, _ctx(native))
    return Empty()


@router.post("/SetPasswordWithToken", dependencies=[HASHING_ADMISSION])
def set_password_with_token(
    body: SetPasswordWithTokenIn,
    service: ServiceDep,
    native: NativeContextDep,
    limiter: LimiterDep,
    request: Request,
) -> Empty:
    """Single-use signed token from the invitation; works while locked, and unlocks."""
    limit_password_attempts(limiter, request, service.reset_token_account(body.token))
    service.require_tenant(body.tenantName)
    service.complete_reset_with_token(
        body.token, body.newPassword, _ctx(native), tenant_alias=body.tenantName
    )
    return Empty()
