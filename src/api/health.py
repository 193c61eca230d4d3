"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, PlainTextResponse, Response

from api.deps import ReadsDep, ServiceDep
from projections.status import oldest_unprocessed_age
from service.credentials import CredentialService
from service.deadline import store_deadline
from service.reads import ReadService

# Read models may trail the event store by this much before the node reports not ready.
MAX_PROJECTION_LAG_SECONDS = 30.0
# The readiness check's own budget; the answer comes within 2 s either way (CONTRACTS §12).
READINESS_SECONDS = 1.5
# Threads of their own: a check must not queue behind requests that hold every worker
# thread, and a check stuck on a silent server holds one of these only.
_CHECKS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readiness")

router = APIRouter(tags=["operations"])

READINESS = {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"description": "store unreachable or projections behind", "content": READINESS}
}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up. On the event loop and touching nothing: it answers even while
    every worker thread waits on an unreachable store."""
    return {"status": "ok"}


@router.get("/readyz", responses=NOT_READY)
async def readyz(service: ServiceDep, reads: ReadsDep) -> Response:
    """The event store answers and the read models are caught up within a bound; answered
    within READINESS_SECONDS whether the store is up, down or silent."""
    check = asyncio.get_running_loop().run_in_executor(_CHECKS, _readiness, service, reads)
    try:
        body = await asyncio.wait_for(check, READINESS_SECONDS)
    except Exception:  # no answer in time, or any store failure: "not ready", never a 500
        return JSONResponse({"status": "unavailable", "store": "unreachable"}, 503)
    if body["projectionLagSeconds"] > MAX_PROJECTION_LAG_SECONDS:
        return JSONResponse({**body, "status": "projections_behind"}, 503)
    return JSONResponse(body)


def _readiness(service: CredentialService, reads: ReadService) -> dict[str, Any]:
    with store_deadline(READINESS_SECONDS):
        head = service.store.recorder.max_notification_id() or 0
        lag = oldest_unprocessed_age(reads.models.projector)
    return {"status": "ready", "head": head, "projectionLagSeconds": round(lag, 3)}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics() -> Response:
    """Prometheus text exposition format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
