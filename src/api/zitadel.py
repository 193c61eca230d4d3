"""ZITADEL v2 user service: SetPassword, PasswordReset, GetUserByID, UnlockUser (CONTRACTS §3.5).

REST routes live here; `zitadel_connect` serves the same operations over Connect. Both call
the operations below and share one error table.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import JSONResponse, Response

from api.deps import (
    HASHING_ADMISSION,
    LimiterDep,
    ReadsDep,
    ServiceDep,
    bearer_token,
    client_metadata,
    limit_by_user,
)
from api.dialects import Dialect, Outcome, outcome_for
from api.problems import Problem
from api.replies import json_reply
from api.timefmt import rfc3339
from domain.errors import (
    AuthenticationRequired,
    Forbidden,
    InvalidArgument,
    InvalidCurrentPassword,
)
from service.context import Actor, RequestContext
from service.credentials import CredentialService
from service.reads import ReadService
from service.results import Details

# (gRPC code, HTTP status, error id, message)
VALIDATION = Outcome(400, "3:VALIDATION-1", "Errors.Invalid.Argument")
UNEXPECTED = Outcome(500, "13:INTERNAL-1", "Errors.Internal")
CODES: dict[str, Outcome] = {
    "invalid_request": VALIDATION,
    "current_password_required": VALIDATION,
    "request_too_large": VALIDATION,
    "password_policy": VALIDATION,  # refined per rule below
    "invalid_current_password": Outcome(400, "3:COMMAND-3M0fs", "Errors.User.Password.Invalid"),
    "invalid_credentials": Outcome(400, "3:COMMAND-3M0fs", "Errors.User.Password.Invalid"),
    "reset_code_invalid": Outcome(400, "3:CODE-woT0xc", "Errors.User.Code.Invalid"),
    "reset_code_expired": Outcome(400, "9:CODE-QvUQ4P", "Errors.User.Code.Expired"),
    "reset_not_pending": Outcome(400, "9:COMMAND-2M9fs", "Errors.User.Code.NotFound"),
    "reset_token_invalid": Outcome(400, "3:CODE-woT0xc", "Errors.User.Code.Invalid"),
    "reset_token_expired": Outcome(400, "9:CODE-QvUQ4P", "Errors.User.Code.Expired"),
    "reset_token_user_gone": Outcome(404, "5:COMMAND-SAF4f", "Errors.User.NotFound"),
    "account_locked": Outcome(400, "9:COMMAND-JLK35", "Errors.User.Locked"),
    "authentication_required": Outcome(401, "16:AUTH-7fs1e", "Errors.Token.Invalid"),
    "session_invalid": Outcome(401, "16:AUTH-7fs1e", "Errors.Token.Invalid"),
    "forbidden": Outcome(403, "7:AUTH-AWfge", "Errors.PermissionDenied"),
    "user_not_found": Outcome(404, "5:COMMAND-SAF4f", "Errors.User.NotFound"),
    "org_not_found": Outcome(404, "5:COMMAND-SAF4f", "Errors.User.NotFound"),
    "route_not_found": Outcome(404, "5:NOT-FOUND-1", "Errors.NotFound"),
    "method_not_allowed": Outcome(405, "12:METHOD-1", "Errors.Unimplemented"),
    "alias_taken": Outcome(409, "6:COMMAND-ALIAS", "Errors.AlreadyExists"),
    "username_taken": Outcome(409, "6:COMMAND-USER", "Errors.AlreadyExists"),
    "already_initialized": Outcome(400, "9:COMMAND-INIT", "Errors.AlreadyExists"),
    "rate_limited": Outcome(429, "8:RATE-1", "Errors.ResourceExhausted"),
    "overloaded": Outcome(429, "8:RATE-1", "Errors.ResourceExhausted"),  # its rate-limit row
    "concurrent_update": Outcome(409, "10:COMMAND-RETRY", "Errors.Aborted"),
    "store_unavailable": Outcome(503, "14:UNAVAILABLE-1", "Errors.Unavailable"),
    "ledger_entry_not_found": Outcome(404, "5:NOT-FOUND-1", "Errors.NotFound"),
    "ledger_inconsistent": Outcome(503, "14:UNAVAILABLE-1", "Errors.Unavailable"),
    "internal": UNEXPECTED,
}
COMPLEXITY = "Errors.User.PasswordComplexityPolicy."
RULES: dict[str, Outcome] = {
    "too_short": Outcome(400, "3:DOMAIN-HuJf6", COMPLEXITY + "MinLength"),
    "missing_lowercase": Outcome(400, "3:DOMAIN-co3Xw", COMPLEXITY + "HasLower"),
    "missing_uppercase": Outcome(400, "3:DOMAIN-VoaRj", COMPLEXITY + "HasUpper"),
    "missing_digit": Outcome(400, "3:DOMAIN-ZBv4H", COMPLEXITY + "HasNumber"),
    "missing_symbol": Outcome(400, "3:DOMAIN-ZDLwA", COMPLEXITY + "HasSymbol"),
    "common": Outcome(400, "3:DOMAIN-Blk01", "Errors.User.Password.Common"),
    "contains_identity": Outcome(400, "3:DOMAIN-Idn01", "Errors.User.Password.ContainsIdentity"),
    "too_long": Outcome(400, "3:DOMAIN-Len02", COMPLEXITY + "MaxLength"),
    "same_as_current": Outcome(400, "9:COMMAND-Aesh5", "Errors.User.Password.NotChanged"),
    "reused": Outcome(400, "3:COMMAND-PwReuse", "Errors.User.Password.Reused"),
}  # fmt: skip
GRPC_NAMES = {
    3: "invalid_argument", 5: "not_found", 6: "already_exists", 7: "permission_denied",
    8: "resource_exhausted", 9: "failed_precondition", 10: "aborted", 12: "unimplemented",
    13: "internal", 14: "unavailable", 16: "unauthenticated",
}  # fmt: skip


def zitadel_error(problem: Problem) -> tuple[int, int, str, str]:
    """(HTTP status, gRPC code, error id, message) for a problem."""
    outcome = outcome_for(problem, CODES, RULES)
    grpc, error_id = str(outcome.code).split(":", 1)
    return outcome.status, int(grpc), error_id, outcome.message or problem.message


def render(problem: Problem) -> Response:
    status, grpc, error_id, message = zitadel_error(problem)
    body = {
        "code": grpc,
        "message": f"{message} ({error_id})",
        "details": [
            {"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": error_id,
             "message": message}
        ],
    }  # fmt: skip
    return JSONResponse(body, status, headers=problem.headers)


class ErrorDetail(BaseModel):
    type_: str = Field(alias="@type")
    id: str
    message: str


class ZitadelError(BaseModel):
    """The gRPC-gateway status body."""

    code: int
    message: str
    details: list[ErrorDetail]


PREFIX = "/v2"
DIALECT = Dialect("zitadel", (PREFIX,), render, ZitadelError)
router = APIRouter(prefix=PREFIX, tags=["zitadel"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class NewPassword(Strict):
    password: str = Field(min_length=1, max_length=200)
    changeRequired: bool = False


class SetPasswordIn(Strict):
    newPassword: NewPassword
    currentPassword: str | None = Field(default=None, min_length=1, max_length=200)
    verificationCode: str | None = Field(default=None, min_length=1, max_length=20)

    @model_validator(mode="after")
    def one_verification(self) -> SetPasswordIn:
        if self.currentPassword is not None and self.verificationCode is not None:
            raise ValueError("give currentPassword or verificationCode, not both")
        return self


class SendLink(Strict):
    notificationType: str | None = None
    urlTemplate: str | None = Field(default=None, max_length=2048)


class PasswordResetIn(Strict):
    sendLink: SendLink | None = None
    returnCode: dict[str, Any] | None = None

    @model_validator(mode="after")
    def one_medium(self) -> PasswordResetIn:
        if self.sendLink is not None and self.returnCode is not None:
            raise ValueError("give sendLink or returnCode, not both")
        return self


class DetailsOut(BaseModel):
    sequence: str
    changeDate: str
    resourceOwner: str


class DetailsReply(BaseModel):
    details: DetailsOut


class PasswordResetOut(BaseModel):
    details: DetailsOut
    verificationCode: str | None = None


def details_out(details: Details) -> DetailsOut:
    return DetailsOut(
        sequence=str(details.sequence),
        changeDate=rfc3339(details.change_date) or "",
        resourceOwner=str(details.resource_owner),
    )


async def zitadel_context(request: Request) -> RequestContext:
    return RequestContext("zitadel", client_metadata(request))


def optional_caller(request: Request, service: ServiceDep) -> Actor | None:
    token = bearer_token(request)
    return service.authenticate(token) if token else None


def _user_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise InvalidArgument("userId", "is not a valid id") from None


# --- operations shared with the Connect paths ---


def set_password(
    service: CredentialService,
    caller: Actor | None,
    user_id: UUID,
    body: SetPasswordIn,
    ctx: RequestContext,
) -> DetailsReply:
    new = body.newPassword
    if body.verificationCode is not None:
        details = service.complete_reset_with_code(
            user_id, body.verificationCode, new.password, ctx, new.changeRequired
        )
        return DetailsReply(details=details_out(details))
    if caller is None:
        raise AuthenticationRequired()
    if body.currentPassword is not None:
        if caller.user_id != user_id:
            service.user_for_admin(caller, user_id)
        details = service.change_own_password(
            service.user_finder(user_id), body.currentPassword, new.password,
            new.changeRequired, ctx, kept_session_id=caller.session_id,
            wrong=InvalidCurrentPassword,
        )  # fmt: skip
        return DetailsReply(details=details_out(details))
    if caller.user_id == user_id:
        raise Forbidden()  # never the user themself without a verification
    details = service.set_password(caller, user_id, new.password, new.changeRequired, ctx)
    return DetailsReply(details=details_out(details))


def password_reset(
    service: CredentialService,
    caller: Actor,
    user_id: UUID,
    body: PasswordResetIn,
    ctx: RequestContext,
) -> PasswordResetOut:
    if body.returnCode is not None:
        grant = service.request_reset(caller, user_id, "return", ctx, allow_self=True)
        return PasswordResetOut(details=details_out(grant.details), verificationCode=grant.code)
    template = body.sendLink.urlTemplate if body.sendLink else None
    grant = service.request_reset(
        caller, user_id, "email", ctx, allow_self=True, link_template=template
    )
    return PasswordResetOut(details=details_out(grant.details))


def get_user(reads: ReadService, caller: Actor, user_id: UUID) -> dict[str, Any]:
    user = reads.get_user(caller, user_id)
    return {
        "details": details_out(user.details).model_dump(),
        "user": {
            "userId": str(user.user_id),
            "username": user.username,
            "loginNames": [user.login_name],
            "state": "USER_STATE_LOCKED" if user.locked else "USER_STATE_ACTIVE",
            "human": {
                "passwordChanged": rfc3339(user.password_changed_at),
                "passwordChangeRequired": user.change_required,
            },
        },
    }


def unlock(
    service: CredentialService, caller: Actor, user_id: UUID, ctx: RequestContext
) -> DetailsReply:
    return DetailsReply(details=details_out(service.unlock(caller, user_id, ctx)))


# --- REST routes ---

Caller = Annotated[Actor | None, Depends(optional_caller)]
Ctx = Annotated[RequestContext, Depends(zitadel_context)]


def _required(caller: Actor | None) -> Actor:
    if caller is None:
        raise AuthenticationRequired()
    return caller


@router.post(
    "/users/{user_id}/password",
    summary="SetPassword",
    dependencies=[HASHING_ADMISSION],
)
def rest_set_password(
    user_id: str,
    body: SetPasswordIn,
    caller: Caller,
    ctx: Ctx,
    service: ServiceDep,
    limiter: LimiterDep,
    request: Request,
) -> DetailsReply:
    user = _user_id(user_id)
    limit_by_user(limiter, request, user)
    return set_password(service, caller, user, body, ctx)


@router.post("/users/{user_id}/password_reset", summary="PasswordReset")
def rest_password_reset(
    user_id: str,
    body: PasswordResetIn,
    caller: Caller,
    ctx: Ctx,
    service: ServiceDep,
) -> PasswordResetOut:
    return password_reset(service, _required(caller), _user_id(user_id), body, ctx)


@router.get("/users/{user_id}", summary="GetUserByID", response_model=dict[str, Any])
def rest_get_user(user_id: str, request: Request, service: ServiceDep, reads: ReadsDep) -> Response:
    caller = optional_caller(request, service)  # in this thread: see api.deps
    return json_reply(get_user(reads, _required(caller), _user_id(user_id)))


@router.post("/users/{user_id}/unlock", summary="UnlockUser")
def rest_unlock(user_id: str, caller: Caller, ctx: Ctx, service: ServiceDep) -> DetailsReply:
    return unlock(service, _required(caller), _user_id(user_id), ctx)
