"""`POST /v1/password-reset-requests`: anyone may ask for a reset mail for a login name."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.responses import JSONResponse

from api.deps import LimiterDep, NativeContextDep, ServiceDep, limit_by_login
from api.native.schemas import Body

router = APIRouter(prefix="/v1", tags=["native"])


class ResetRequestIn(Body):
    login_name: str = Field(min_length=1, max_length=300)


@router.post("/password-reset-requests", status_code=202, response_model=dict[str, str])
def request_password_reset(
    body: ResetRequestIn,
    request: Request,
    service: ServiceDep,
    limiter: LimiterDep,
    ctx: NativeContextDep,
) -> JSONResponse:
    """Always 202 `{}`, in the same time whether or not the login name exists. When it
    names a user with an email and no reset is pending, a mail with a link to this server's
    reset page follows; a pending reset (an admin's included) is never replaced."""
    limit_by_login(limiter, request, service, body.login_name)
    service.request_reset_anonymously(body.login_name, ctx)
    return JSONResponse({}, status_code=202)
