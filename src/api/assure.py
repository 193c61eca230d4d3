"""Oracle Communications Unified Assurance `executeChangePassword` (CONTRACTS §3.2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import JSONResponse, Response

from api.deps import (
    HASHING_ADMISSION,
    LimiterDep,
    NativeContextDep,
    ServiceDep,
    limit_by_login,
)
from api.dialects import Dialect, Outcome, outcome_for
from api.problems import Problem
from domain.errors import InvalidArgument, InvalidCredentials
from domain.user import User
from service.context import ADMIN, AUDITOR, INSTANCE_ADMIN, RequestContext

NO_EXPIRY = 2147483647  # the seed's value for "never expires"
GROUPS = ((INSTANCE_ADMIN, 1), (ADMIN, 2), (AUDITOR, 3))
PLAIN_USER_GROUP = 4
WRONG_LOGIN = "Invalid username or password"

BAD_REQUEST = Outcome(400, "validation")
CODES: dict[str, Outcome] = {
    **dict.fromkeys(
        (
            "invalid_request", "password_policy", "current_password_required", "request_too_large",
            "reset_not_pending", "reset_code_invalid", "reset_code_expired", "reset_token_invalid",
            "reset_token_expired", "alias_taken", "username_taken", "already_initialized",
        ),
        BAD_REQUEST,
    ),
    **dict.fromkeys(
        (
            "invalid_credentials", "invalid_current_password", "authentication_required",
            "session_invalid", "user_not_found", "reset_token_user_gone",
        ),
        Outcome(401, "unauthorized", WRONG_LOGIN),
    ),
    "org_not_found": Outcome(401, "unauthorized", WRONG_LOGIN),
    "account_locked": Outcome(403, "locked", "The account is locked"),
    "forbidden": Outcome(403, "forbidden"),
    "route_not_found": Outcome(404, "not_found", "Not found"),
    "method_not_allowed": Outcome(405, "method_not_allowed", "Method not allowed"),
    "rate_limited": Outcome(429, "rate_limited", "Too many requests"),
    "overloaded": Outcome(429, "rate_limited", "Too many requests"),  # its rate-limit row
    "concurrent_update": Outcome(500, "internal", "Unexpected error"),
    "store_unavailable": Outcome(500, "internal", "Unexpected error"),
    "ledger_entry_not_found": Outcome(404, "not_found", "Not found"),
    "ledger_inconsistent": Outcome(500, "internal", "Unexpected error"),
    "internal": Outcome(500, "internal", "Unexpected error"),
}  # fmt: skip
FIELDS = {  # our field names → the record fields of the seed
    "Username": "Username", "OldPassword": "OldPassword", "NewPassword": "NewPassword",
    "RepeatNewPassword": "RepeatNewPassword", "body": "body",
}  # fmt: skip


class AssureFailure(BaseModel):
    success: bool = False
    message: str
    errors: list[dict[str, str]]


def render(problem: Problem) -> Response:
    outcome = outcome_for(problem, CODES)
    if problem.violations:
        errors = [
            {"NewPassword": f"violates the password policy: {rule}"} for rule in problem.violations
        ]
    else:
        errors = [{FIELDS.get(i.field, i.field): i.message} for i in problem.field_issues]
    body = AssureFailure(message=outcome.message or problem.message, errors=errors)
    return JSONResponse(body.model_dump(), outcome.status, headers=problem.headers)


PREFIX = "/api/core"
DIALECT = Dialect("assure", (PREFIX,), render, AssureFailure)
router = APIRouter(prefix=PREFIX, tags=["assure"])


class ChangePasswordIn(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    Username: str
    OldPassword: str
    NewPassword: str
    RepeatNewPassword: str


class SessionInfoRead(BaseModel):
    UserID: int
    UserGroupID: int
    Username: str
    PasswordExpiration: int
    SamlUser: bool
    Permissions: dict[str, Any]
    PermissionIDs: dict[str, Any]
    Preferences: dict[str, Any]
    Properties: dict[str, Any]
    Locale: str
    TZ: str
    ThemeDir: str
    EmailAddress: str
    FullName: str
    SupportPassword: str = ""  # never a support password


class ChangePasswordOut(BaseModel):
    success: bool = True
    message: str = "Password changed"
    data: list[SessionInfoRead]


@router.post(
    "/ChangePassword/executeChangePassword",
    summary="executeChangePassword",
    dependencies=[HASHING_ADMISSION],
)
def execute_change_password(
    body: ChangePasswordIn,
    service: ServiceDep,
    native: NativeContextDep,
    limiter: LimiterDep,
    request: Request,
) -> ChangePasswordOut:
    """`Username` (a login name) and `OldPassword` authenticate: no session needed."""
    limit_by_login(limiter, request, service, body.Username)
    if body.NewPassword != body.RepeatNewPassword:
        raise InvalidArgument("RepeatNewPassword", "does not match NewPassword")
    ctx = RequestContext("assure", native.client)
    service.change_own_password(
        service.login_name_finder(body.Username),
        body.OldPassword,
        body.NewPassword,
        False,
        ctx,
        wrong=InvalidCredentials,
    )
    user = service.user_by_login_name(body.Username)
    if user is None:  # removed meanwhile
        raise InvalidCredentials()
    return ChangePasswordOut(data=[_session_info(user, service.login_name(user))])


def _session_info(user: User, login_name: str) -> SessionInfoRead:
    group = next((g for role, g in GROUPS if role in user.roles), PLAIN_USER_GROUP)
    return SessionInfoRead(
        UserID=user.numeric_id,
        UserGroupID=group,
        Username=login_name,
        PasswordExpiration=NO_EXPIRY,
        SamlUser=False,
        Permissions={},
        PermissionIDs={},
        Preferences={},
        Properties={},
        Locale="en_US",
        TZ="UTC",
        ThemeDir="",
        EmailAddress=user.email or "",
        FullName=user.full_name or "",
    )
