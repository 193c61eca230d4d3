"""The ZITADEL operations over the Connect protocol, as ZITADEL's own SDKs call them.

Same operations and error table as the REST gateway (`api.zitadel`); only the request
envelope (`userId` in the body) and the unary error shape `{code, message}` differ.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from api.deps import HASHING_ADMISSION, LimiterDep, ReadsDep, ServiceDep, limit_by_user
from api.dialects import Dialect
from api.problems import Problem
from api.replies import json_reply
from api.zitadel import (
    GRPC_NAMES,
    Caller,
    Ctx,
    DetailsReply,
    PasswordResetIn,
    PasswordResetOut,
    SetPasswordIn,
    Strict,
    _required,
    _user_id,
    get_user,
    optional_caller,
    password_reset,
    set_password,
    unlock,
    zitadel_error,
)

SERVICE = "/zitadel.user.v2.UserService"


def render(problem: Problem) -> Response:
    if problem.code == "route_not_found":
        return JSONResponse({"code": "not_found", "message": "unknown procedure"}, 404)
    status, grpc, error_id, message = zitadel_error(problem)
    body = {"code": GRPC_NAMES.get(grpc, "unknown"), "message": f"{message} ({error_id})"}
    return JSONResponse(body, status, headers=problem.headers)


class ConnectError(BaseModel):
    """Connect's unary error: snake_case code, message ending in the error id."""

    code: str
    message: str


DIALECT = Dialect("zitadel-connect", (SERVICE,), render, ConnectError)
router = APIRouter(prefix=SERVICE, tags=["zitadel"])


class UserRef(Strict):
    userId: str = Field(min_length=1, max_length=200)


class ConnectSetPasswordIn(SetPasswordIn, UserRef):
    pass


class ConnectPasswordResetIn(PasswordResetIn, UserRef):
    pass


@router.post("/SetPassword", summary="SetPassword (Connect)", dependencies=[HASHING_ADMISSION])
def connect_set_password(
    body: ConnectSetPasswordIn,
    caller: Caller,
    ctx: Ctx,
    service: ServiceDep,
    limiter: LimiterDep,
    request: Request,
) -> DetailsReply:
    user = _user_id(body.userId)
    limit_by_user(limiter, request, user)
    return set_password(service, caller, user, body, ctx)


@router.post("/PasswordReset", summary="PasswordReset (Connect)")
def connect_password_reset(
    body: ConnectPasswordResetIn, caller: Caller, ctx: Ctx, service: ServiceDep
) -> PasswordResetOut:
    return password_reset(service, _required(caller), _user_id(body.userId), body, ctx)


@router.post("/GetUserByID", summary="GetUserByID (Connect)", response_model=dict[str, Any])
def connect_get_user(
    body: UserRef, request: Request, service: ServiceDep, reads: ReadsDep
) -> Response:
    caller = optional_caller(request, service)  # in this thread: see api.deps
    return json_reply(get_user(reads, _required(caller), _user_id(body.userId)))


@router.post("/UnlockUser", summary="UnlockUser (Connect)")
def connect_unlock(body: UserRef, caller: Caller, ctx: Ctx, service: ServiceDep) -> DetailsReply:
    return unlock(service, _required(caller), _user_id(body.userId), ctx)
