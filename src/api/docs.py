"""`/docs` and `/redoc` that work without internet access.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so an operator on a closed network
gets a blank page. `fastapi-offline` ships the same assets (Swagger UI 5, which renders
OpenAPI 3.1, ReDoc 2, a favicon) inside the Python package, and serves them from the app.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

ASSETS = "/docs/assets"
# Swagger UI would send the document to validator.swagger.io for its badge: never from here.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def documented_app(**settings: Any) -> FastAPI:
    """A FastAPI app whose /docs and /redoc reference only URLs of this server."""
    return FastAPIOffline(
        static_url=ASSETS, swagger_ui_parameters=SWAGGER_UI_PARAMETERS, **settings
    )
