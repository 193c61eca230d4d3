"""The single normaliser: any exception → a dialect-neutral `Problem`.

Dialect renderers turn a `Problem` into their own status and body; this is the only place
exceptions become data.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from domain import errors
from domain.errors import DomainError, Kind, all_domain_errors
from domain.policy import RULE_ORDER

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
    http_headers: dict[str, str] = field(default_factory=dict)  # the framework's, e.g. `Allow`

    @property
    def headers(self) -> dict[str, str]:
        """What every dialect sends along: `Retry-After` for rate limits and overload, and the
        framework's own headers (a 405's `Allow`, which RFC 9110 requires)."""
        retry = {"Retry-After": str(self.retry_after)} if self.retry_after else {}
        return {**self.http_headers, **retry}

    def explanation(self) -> str | None:
        """The violated rules or the field issues, in words; None when there are neither."""
        if self.violations:
            return "Violated rules: " + ", ".join(self.violations)
        if self.field_issues:
            return "; ".join(f"{i.field}: {i.message}" for i in self.field_issues)
        return None


# Problems that do not come from the domain; every dialect maps these too.
INVALID_REQUEST = Problem(
    Kind.INVALID_ARGUMENT, "invalid_request", "The request is malformed or invalid"
)
ROUTE_NOT_FOUND = Problem(Kind.NOT_FOUND, "route_not_found", "No such route", http_status=404)
METHOD_NOT_ALLOWED = Problem(
    Kind.INVALID_ARGUMENT, "method_not_allowed", "Method not allowed", http_status=405
)
REQUEST_TOO_LARGE = Problem(
    Kind.INVALID_ARGUMENT, "request_too_large", "Request body too large", http_status=413
)
# Seconds a client is asked to wait when the database is unreachable: the pools probe it
# twice a second, so a server that is back serves again within that.
STORE_RETRY_AFTER_SECONDS = 2
STORE_UNAVAILABLE = Problem(
    Kind.UNAVAILABLE,
    "store_unavailable",
    "The credential store is unavailable",
    retry_after=STORE_RETRY_AFTER_SECONDS,
)
# Every way the database can fail a request without its being the request's fault: the event
# store's errors (the library's), and psycopg's from the read store, data keys, rate limits
# (a refused or broken connection, no pooled connection in time, a statement timeout).
STORE_FAILURES = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
INTERNAL = Problem(Kind.INTERNAL, "internal", "Unexpected error")
FRAMEWORK_PROBLEMS = (
    INVALID_REQUEST,
    ROUTE_NOT_FOUND,
    METHOD_NOT_ALLOWED,
    REQUEST_TOO_LARGE,
    STORE_UNAVAILABLE,
    INTERNAL,
)
FRAMEWORK_CODES = tuple(problem.code for problem in FRAMEWORK_PROBLEMS)


def all_problem_codes() -> set[str]:
    return {cls.code for cls in all_domain_errors()} | set(FRAMEWORK_CODES)


def catalogue() -> list[Problem]:
    """One problem for every way a request can fail: each domain error, each policy rule,
    each framework failure. Rendering them through a dialect lists every answer it gives,
    which is how the OpenAPI document learns them (never by hand, so it cannot drift)."""
    problems = [
        Problem(cls.kind, cls.code, cls.message, retry_after=_sample_retry(cls))
        for cls in all_domain_errors()
        if cls.code != "password_policy"
    ]
    policy = errors.PasswordPolicyViolation.kind, errors.PasswordPolicyViolation.code
    problems += [Problem(*policy, f"Violated: {rule}", violations=[rule]) for rule in RULE_ORDER]
    allow = {"Allow": "GET"}  # a 405 names the methods the path has
    return problems + [
        replace(p, http_headers=allow) if p is METHOD_NOT_ALLOWED else p for p in FRAMEWORK_PROBLEMS
    ]


def _sample_retry(cls: type[DomainError]) -> int | None:
    """Errors that carry a `Retry-After` (rate limits, overload) say so in their signature."""
    return 1 if "retry_after_seconds" in inspect.signature(cls.__init__).parameters else None


def problem_from(exc: Exception) -> Problem:
    if isinstance(exc, DomainError):
        return _from_domain(exc)
    if isinstance(exc, RequestValidationError):
        return replace(INVALID_REQUEST, field_issues=[_issue(e) for e in exc.errors()])
    if isinstance(exc, HTTPException):
        return _from_http(exc)
    if isinstance(exc, STORE_FAILURES):
        log.error("store unavailable: %s", type(exc).__name__)  # no message: it may name hosts
        return STORE_UNAVAILABLE
    log.error("unexpected error", exc_info=exc)
    return INTERNAL


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
    headers = dict(exc.headers or {})
    known = {p.http_status: p for p in (ROUTE_NOT_FOUND, METHOD_NOT_ALLOWED, REQUEST_TOO_LARGE)}
    if exc.status_code in known:
        return replace(known[exc.status_code], http_headers=headers)
    return replace(
        INVALID_REQUEST, message=str(exc.detail), http_status=exc.status_code, http_headers=headers
    )


def _issue(error: dict[str, object]) -> FieldIssue:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]  # type: ignore[union-attr]
    name = ".".join(location) or "body"
    if error.get("type") == "json_invalid":
        return FieldIssue("body", "is not valid JSON")
    return FieldIssue(name, str(error.get("msg", "is invalid")))
