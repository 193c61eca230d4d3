"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, Response

from api.deps import ServiceDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(service: ServiceDep) -> Response:
    """The event store answers."""
    try:
        position = service.store.recorder.max_notification_id() or 0
    except Exception:  # any store failure means "not ready", never a 500
        return JSONResponse({"status": "unavailable", "store": "unreachable"}, 503)
    return JSONResponse({"status": "ready", "position": position})


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
