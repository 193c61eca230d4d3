"""Per-organization password policy (CONTRACTS §1.1) and its cheap rules.

The hash-based rules (`same_as_current`, `reused`) need the user's hashes and the hasher, so
the application service checks them, only after every cheap rule here has passed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import Any

from domain.common_passwords import is_common
from domain.errors import InvalidArgument
from domain.reset_links import MAX_PREFIXES, parse_prefix

MAX_LENGTH_CEILING = 1024
MAX_HISTORY_COUNT = 24
# Identity fragments shorter than this would reject too many good passwords ("ab" in "crab").
MIN_IDENTITY_FRAGMENT = 3

RULE_ORDER = (
    "too_short",
    "too_long",
    "missing_lowercase",
    "missing_uppercase",
    "missing_digit",
    "missing_symbol",
    "same_as_current",
    "reused",
    "common",
    "contains_identity",
)


def normalize_password(password: str) -> str:
    """NFC, so the same password typed on two keyboards hashes the same (NIST SP 800-63B)."""
    return unicodedata.normalize("NFC", password)


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = 128
    require_lowercase: bool = False
    require_uppercase: bool = False
    require_digit: bool = False
    require_symbol: bool = False
    history_count: int = 4
    block_common: bool = True
    max_failed_attempts: int = 10
    lockout_minutes: int = 15
    revoke_sessions_on_change: bool = True
    reset_code_minutes: int = 60
    reset_token_minutes: int = 15
    # Where caller-supplied reset links may point (`domain.reset_links`); None: the instance's
    # default (its public URL's `/ui/`), () : nowhere, so every such link is refused.
    reset_url_prefixes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "reset_url_prefixes":
                self._check_prefixes()
                continue
            value = getattr(self, f.name)
            expected = bool if f.type in ("bool", bool) else int
            # bool is an int subclass: refuse True where a number is meant, and 1 for a flag.
            if type(value) is not expected:
                raise InvalidArgument(_camel(f.name), f"must be a {expected.__name__}")
        self._check_ranges()

    def _check_ranges(self) -> None:
        ranges = {
            "min_length": (1, MAX_LENGTH_CEILING),
            "max_length": (1, MAX_LENGTH_CEILING),
            "history_count": (0, MAX_HISTORY_COUNT),
            "max_failed_attempts": (0, 1000),
            "lockout_minutes": (0, 525_600),
            "reset_code_minutes": (1, 10_080),
            "reset_token_minutes": (1, 10_080),
        }
        for name, (low, high) in ranges.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise InvalidArgument(_camel(name), f"must be between {low} and {high}")
        if self.min_length > self.max_length:
            raise InvalidArgument("minLength", "must not exceed maxLength")

    def _check_prefixes(self) -> None:
        prefixes = self.reset_url_prefixes
        if prefixes is None:
            return
        if not isinstance(prefixes, list | tuple) or not all(isinstance(p, str) for p in prefixes):
            raise InvalidArgument("resetUrlPrefixes", "must be a list of URLs or null")
        if len(prefixes) > MAX_PREFIXES:
            raise InvalidArgument("resetUrlPrefixes", f"must list at most {MAX_PREFIXES} URLs")
        for prefix in prefixes:
            parse_prefix(prefix)  # refuses anything that is not a plain http(s) prefix
        object.__setattr__(self, "reset_url_prefixes", tuple(prefixes))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.reset_url_prefixes is not None:
            data["reset_url_prefixes"] = list(self.reset_url_prefixes)  # JSON has no tuples
        return data

    def to_camel(self) -> dict[str, Any]:
        return {_camel(k): v for k, v in self.to_dict().items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PasswordPolicy:
        return cls(**data)

    @classmethod
    def from_camel(cls, data: dict[str, Any]) -> PasswordPolicy:
        """Omitted fields take the defaults; unknown fields are refused."""
        known = {_camel(f.name): f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise InvalidArgument(key, "is not a password policy field")
        return cls(**{known[k]: v for k, v in data.items()})

    def cheap_violations(self, password: str, identity: tuple[str, ...] = ()) -> list[str]:
        """Rules that need no hashing, in the order of CONTRACTS §1.1."""
        password = normalize_password(password)
        length = len(password)  # code points, not bytes
        checks = [
            ("too_short", length < self.min_length),
            ("too_long", length > self.max_length),
            (
                "missing_lowercase",
                self.require_lowercase and not any(c.islower() for c in password),
            ),
            (
                "missing_uppercase",
                self.require_uppercase and not any(c.isupper() for c in password),
            ),
            ("missing_digit", self.require_digit and not any(c.isdigit() for c in password)),
            # Unicode-aware: a non-ASCII letter is a letter, not a symbol.
            ("missing_symbol", self.require_symbol and all(c.isalnum() for c in password)),
            ("common", self.block_common and is_common(password)),
            ("contains_identity", self.block_common and _contains_identity(password, identity)),
        ]
        return [rule for rule, failed in checks if failed]


def _contains_identity(password: str, identity: tuple[str, ...]) -> bool:
    folded = password.casefold()
    return any(
        len(part) >= MIN_IDENTITY_FRAGMENT and part.casefold() in folded for part in identity
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)
