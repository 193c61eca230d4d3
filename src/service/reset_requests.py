"""Resets asked for by anyone, and the links they travel in (CONTRACTS §14).

An anonymous request must not tell who exists, must not cancel what an admin issued, and
must not mail a link to a host the operator does not allow:

- the answer depends on the tenant and the link only: the user is looked up, and a reset
  issued and mailed, after the answer (`service.background`), so no user load, store write
  or mail is on the path an attacker can time;
- a reset already pending (whoever issued it) is left alone and no second mail is sent;
- links are checked against the org's allowed prefixes (`domain.reset_links`).
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from domain.errors import ResetNotPending
from domain.indexes import UsernameIndex
from domain.names import alias_key, split_login_name, username_key
from domain.organization import Organization
from domain.user import User
from service.context import RequestContext
from service.outbox import Mail
from service.reset_links import user_key
from service.resets import ResetUseCases

LinkFor = Callable[[str], str]  # the reset token -> the link mailed to the person


class ResetRequestUseCases(ResetUseCases):
    # --- one account, one counter ---

    def account_key(self, login_name: str) -> str:
        """The rate-limit key of the account a login name names: its user id when it
        exists, else the name NFKC-normalised and case-folded within its org. `ｔ5@GAMMA`,
        `t5@gamma` and `t5` (default org) are one account."""
        username, alias = split_login_name(login_name)
        org_id = self.org_id_for_alias(alias, read_only=True)
        if org_id is not None:
            index = self.peek(UsernameIndex, self.username_index_id(org_id, username))
            if index is not None and index.user_id is not None:
                return user_key(index.user_id)
        org = str(org_id) if org_id else alias_key(alias or "")
        return f"login:{org}/{username_key(username)}"

    # --- anonymous requests ---

    def send_reset_invitation(
        self, tenant_alias: str, username: str, target_url: str, ctx: RequestContext
    ) -> None:
        """Kendox: mail `target_url` with `%LoginToken%` replaced, if the user exists, has an
        email and no reset is pending. The link is checked against the tenant's prefixes
        before anything about the user is looked at; an unknown tenant has none to check
        against and answers like any other well-formed request (Kendox's contract)."""
        org_id = self.org_id_for_alias(tenant_alias, read_only=True)
        org = self.peek(Organization, org_id) if org_id else None
        if org is None:
            return
        self.require_allowed_link(org, target_url, "targetURL")
        link_for: LinkFor = lambda token: target_url.replace("%LoginToken%", token)  # noqa: E731
        self._issue_later(org.id, username, "Set your password", link_for, ctx)

    def request_reset_anonymously(self, login_name: str, ctx: RequestContext) -> None:
        """`POST /v1/password-reset-requests`: a mail with a link to the reset page."""
        username, alias = split_login_name(login_name)
        org_id = self.org_id_for_alias(alias, read_only=True)
        if org_id is not None:
            self._issue_later(org_id, username, "Reset your password", self.reset_page_link, ctx)

    def _issue_later(
        self, org_id: UUID, username: str, subject: str, link_for: LinkFor, ctx: RequestContext
    ) -> None:
        """Everything about the user happens after the answer, for real and unknown users
        alike: loading a real user (events, their data key, opening sealed fields) costs
        more than finding no one, and the answer must not show it."""
        self.background.submit(
            lambda: self._issue_and_mail(org_id, username, subject, link_for, ctx)
        )

    def _reset_pending(self, user: User) -> bool:
        pending = user.pending_reset
        if pending is None:
            return False
        return self.clock() < max(pending.code_expires_at, pending.token_expires_at)

    def _issue_and_mail(
        self, org_id: UUID, username: str, subject: str, link_for: LinkFor, ctx: RequestContext
    ) -> None:
        user = self.find_user(org_id, username)
        if user is None or not user.email or self._reset_pending(user):
            return
        try:
            issued = self.issue_reset(
                user.id, ctx.audit("anonymous", "reset_token"), "email", unless=self._reset_pending
            )
        except ResetNotPending:  # removed, or a reset became pending meanwhile
            return
        email = issued.user.email
        if email:
            self.outbox.send(Mail(to=email, subject=subject, body=link_for(issued.token) + "\n"))
