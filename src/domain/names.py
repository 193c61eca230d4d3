"""Normalisation and validation of organization aliases and usernames.

Uniqueness is decided on the *key* (NFKC + casefold), so `Bob`, `BOB` and full-width `Ｂｏｂ`
are one username, while the display form keeps what the user typed (NFC).
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import InvalidArgument

ALIAS_PATTERN = re.compile(r"[a-z0-9-]{2,63}")
MAX_USERNAME_LENGTH = 128


def alias_key(alias: str) -> str:
    return unicodedata.normalize("NFKC", alias).lower()


def normalize_alias(alias: str) -> str:
    """Lower-cased first, then checked: `ACME` and `acme` are one alias."""
    folded = alias_key(alias)
    if not ALIAS_PATTERN.fullmatch(folded):
        raise InvalidArgument("alias", "must be 2 to 63 characters of a-z, 0-9 and '-'")
    return folded


def display_username(username: str) -> str:
    name = unicodedata.normalize("NFC", username.strip())
    if not 1 <= len(name) <= MAX_USERNAME_LENGTH:
        raise InvalidArgument("username", f"must be 1 to {MAX_USERNAME_LENGTH} characters")
    if "@" in name:
        raise InvalidArgument("username", "must not contain '@' (it separates the org alias)")
    if any(unicodedata.category(c)[0] in "CZ" for c in name):
        raise InvalidArgument("username", "must not contain spaces or control characters")
    return name


def username_key(username: str) -> str:
    """The comparison key: compatibility-normalised and case-folded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def split_login_name(login_name: str) -> tuple[str, str | None]:
    """`bob@acme` → ("bob", "acme"); a bare `bob` → ("bob", None) for the default org."""
    username, sep, alias = login_name.rpartition("@")
    if not sep:
        return login_name, None
    return username, alias
