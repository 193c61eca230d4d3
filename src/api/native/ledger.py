"""The ledger (CONTRACTS §5): key, signed checkpoint, leaves and RFC 9162 proofs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import Field

from api.deps import ActorDep
from api.native.schemas import MAX_POSITION, Body
from service.ledger import MAX_LEAVES, LedgerService, b64

router = APIRouter(prefix="/v1/ledger", tags=["native", "ledger"])


async def get_ledger(request: Request) -> LedgerService:
    return request.app.state.ledger


LedgerDep = Annotated[LedgerService, Depends(get_ledger)]
Size = Annotated[int, Query(ge=0, le=MAX_POSITION)]


class KeyOut(Body):
    origin: str
    verifier_key: str


class LeafItem(Body):
    index: int
    position: int
    input: str | None = Field(description="base64 of the leaf input; null if the event is gone")


class LeavesOut(Body):
    leaves: list[LeafItem]


class InclusionOut(Body):
    index: int
    position: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]


class ConsistencyOut(Body):
    from_: int = Field(alias="from")
    to: int
    hashes: list[str]


@router.get("/key")
def key(ledger: LedgerDep) -> KeyOut:
    """Anyone: the origin and the C2SP verifier key that checks every checkpoint."""
    return KeyOut(origin=ledger.origin, verifier_key=ledger.verifier_key)


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "a C2SP signed note"}},
)
def checkpoint(actor: ActorDep, ledger: LedgerDep) -> PlainTextResponse:
    """The signed checkpoint covering every event committed before this request."""
    return PlainTextResponse(ledger.checkpoint(actor), media_type="text/plain; charset=utf-8")


@router.get("/leaves")
def leaves(
    actor: ActorDep,
    ledger: LedgerDep,
    start: Size = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LEAVES)] = 100,
) -> LeavesOut:
    """Instance admins: the leaf inputs, recomputed from the event store as it is now."""
    found = ledger.leaves(actor, start, limit)
    return LeavesOut(
        leaves=[
            LeafItem(
                index=leaf.index,
                position=leaf.position,
                input=b64(leaf.input) if leaf.input is not None else None,
            )
            for leaf in found
        ]
    )


@router.get("/proof/inclusion")
def inclusion(
    actor: ActorDep,
    ledger: LedgerDep,
    index: Annotated[int | None, Query(ge=0, le=MAX_POSITION)] = None,
    position: Annotated[int | None, Query(ge=1, le=MAX_POSITION)] = None,
    tree_size: Annotated[int | None, Query(alias="treeSize", ge=1, le=MAX_POSITION)] = None,
) -> InclusionOut:
    """RFC 9162 §2.1.3 audit path; without `treeSize`, against the latest checkpoint."""
    proof = ledger.inclusion(actor, index, position, tree_size)
    return InclusionOut(
        index=proof.index,
        position=proof.position,
        tree_size=proof.tree_size,
        leaf_hash=b64(proof.leaf_hash),
        hashes=[b64(h) for h in proof.hashes],
    )


@router.get("/proof/consistency")
def consistency(
    actor: ActorDep,
    ledger: LedgerDep,
    old: Annotated[int, Query(alias="from", ge=0, le=MAX_POSITION)],
    new: Annotated[int, Query(alias="to", ge=0, le=MAX_POSITION)],
) -> ConsistencyOut:
    """RFC 9162 §2.1.4 consistency proof between two tree sizes."""
    hashes = ledger.consistency(actor, old, new)
    return ConsistencyOut(from_=old, to=new, hashes=[b64(h) for h in hashes])
