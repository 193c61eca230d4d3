"""Routing of errors to the dialect that owns the path, and the app-wide handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from api.problems import STORE_FAILURES, Problem, problem_from
from domain.errors import DomainError

Renderer = Callable[[Problem], Response]
CANDIDATE_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


@dataclass(frozen=True)
class Dialect:
    name: str
    prefixes: tuple[str, ...]
    render: Renderer
    shape: type[BaseModel]  # the error body `render` writes, for the OpenAPI document


class DialectRegistry:
    def __init__(self, default: Dialect) -> None:
        self.default = default
        self.dialects: list[Dialect] = [default]

    def add(self, dialect: Dialect) -> None:
        self.dialects.append(dialect)

    def for_path(self, path: str) -> Dialect:
        for dialect in self.dialects:
            if any(path == p or path.startswith(p.rstrip("/") + "/") for p in dialect.prefixes):
                return dialect
        return self.default


def install_error_handlers(app: FastAPI, registry: DialectRegistry) -> None:
    """Every failure, under any prefix, is rendered in that prefix's dialect."""

    async def handle(request: Request, exc: Exception) -> Response:
        problem = problem_from(exc)
        if problem.http_status == 405:
            allow = {"Allow": ", ".join(allowed_methods(request))}
            problem = replace(problem, http_headers={**problem.http_headers, **allow})
        return registry.for_path(request.url.path).render(problem)

    # Store failures by name: a handler for `Exception` answers from Starlette's outermost
    # middleware, which then re-raises, so an outage would log a traceback per request.
    for exc_type in (DomainError, RequestValidationError, HTTPException, *STORE_FAILURES):
        app.add_exception_handler(exc_type, handle)
    app.add_exception_handler(Exception, handle)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path. Starlette's own 405 names only the first
    route that matched the path (`GET` where `GET` and `DELETE` share one), and RFC 9110 wants
    them all. Asked through `matches`, the router's own protocol, so included routers count."""
    found = []
    for method in CANDIDATE_METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            found.append(method)
    return found


@dataclass(frozen=True)
class Outcome:
    """How one dialect answers one problem: HTTP status and the vendor's own code."""

    status: int
    code: str | int
    message: str | None = None  # the vendor's wording, when it has one


def outcome_for(
    problem: Problem, codes: dict[str, Outcome], rules: dict[str, Outcome] | None = None
) -> Outcome:
    """The dialect's answer: per policy rule where it has one, else per problem code."""
    if rules and problem.violations:
        return rules[problem.violations[0]]
    return codes[problem.code]
