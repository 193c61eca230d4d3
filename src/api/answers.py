"""The OpenAPI document lists every answer each operation can give.

Success answers come from the routes. Error answers come from the dialect that owns the
operation's path: every problem of `api.problems.catalogue()` (each domain error, each policy
rule, each framework failure: malformed body, 404, 405, the 413 of `api.limits`, store down,
unexpected) is rendered through that dialect's own renderer, and the statuses, media types
and headers the renderer really produced go into the document. Nothing is listed by hand per
route, so a new error or a changed mapping shows up in the document by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from api.dialects import Dialect, DialectRegistry
from api.problems import catalogue

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
SCHEMAS = "#/components/schemas/"
# Headers a problem may carry, as the document describes them.
HEADERS = {
    "Retry-After": "Seconds to wait before trying again (rate limits, overload)",
    "Allow": "The methods this path answers (RFC 9110)",
}


@dataclass
class Answer:
    """One error status of a dialect: its media types, the problems behind it, its headers."""

    media_types: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    headers: set[str] = field(default_factory=set)


def dialect_answers(dialect: Dialect) -> dict[int, Answer]:
    """Every error status `dialect` answers with, found by rendering every problem."""
    answers: dict[int, Answer] = {}
    for problem in catalogue():
        response = dialect.render(problem)
        answer = answers.setdefault(response.status_code, Answer())
        answer.media_types.add(response.headers["content-type"].split(";")[0].strip())
        answer.codes.add(problem.code)
        answer.headers |= {name for name in problem.headers if name in response.headers}
    return answers


def install(app: FastAPI, registry: DialectRegistry) -> None:
    """Completes the app's OpenAPI document with every dialect's error answers."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = complete(build(), registry)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], registry: DialectRegistry) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    # FastAPI documents a 422 `HTTPValidationError` on every route with parameters or a body;
    # no route answers with it (each dialect renders its own), so it goes.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _add_schemas(schemas, [dialect.shape for dialect in registry.dialects])
    responses_of: dict[str, dict[str, Any]] = {}
    for path, item in document.get("paths", {}).items():
        dialect = registry.for_path(path)
        if dialect.name not in responses_of:
            responses_of[dialect.name] = _responses(dialect)
        for method, operation in item.items():
            if method in METHODS:
                _merge(operation.setdefault("responses", {}), responses_of[dialect.name])
    return document


def _responses(dialect: Dialect) -> dict[str, Any]:
    """The OpenAPI `responses` entries of every error answer of one dialect."""
    reference = {"$ref": SCHEMAS + dialect.shape.__name__}
    responses: dict[str, Any] = {}
    for status, answer in sorted(dialect_answers(dialect).items()):
        entry: dict[str, Any] = {
            "description": f"{dialect.name} error: {', '.join(sorted(answer.codes))}",
            "content": {media: {"schema": reference} for media in sorted(answer.media_types)},
        }
        if answer.headers:
            entry["headers"] = {
                name: {"description": HEADERS[name], "schema": {"type": "string"}}
                for name in sorted(answer.headers)
            }
        responses[str(status)] = entry
    return responses


def _merge(responses: dict[str, Any], errors: dict[str, Any]) -> None:
    framework = responses.get("422", {})
    if "HTTPValidationError" in str(framework):
        del responses["422"]
    for status, entry in errors.items():
        if status not in responses:
            responses[status] = entry
            continue
        # A route's own answer with this status (e.g. /readyz's 503) keeps its body; the
        # dialect's media types join it.
        mine = responses[status]
        mine.setdefault("content", {})
        for media, content in entry["content"].items():
            mine["content"].setdefault(media, content)
        mine.setdefault("headers", {}).update(entry.get("headers", {}))
        if not mine["headers"]:
            del mine["headers"]


def _add_schemas(schemas: dict[str, Any], shapes: list[Any]) -> None:
    """The error shapes (and the models they use) as components, refusing a name clash."""
    _, top = models_json_schema(
        [(shape, "serialization") for shape in shapes], ref_template=SCHEMAS + "{model}"
    )
    for name, schema in top.get("$defs", {}).items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas named {name!r} in the OpenAPI document")
