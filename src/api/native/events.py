"""GET /v1/events: the global feed of credential events, by position."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ActorDep, ReadsDep
from api.native.schemas import MAX_POSITION, FeedOut, feed_item

router = APIRouter(prefix="/v1", tags=["native"])


@router.get("/events")
def feed(
    actor: ActorDep,
    reads: ReadsDep,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FeedOut:
    """Auditors see their own org, instance admins every org. Page with `nextAfter`."""
    items = reads.feed(actor, after, limit)
    return FeedOut(
        events=[feed_item(i) for i in items],
        next_after=items[-1].position if items else after,
    )
