"""Native error shape: application/problem+json with a stable `code`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from api.problems import Problem
from api.timefmt import rfc3339
from domain.errors import Kind

KIND_STATUS = {
    Kind.INVALID_ARGUMENT: 400,
    Kind.FAILED_PRECONDITION: 400,
    Kind.NOT_FOUND: 404,
    Kind.ALREADY_EXISTS: 409,
    Kind.PERMISSION_DENIED: 403,
    Kind.UNAUTHENTICATED: 401,
    Kind.RESOURCE_EXHAUSTED: 429,
    Kind.ABORTED: 409,
    Kind.UNAVAILABLE: 503,
    Kind.INTERNAL: 500,
}
CODE_STATUS = {"account_locked": 423, "already_initialized": 409}
# Problems that are not domain errors keep their own, narrower public code.
PUBLIC_CODE = {
    "route_not_found": "not_found",
    "user_not_found": "not_found",  # one code for "missing" and "outside your reach"
    "org_not_found": "not_found",
    "ledger_entry_not_found": "not_found",
    "internal": "internal_error",
    "store_unavailable": "unavailable",  # CONTRACTS §12
}


class ProblemOut(BaseModel):
    """application/problem+json (RFC 7807) with a stable `code`."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    violations: list[str] | None = None
    errors: list[dict[str, str]] | None = None
    lockedUntil: str | None = None


def render_native(problem: Problem) -> Response:
    status = problem.http_status or CODE_STATUS.get(problem.code) or KIND_STATUS[problem.kind]
    code = PUBLIC_CODE.get(problem.code, problem.code)
    body: dict[str, Any] = {
        "type": f"urn:credledger:problem:{code}",
        "title": problem.message,
        "status": status,
        "detail": problem.explanation() or problem.message,
        "code": code,
    }
    if problem.violations:
        body["violations"] = problem.violations
    if problem.field_issues:
        body["errors"] = [{"field": i.field, "message": i.message} for i in problem.field_issues]
    if problem.locked_until is not None:
        body["lockedUntil"] = rfc3339(problem.locked_until)
    return JSONResponse(
        body, status, headers=problem.headers, media_type="application/problem+json"
    )
