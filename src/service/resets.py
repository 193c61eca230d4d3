"""Password resets: one pending reset per user, redeemable by a 6-character code or a JWT.

Both secrets are handed out once and kept only as keyed digests. Wrong codes count against
the pending reset (burned after five); a successful reset unlocks the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt

from domain.errors import (
    DomainError,
    InvalidArgument,
    OrgNotFound,
    ResetCodeExpired,
    ResetCodeInvalid,
    ResetNotPending,
    ResetTokenExpired,
    ResetTokenInvalid,
    ResetTokenUserGone,
)
from domain.user import PendingReset, User
from service.context import Actor, RequestContext
from service.core import password_input
from service.hashing import VerifyCache
from service.keys import new_reset_code
from service.outbox import Mail
from service.passwords import PasswordUseCases, _raise_or_return
from service.reset_links import ResetLinks, user_key
from service.results import Details, ResetGrant

DELIVERIES = ("return", "email")
JWT_ALGORITHM = "HS256"
TOKEN_CLAIMS = ("sub", "upn", "tenant", "jti", "iat", "exp")


@dataclass(frozen=True)
class IssuedReset:
    code: str
    token: str
    code_expires_at: datetime
    token_expires_at: datetime
    details: Details
    user: User


class ResetUseCases(PasswordUseCases, ResetLinks):
    def request_reset(
        self,
        actor: Actor,
        user_id: UUID,
        delivery: str,
        ctx: RequestContext,
        allow_self: bool = False,
        link_template: str | None = None,
    ) -> ResetGrant:
        """One pending reset; `email` mails the code and token (and a link from the
        template, with ZITADEL's `{{.UserID}}`, `{{.Code}}`, `{{.OrgID}}` filled in)."""
        if delivery not in DELIVERIES:
            raise InvalidArgument("delivery", "must be 'return' or 'email'")
        if not (allow_self and actor.user_id == user_id):
            self.user_for_admin(actor, user_id)
        user = self.live_user(user_id)
        if delivery == "email" and (user is None or not user.email):
            raise InvalidArgument("delivery", "the user has no email address")
        if link_template and user is not None:
            org = self.org(user.org_id, read_only=True)
            self.require_allowed_link(org, link_template, "urlTemplate")
        issued = self.issue_reset(user_id, ctx.audit(str(actor.user_id), "admin"), delivery)
        if delivery == "email":
            body = f"Your verification code is {issued.code}.\nReset token: {issued.token}\n"
            if link_template:
                link = link_template.replace("{{.UserID}}", str(user_id))
                link = link.replace("{{.Code}}", issued.code)
                body += "Link: " + link.replace("{{.OrgID}}", str(issued.user.org_id)) + "\n"
            self.outbox.send(
                Mail(to=issued.user.email or "", subject="Your password reset", body=body)
            )
            return ResetGrant(
                None, issued.code_expires_at, None, issued.token_expires_at, issued.details
            )
        return ResetGrant(
            issued.code,
            issued.code_expires_at,
            issued.token,
            issued.token_expires_at,
            issued.details,
        )

    def require_tenant(self, tenant_alias: str) -> None:
        if self.org_id_for_alias(tenant_alias) is None:
            raise OrgNotFound()

    def issue_reset(
        self,
        user_id: UUID,
        audit: dict[str, Any],
        delivery: str,
        unless: Callable[[User], bool] | None = None,
    ) -> IssuedReset:
        """Record a new pending reset (replacing any previous one) and return its secrets.
        `ResetNotPending` when the user is gone, or when `unless` holds for the user as
        loaded for the write (e.g. an anonymous request finding a reset already pending)."""
        code = new_reset_code()

        def attempt() -> IssuedReset:
            user = self.live_user(user_id)
            if user is None or (unless is not None and unless(user)):
                raise ResetNotPending()
            org = self.org(user.org_id, read_only=True)
            now = self.clock()
            reset_id = uuid4().hex
            code_expires = now + timedelta(minutes=org.policy.reset_code_minutes)
            token_expires = now + timedelta(minutes=org.policy.reset_token_minutes)
            claims = {
                "sub": str(user.id),
                "upn": user.username,
                "tenant": org.alias,
                "jti": reset_id,
                "iat": int(now.timestamp()),
                "exp": int(token_expires.timestamp()),
            }
            token = jwt.encode(claims, self.keys.jwt_key, algorithm=JWT_ALGORITHM)
            pending = PendingReset(
                reset_id=reset_id,
                code_digest=self.keys.digest("reset-code", code),
                token_digest=self.keys.digest("reset-token", token),
                code_expires_at=code_expires,
                token_expires_at=token_expires,
            )
            user.request_reset(pending, delivery, audit)
            self.store.save(user)
            return IssuedReset(
                code, token, code_expires, token_expires, Details.of(user, user.org_id), user
            )

        return self.retrying(attempt)

    def complete_reset_with_code(
        self,
        user_id: UUID,
        code: str,
        new_password: str,
        ctx: RequestContext,
        change_required: bool = False,
    ) -> Details:
        new = password_input(new_password)
        cache = VerifyCache(self.hasher)
        code = code.strip().upper()

        def attempt() -> Details | DomainError:
            user = self.live_user(user_id)
            pending = user.pending_reset if user else None
            if user is None or pending is None:
                return ResetNotPending()
            audit = ctx.audit("reset-code", "reset_code")
            if self.clock() >= pending.code_expires_at:
                return ResetCodeExpired()
            if not self.keys.matches("reset-code", code, pending.code_digest):
                user.record_failed_reset_code(pending.reset_id, audit)
                self.store.save(user)
                return ResetCodeInvalid()
            return self._complete(user, pending, new, change_required, audit, cache)

        return _raise_or_return(self.retrying(attempt))

    def complete_reset_with_token(
        self,
        token: str,
        new_password: str,
        ctx: RequestContext,
        tenant_alias: str | None = None,
        change_required: bool = False,
        user_id: UUID | None = None,
    ) -> Details:
        claims = self._verified_claims(token, tenant_alias)
        if user_id is not None and str(user_id) != claims["sub"]:
            raise ResetTokenInvalid()
        new = password_input(new_password)
        cache = VerifyCache(self.hasher)

        def attempt() -> Details:
            user = self.live_user(UUID(claims["sub"]))
            if user is None:
                raise ResetTokenUserGone()
            pending = user.pending_reset
            if (
                pending is None
                or pending.reset_id != claims["jti"]
                or not self.keys.matches("reset-token", token, pending.token_digest)
            ):
                raise ResetTokenInvalid()
            if self.clock() >= pending.token_expires_at:
                raise ResetTokenExpired()
            audit = ctx.audit("reset-token", "reset_token")
            return self._complete(user, pending, new, change_required, audit, cache)

        return self.retrying(attempt)

    def reset_token_account(self, token: str) -> str | None:
        """The rate-limit key of a genuine token's user; None for a forged or garbled one
        (only its sender's address counts then: it names no account we can trust)."""
        try:
            return user_key(UUID(self._verified_claims(token, None)["sub"]))
        except (ResetTokenInvalid, ResetTokenExpired):
            return None

    def _verified_claims(self, token: str, tenant_alias: str | None) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                self.keys.jwt_key,
                algorithms=[JWT_ALGORITHM],
                options={"verify_exp": False, "verify_iat": False, "require": list(TOKEN_CLAIMS)},
            )
            UUID(str(claims["sub"]))
        except (jwt.InvalidTokenError, ValueError):
            raise ResetTokenInvalid() from None
        # Expiry against the service clock, after the signature proved the claims genuine.
        if self.clock() >= datetime.fromtimestamp(claims["exp"], UTC):
            raise ResetTokenExpired()
        if tenant_alias is not None and tenant_alias.lower() != str(claims["tenant"]).lower():
            raise ResetTokenInvalid()
        return claims

    def _complete(
        self,
        user: User,
        pending: PendingReset,
        new: str,
        change_required: bool,
        audit: dict[str, Any],
        cache: VerifyCache,
    ) -> Details:
        org = self.org(user.org_id, read_only=True)
        history_hash = self.check_new_password(org, user.username, new, cache, user)
        user.complete_reset(pending.reset_id, cache.hash(new), change_required, audit, history_hash)
        if org.policy.revoke_sessions_on_change:
            user.revoke_sessions(None, audit)
        self.store.save(user)
        return Details.of(user, user.org_id)
