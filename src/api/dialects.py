"""Routing of errors to the dialect that owns the path, and the app-wide handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.problems import Problem, problem_from
from domain.errors import DomainError

Renderer = Callable[[Problem], Response]


@dataclass(frozen=True)
class Dialect:
    name: str
    prefixes: tuple[str, ...]
    render: Renderer


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
        return registry.for_path(request.url.path).render(problem_from(exc))

    for exc_type in (DomainError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(exc_type, handle)


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
