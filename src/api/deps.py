"""FastAPI dependencies shared by the dialects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from api.ratelimit import RateLimits
from service.context import Actor, RequestContext
from service.credentials import CredentialService
from service.reads import ReadService
from service.reset_links import user_key

# Dependencies that do no I/O are `async`: FastAPI runs every plain `def` dependency in a
# worker thread, and each such hop costs ~0.5 ms here (measured; see bench/results.md).


async def get_service(request: Request) -> CredentialService:
    return request.app.state.service


async def get_reads(request: Request) -> ReadService:
    return request.app.state.reads


async def get_rate_limiter(request: Request) -> RateLimits:
    return request.app.state.rate_limiter


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def client_metadata(request: Request) -> dict[str, str]:
    meta = {"remoteAddress": request.client.host if request.client else ""}
    if agent := request.headers.get("user-agent"):
        meta["userAgent"] = agent[:512]
    return meta


def current_actor(service: ServiceDep, request: Request) -> Actor:
    """Reads the store, so it runs in a worker thread; hot read endpoints call it themselves
    from their own thread instead of taking `ActorDep` (one hop instead of two)."""
    return service.authenticate(bearer_token(request))


async def native_context(request: Request) -> RequestContext:
    return RequestContext("native", client_metadata(request))


ServiceDep = Annotated[CredentialService, Depends(get_service)]
ReadsDep = Annotated[ReadService, Depends(get_reads)]
LimiterDep = Annotated[RateLimits, Depends(get_rate_limiter)]
ActorDep = Annotated[Actor, Depends(current_actor)]
NativeContextDep = Annotated[RequestContext, Depends(native_context)]


async def hashing_admission(request: Request) -> AsyncIterator[None]:
    """Admission control on the event loop, before the request waits for a worker thread:
    under overload a refusal then costs neither a thread hop nor a store round trip, and an
    admitted request counts in the predicted wait until it is answered."""
    with request.app.state.service.hashing_admitted():
        yield


# On every route that verifies or hashes a password (Horizon checks in its handler: only
# some of its calls do).
HASHING_ADMISSION = Depends(hashing_admission)


def limit_password_attempts(limiter: RateLimits, request: Request, account: str | None) -> None:
    """Password-verifying paths: per client address and per account (admission control is
    `HASHING_ADMISSION`, already passed at the door). `account` is a canonical key
    (`limit_by_user`, `limit_by_login`), so every spelling of one account shares a count;
    None when the request names no account (only the address counts)."""
    address = request.client.host if request.client else "unknown"
    keys = [f"addr:{address}"] + ([f"account:{account}"] if account else [])
    limiter.check(*keys)


def limit_by_user(limiter: RateLimits, request: Request, user_id: UUID) -> None:
    """A path naming the account by id: a parsed UUID, whatever spelling reached us."""
    limit_password_attempts(limiter, request, user_key(user_id))


def limit_by_login(
    limiter: RateLimits, request: Request, service: CredentialService, login_name: str
) -> None:
    """A path naming the account by login name: its user id, or the folded name."""
    limit_password_attempts(limiter, request, service.account_key(login_name))
