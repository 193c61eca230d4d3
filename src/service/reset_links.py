"""Where reset links may point: the org's allowed prefixes, or this server's pages."""

from __future__ import annotations

from uuid import UUID

from domain.errors import InvalidArgument
from domain.organization import Organization
from domain.reset_links import UrlPrefix, is_allowed, parse_prefix
from service.core import Core


def user_key(user_id: UUID) -> str:
    """The rate-limit key of an account named by its id, however the id was spelled."""
    return f"user:{user_id}"


class ResetLinks(Core):
    def default_reset_prefixes(self) -> tuple[str, ...]:
        return (self.public_url.rstrip("/") + "/ui/",)

    def allowed_reset_prefixes(self, org: Organization | None) -> tuple[UrlPrefix, ...]:
        configured = org.policy.reset_url_prefixes if org is not None else None
        texts = self.default_reset_prefixes() if configured is None else configured
        return tuple(parse_prefix(text) for text in texts)

    def require_allowed_link(self, org: Organization | None, link: str, field: str) -> None:
        if not is_allowed(link, self.allowed_reset_prefixes(org)):
            raise InvalidArgument(field, "is not a link this organization allows for resets")

    def reset_page_link(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/ui/reset?token={token}"
