"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, PlainTextResponse, Response

from api.deps import ReadsDep, ServiceDep
from projections.status import oldest_unprocessed_age

# Read models may trail the event store by this much before the node reports not ready.
MAX_PROJECTION_LAG_SECONDS = 30.0

router = APIRouter(tags=["operations"])

READINESS = {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"description": "store unreachable or projections behind", "content": READINESS}
}


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses=NOT_READY)
def readyz(service: ServiceDep, reads: ReadsDep) -> Response:
    """The event store answers and the read models are caught up within a bound."""
    try:
        head = service.store.recorder.max_notification_id() or 0
        lag = oldest_unprocessed_age(reads.models.projector)
    except Exception:  # any store failure means "not ready", never a 500
        return JSONResponse({"status": "unavailable", "store": "unreachable"}, 503)
    body = {"status": "ready", "head": head, "projectionLagSeconds": round(lag, 3)}
    if lag > MAX_PROJECTION_LAG_SECONDS:
        return JSONResponse({**body, "status": "projections_behind"}, 503)
    return JSONResponse(body)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics() -> Response:
    """Prometheus text exposition format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
