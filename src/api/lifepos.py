"""LIFE POS API v6 `SetEmployeeCredentials` (CONTRACTS §3.1)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from api.bodies import parse_json
from api.deps import (
    HASHING_ADMISSION,
    ActorDep,
    LimiterDep,
    ServiceDep,
    client_metadata,
    limit_by_user,
)
from api.dialects import Dialect, Outcome, outcome_for
from api.problems import Problem
from domain.errors import (
    Forbidden,
    InvalidArgument,
    InvalidCurrentPassword,
    OrgNotFound,
    SessionInvalid,
)
from domain.organization import Organization
from service.context import RequestContext

MEDIA_TYPES = ("application/json", "application/json-patch+json", "text/json", "application/*+json")
CLIENT_TYPES = ("Unknown", "App", "WebApp", "Service", "Android")
REQUIRED = ("x-lp-client-identifier", "x-lp-client-type")
HEADERS = {  # recorded on the event as client metadata
    "x-lp-client-identifier": "clientIdentifier",
    "x-lp-client-type": "clientType",
    "x-lp-client-name": "clientName",
    "x-lp-client-os-name": "clientOsName",
    "x-lp-client-os-version": "clientOsVersion",
    "x-lp-client-screen-resolution": "clientScreenResolution",
    "x-lp-client-model": "clientModel",
    "x-lp-organization-alias": "organizationAlias",
    "x-lp-client-extensions": "clientExtensions",
    "x-lp-client-depersonalized-extensions": "clientDepersonalizedExtensions",
    "accept-language": "language",
}

NOT_VALID = Outcome(422, "RequestIsNotValid")
CODES: dict[str, Outcome] = {
    "invalid_request": NOT_VALID,
    "password_policy": NOT_VALID,
    "current_password_required": NOT_VALID,
    "request_too_large": NOT_VALID,
    "reset_not_pending": NOT_VALID,
    "reset_code_invalid": NOT_VALID,
    "reset_code_expired": NOT_VALID,
    "reset_token_invalid": NOT_VALID,
    "reset_token_expired": NOT_VALID,
    "reset_token_user_gone": NOT_VALID,
    "authentication_required": Outcome(401, "Unauthorized"),
    "session_invalid": Outcome(401, "Unauthorized"),
    "invalid_current_password": Outcome(401, "WrongUsernameOrPassword"),
    "invalid_credentials": Outcome(401, "WrongUsernameOrPassword"),
    "forbidden": Outcome(403, "NoPermissions"),
    "user_not_found": Outcome(404, "NotFound"),
    "org_not_found": Outcome(404, "NotFound"),
    "route_not_found": Outcome(404, "NotFound"),
    "method_not_allowed": Outcome(405, "NotAllowed"),
    "alias_taken": Outcome(422, "AliasIsAlreadyTaken"),
    "username_taken": Outcome(422, "UsernameIsAlreadyTaken"),
    "already_initialized": Outcome(422, "OperationCannotBePerformed"),
    "account_locked": Outcome(429, "TryLater"),
    "rate_limited": Outcome(429, "TooManyRequests"),
    "overloaded": Outcome(429, "TooManyRequests"),  # its rate-limit row
    "concurrent_update": Outcome(500, "InternalServerError"),
    "store_unavailable": Outcome(500, "InternalServerError"),
    "ledger_entry_not_found": Outcome(404, "NotFound"),
    "ledger_inconsistent": Outcome(500, "InternalServerError"),
    "internal": Outcome(500, "InternalServerError"),
}


class LifeposError(BaseModel):
    code: str
    message: str
    info: str | None


def render(problem: Problem) -> Response:
    outcome = outcome_for(problem, CODES)
    info = problem.explanation()
    body = LifeposError(code=str(outcome.code), message=problem.message, info=info)
    return JSONResponse(body.model_dump(), outcome.status, headers=problem.headers)


DIALECT = Dialect("lifepos", ("/orgs",), render, LifeposError)
router = APIRouter(prefix="/orgs", tags=["lifepos"])


class SetCredentials(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    old_password: str = Field(min_length=6, max_length=32)
    new_password: str = Field(min_length=6, max_length=32)


class TokenReply(BaseModel):
    token: str


async def lifepos_context(request: Request) -> RequestContext:
    """Client headers, validated and kept for the auditors."""
    for required in REQUIRED:
        if not request.headers.get(required):
            raise InvalidArgument(required, "header is required")
    client = client_metadata(request)
    for header, name in HEADERS.items():
        if value := request.headers.get(header):
            client[name] = value[:512]
    if client["clientType"] not in CLIENT_TYPES:
        raise InvalidArgument("x-lp-client-type", f"must be one of {', '.join(CLIENT_TYPES)}")
    return RequestContext("lifepos", client)


def _header_parameter(header: str) -> dict[str, Any]:
    """`lifepos_context` reads the client headers itself; the document still names them.
    Values are kept up to 512 characters (longer ones are cut, not refused); a required one
    must have something besides blanks."""
    schema: dict[str, Any] = {"type": "string"}
    if header == "x-lp-client-type":
        schema["enum"] = list(CLIENT_TYPES)
    elif header in REQUIRED:
        schema["pattern"] = r"\S"
    return {"name": header, "in": "header", "required": header in REQUIRED, "schema": schema}


async def set_credentials_body(request: Request) -> SetCredentials:
    return await parse_json(request, SetCredentials, MEDIA_TYPES)


@router.post(
    "/{org_guid}/me/set-credentials",
    summary="SetEmployeeCredentials",
    dependencies=[HASHING_ADMISSION],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": SetCredentials.model_json_schema()} for t in MEDIA_TYPES},
        },
        "parameters": [_header_parameter(header) for header in HEADERS],
    },
)
def set_credentials(
    org_guid: str,
    actor: ActorDep,
    ctx: Annotated[RequestContext, Depends(lifepos_context)],
    body: Annotated[SetCredentials, Depends(set_credentials_body)],
    service: ServiceDep,
    limiter: LimiterDep,
    request: Request,
) -> TokenReply:
    """Changes the caller's password; returns a fresh token and ends the other sessions."""
    limit_by_user(limiter, request, actor.user_id)
    org_id = _org_id(org_guid)
    if org_id != actor.org_id:
        if service.load(Organization, org_id) is None:
            raise OrgNotFound()
        raise Forbidden()
    service.change_own_password(
        service.user_finder(actor.user_id),
        body.old_password,
        body.new_password,
        False,
        ctx,
        wrong=InvalidCurrentPassword,
        revoke_others=True,
    )
    user = service.live_user(actor.user_id)
    if user is None:  # removed meanwhile
        raise SessionInvalid()
    return TokenReply(token=service.issue_session(user, ctx).token)


def _org_id(org_guid: str) -> UUID:
    try:
        return UUID(org_guid)
    except ValueError:
        raise OrgNotFound() from None
