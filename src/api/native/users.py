"""Users: read, remove, erase, unlock, password change/set/reset."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.deps import (
    HASHING_ADMISSION,
    ActorDep,
    LimiterDep,
    NativeContextDep,
    ReadsDep,
    ServiceDep,
    bearer_token,
    current_actor,
    limit_by_user,
)
from api.native.schemas import (
    DetailsOut,
    DetailsReply,
    HistoryOut,
    PasswordIn,
    ResetIn,
    ResetOut,
    UserOut,
    history_item,
)
from api.replies import json_reply
from api.timefmt import rfc3339
from domain.errors import CurrentPasswordRequired, InvalidArgument, InvalidCurrentPassword
from service.results import Details

router = APIRouter(prefix="/v1/users", tags=["native"])


@router.get("/{user_id}", response_model=UserOut)
def get_user(user_id: UUID, request: Request, service: ServiceDep, reads: ReadsDep) -> Response:
    """From the read model; a read right after a write sees it."""
    user = reads.get_user(current_actor(service, request), user_id)
    reply = UserOut(
        user_id=str(user.user_id),
        org_id=str(user.org_id),
        username=user.username,
        login_name=user.login_name,
        roles=user.roles,
        state="locked" if user.locked else "active",
        locked_until=rfc3339(user.locked_until),
        change_required=user.change_required,
        password_changed_at=rfc3339(user.password_changed_at),
        failed_attempts=user.failed_attempts,
        details=DetailsOut.of(user.details),
    )
    return json_reply(reply)


@router.get("/{user_id}/history", response_model=HistoryOut)
def get_history(user_id: UUID, request: Request, service: ServiceDep, reads: ReadsDep) -> Response:
    """Every credential event of the user, oldest first, without secrets."""
    items = reads.history(current_actor(service, request), user_id)
    return json_reply(HistoryOut(events=[history_item(i) for i in items]))


@router.delete("/{user_id}", status_code=204)
def remove_user(
    user_id: UUID, actor: ActorDep, service: ServiceDep, ctx: NativeContextDep
) -> Response:
    service.remove_user(actor, user_id, ctx)
    return Response(status_code=204)


@router.post("/{user_id}/erase", status_code=204)
def erase_user(
    user_id: UUID, actor: ActorDep, service: ServiceDep, ctx: NativeContextDep
) -> Response:
    """Forget the person: their history stays, with every personal field gone for good."""
    service.erase_user(actor, user_id, ctx)
    return Response(status_code=204)


@router.post("/{user_id}/unlock")
def unlock(
    user_id: UUID, actor: ActorDep, service: ServiceDep, ctx: NativeContextDep
) -> DetailsReply:
    return DetailsReply(details=DetailsOut.of(service.unlock(actor, user_id, ctx)))


@router.post("/{user_id}/password", dependencies=[HASHING_ADMISSION])
def set_password(
    user_id: UUID,
    body: PasswordIn,
    request: Request,
    service: ServiceDep,
    limiter: LimiterDep,
    ctx: NativeContextDep,
) -> DetailsReply:
    """Self-service with `currentPassword`; an org admin with neither; or redeem a reset with
    `verificationCode` / `resetToken` (no session needed)."""
    limit_by_user(limiter, request, user_id)
    if body.verification_code is not None and body.reset_token is not None:
        raise InvalidArgument("verificationCode", "give verificationCode or resetToken, not both")
    if body.verification_code is not None:
        details = service.complete_reset_with_code(
            user_id, body.verification_code, body.new_password, ctx, body.change_required
        )
    elif body.reset_token is not None:
        details = service.complete_reset_with_token(
            body.reset_token,
            body.new_password,
            ctx,
            change_required=body.change_required,
            user_id=user_id,
        )
    else:
        details = _change_or_set(service, request, user_id, body, ctx)
    return DetailsReply(details=DetailsOut.of(details))


def _change_or_set(
    service: ServiceDep, request: Request, user_id: UUID, body: PasswordIn, ctx: NativeContextDep
) -> Details:
    actor = service.authenticate(bearer_token(request))
    if actor.user_id != user_id:
        return service.set_password(actor, user_id, body.new_password, body.change_required, ctx)
    if body.current_password is None:
        raise CurrentPasswordRequired()
    return service.change_own_password(
        service.own_user_finder(actor, user_id),
        body.current_password,
        body.new_password,
        body.change_required,
        ctx,
        kept_session_id=actor.session_id,
        wrong=InvalidCurrentPassword,
    )


@router.post("/{user_id}/password-reset")
def request_reset(
    user_id: UUID, body: ResetIn, actor: ActorDep, service: ServiceDep, ctx: NativeContextDep
) -> ResetOut:
    grant = service.request_reset(actor, user_id, body.delivery, ctx)
    return ResetOut(
        code=grant.code,
        code_expires_at=rfc3339(grant.code_expires_at) or "",
        token=grant.token,
        token_expires_at=rfc3339(grant.token_expires_at) or "",
        details=DetailsOut.of(grant.details),
    )
