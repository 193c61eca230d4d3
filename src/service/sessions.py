"""Login sessions: opaque bearer tokens, stored only as keyed hashes (the session id)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import AuthenticationRequired, SessionInvalid
from domain.session import Session
from domain.user import User
from service.context import Actor, RequestContext
from service.keys import new_session_token
from service.passwords import PasswordUseCases
from service.results import SessionGrant


class SessionUseCases(PasswordUseCases):
    def session_id_for(self, token: str) -> UUID:
        return self.keys.keyed_id("session", token)

    def start_session(self, login_name: str, password: str, ctx: RequestContext) -> SessionGrant:
        token = new_session_token()
        session_id = self.session_id_for(token)
        expires_at = self.clock() + timedelta(minutes=self.session_minutes)

        def new_session(user: User) -> list[Aggregate]:
            return [self.new_session(user, session_id, expires_at, ctx)]

        user = self.check_password(
            self.login_name_finder(login_name), password, ctx, after_success=new_session
        )
        return SessionGrant(
            str(session_id), token, expires_at, user.id, user.org_id, user.change_required
        )

    def new_session(
        self, user: User, session_id: UUID, expires_at: object, ctx: RequestContext
    ) -> Session:
        return Session(
            id=session_id,
            user_id=user.id,
            org_id=user.org_id,
            generation=user.session_generation,
            expires_at=expires_at,
            audit=ctx.audit(str(user.id), "self"),
        )

    def issue_session(self, user: User, ctx: RequestContext) -> SessionGrant:
        """A fresh session for a user who just proved themself (e.g. after a change)."""
        token = new_session_token()
        session_id = self.session_id_for(token)
        expires_at = self.clock() + timedelta(minutes=self.session_minutes)
        self.store.save(self.new_session(user, session_id, expires_at, ctx))
        return SessionGrant(
            str(session_id), token, expires_at, user.id, user.org_id, user.change_required
        )

    def authenticate(self, token: str | None) -> Actor:
        if not token:
            raise AuthenticationRequired()
        session = self.peek(Session, self.session_id_for(token))
        if session is None or not session.is_active(self.clock()):
            raise SessionInvalid()
        user = self.live_user(session.user_id, read_only=True)
        if user is None or not user.session_is_current(str(session.id), session.generation):
            raise SessionInvalid()
        return Actor(user.id, user.org_id, tuple(user.roles), str(session.id))

    def end_session(self, actor: Actor, ctx: RequestContext) -> None:
        if actor.session_id is None:
            return
        session = self.load(Session, UUID(actor.session_id))
        if session is not None and not session.ended:
            session.end(ctx.audit(str(actor.user_id), "self"))
            self.store.save(session)
