"""JSON bodies under the content types a vendor page lists (e.g. `text/json`).

FastAPI only parses `application/json` and `*+json`; vendors that accept more parse here,
and every failure becomes a RequestValidationError, rendered in the vendor's shape.
"""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


async def parse_json(request: Request, model: type[M], media_types: tuple[str, ...]) -> M:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not _accepted(media_type, media_types):
        raise RequestValidationError(
            [{"loc": ("header", "content-type"), "msg": f"unsupported media type {media_type!r}",
              "type": "media_type"}]
        )  # fmt: skip
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


def _accepted(media_type: str, accepted: tuple[str, ...]) -> bool:
    for pattern in accepted:
        if pattern == media_type:
            return True
        if pattern == "application/*+json" and media_type.startswith("application/"):
            if media_type.endswith("+json"):
                return True
    return False
