"""The single normaliser: any exception → a dialect-neutral `Problem`.

Dialect renderers turn a `Problem` into their own status and body; this is the only place
exceptions become data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from domain import errors
from domain.errors import DomainError, Kind

log = logging.getLogger("credledger.api")


@dataclass(frozen=True)
class FieldIssue:
    field: str
    message: str


@dataclass(frozen=True)
class Problem:
    kind: Kind
    code: str
    message: str
    violations: list[str] = field(default_factory=list)
    field_issues: list[FieldIssue] = field(default_factory=list)
    retry_after: int | None = None
    locked_until: datetime | None = None
    http_status: int | None = None  # only for framework errors (404/405/413) with no domain kind

    @property
    def retry_headers(self) -> dict[str, str] | None:
        """`Retry-After` for rate limits and overload, in every dialect."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after else None

    def explanation(self) -> str | None:
        """The violated rules or the field issues, in words; None when there are neither."""
        if self.violations:
            return "Violated rules: " + ", ".join(self.violations)
        if self.field_issues:
            return "; ".join(f"{i.field}: {i.message}" for i in self.field_issues)
        return None


# Problems that do not come from the domain; every dialect maps these too.
FRAMEWORK_CODES = (
    "invalid_request",
    "route_not_found",
    "method_not_allowed",
    "request_too_large",
    "store_unavailable",
    "internal",
)


def all_problem_codes() -> set[str]:
    from domain.errors import all_domain_errors

    return {cls.code for cls in all_domain_errors()} | set(FRAMEWORK_CODES)


def problem_from(exc: Exception) -> Problem:
    if isinstance(exc, DomainError):
        return _from_domain(exc)
    if isinstance(exc, RequestValidationError):
        return Problem(
            Kind.INVALID_ARGUMENT,
            "invalid_request",
            "The request is malformed or invalid",
            field_issues=[_issue(e) for e in exc.errors()],
        )
    if isinstance(exc, HTTPException):
        return _from_http(exc)
    if isinstance(exc, OperationalError | InterfaceError):
        log.error("event store unavailable: %s", type(exc).__name__)
        return Problem(Kind.UNAVAILABLE, "store_unavailable", "The credential store is unavailable")
    log.error("unexpected error", exc_info=exc)
    return Problem(Kind.INTERNAL, "internal", "Unexpected error")


def _from_domain(exc: DomainError) -> Problem:
    violations = exc.violations if isinstance(exc, errors.PasswordPolicyViolation) else []
    issues = (
        [FieldIssue(exc.field, exc.field_message)]
        if isinstance(exc, errors.InvalidArgument)
        else []
    )
    retry_after = getattr(exc, "retry_after_seconds", None)  # rate limited, overloaded
    locked_until = exc.locked_until if isinstance(exc, errors.AccountLocked) else None
    return Problem(exc.kind, exc.code, exc.message, violations, issues, retry_after, locked_until)


def _from_http(exc: HTTPException) -> Problem:
    if exc.status_code == 404:
        return Problem(Kind.NOT_FOUND, "route_not_found", "No such route", http_status=404)
    if exc.status_code == 405:
        return Problem(
            Kind.INVALID_ARGUMENT, "method_not_allowed", "Method not allowed", http_status=405
        )
    if exc.status_code == 413:
        return Problem(
            Kind.INVALID_ARGUMENT, "request_too_large", "Request body too large", http_status=413
        )
    return Problem(
        Kind.INVALID_ARGUMENT, "invalid_request", str(exc.detail), http_status=exc.status_code
    )


def _issue(error: dict[str, object]) -> FieldIssue:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]  # type: ignore[union-attr]
    name = ".".join(location) or "body"
    if error.get("type") == "json_invalid":
        return FieldIssue("body", "is not valid JSON")
    return FieldIssue(name, str(error.get("msg", "is invalid")))
