"""Password hashes brought in from other systems on import (CONTRACTS §7).

Imported users keep the hash their old system wrote until their first successful login, which
re-hashes the password to our argon2id. Until then we must check passwords exactly the way the
old system did, so this module recognises a fixed list of legacy formats and checks them with
maintained libraries only: argon2-cffi for argon2, the `bcrypt` package for bcrypt, and
`hashlib.scrypt` / `hashlib.pbkdf2_hmac` (OpenSSL) for scrypt and PBKDF2. Nothing here
implements a hash function; the code only reads the encodings and compares results in constant
time (`hmac.compare_digest`).

Import data is not trusted: an import row could carry parameters that make every login of that
user cost minutes of CPU or gigabytes of memory. `parse` therefore validates the whole format
strictly and refuses parameters outside these bounds (each allows the published defaults of the
systems we import from, with a wide margin; at the upper bounds one check takes a few seconds of
one core):

- argon2id / argon2i: memory 8*p KiB .. 1 GiB, time 1..20, parallelism 1..64,
  memory*time <= 4 GiB (so 1 GiB with t <= 4, or 64 MiB with t <= 20), salt 8..1024 bytes,
  tag 16..128 bytes, version 0x10 or 0x13.
- bcrypt: cost 4..16 (2^16 rounds, about 3-4 s).
- scrypt: N = 2^ln with ln 1..20, r 1..32, p 1..16, N < 2^(16*r) (RFC 7914),
  memory 128*r*N bytes <= 256 MiB, N*r*p <= 2^23; salt 1..1024 bytes, key 32 bytes (passlib's
  fixed size: PBKDF2 output prefixes are themselves valid keys, so a variable length would let a
  truncated hash pass as another valid hash).
- PBKDF2 (every format): iterations 1..10,000,000 (Django 5 uses 1,000,000; OWASP 600,000), and
  iterations * output blocks <= 10,000,000 (only Keycloak values can be longer than one digest);
  salt 1..1024 bytes; key exactly one digest for passlib and Django, 16..128 bytes for Keycloak.

`UnsupportedHash` messages are short reasons meant for the import report; they name the problem
and the offending parameter but never echo the hash, its salt or its digest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from service.legacy_hashes.encoding import MAX_ENCODED_LENGTH, Parsed, UnsupportedHash
from service.legacy_hashes.memory_hard import (
    ARGON2_MAX_MEMORY_KIB,
    ARGON2_MAX_MEMORY_TIME_KIB,
    ARGON2_MAX_PARALLELISM,
    ARGON2_MAX_TIME,
    BCRYPT_MAX_COST,
    BCRYPT_MAX_PASSWORD_BYTES,
    BCRYPT_MIN_COST,
    SCRYPT_MAX_LN,
    SCRYPT_MAX_MEMORY_BYTES,
    SCRYPT_MAX_P,
    SCRYPT_MAX_R,
    SCRYPT_MAX_WORK,
    parse_argon2,
    parse_bcrypt,
    parse_scrypt,
)
from service.legacy_hashes.pbkdf2 import (
    PBKDF2_MAX_ITERATIONS,
    PBKDF2_MAX_WORK,
    load_json_object,
    parse_django_pbkdf2,
    parse_keycloak,
    parse_passlib_pbkdf2,
)

__all__ = [
    "ARGON2_MAX_MEMORY_KIB", "ARGON2_MAX_MEMORY_TIME_KIB", "ARGON2_MAX_PARALLELISM",
    "ARGON2_MAX_TIME", "BCRYPT_MAX_COST", "BCRYPT_MAX_PASSWORD_BYTES", "BCRYPT_MIN_COST",
    "MAX_ENCODED_LENGTH", "PBKDF2_MAX_ITERATIONS", "PBKDF2_MAX_WORK", "SCHEMES",
    "SCRYPT_MAX_LN", "SCRYPT_MAX_MEMORY_BYTES", "SCRYPT_MAX_P", "SCRYPT_MAX_R",
    "SCRYPT_MAX_WORK", "LegacyHash", "UnsupportedHash", "parse", "scheme_of", "verify",
]  # fmt: skip

SCHEMES: tuple[str, ...] = (
    "argon2id",
    "argon2i",
    "bcrypt",
    "scrypt",
    "pbkdf2-sha256",
    "pbkdf2-sha512",
    "django-pbkdf2-sha256",
    "keycloak-pbkdf2-sha256",
    "keycloak-pbkdf2-sha512",
)

_PREFIXES: tuple[tuple[str, str], ...] = (
    ("$argon2id$", "argon2id"),
    ("$argon2i$", "argon2i"),
    ("$2a$", "bcrypt"),
    ("$2b$", "bcrypt"),
    ("$2y$", "bcrypt"),
    ("$scrypt$", "scrypt"),
    ("$pbkdf2-sha256$", "pbkdf2-sha256"),
    ("$pbkdf2-sha512$", "pbkdf2-sha512"),
    ("pbkdf2_sha256$", "django-pbkdf2-sha256"),
    # `parse` stores Keycloak credentials as compact JSON with sorted keys, so the algorithm
    # is always the first member.
    ('{"algorithm":"pbkdf2-sha256",', "keycloak-pbkdf2-sha256"),
    ('{"algorithm":"pbkdf2-sha512",', "keycloak-pbkdf2-sha512"),
)

_JSON_OBJECT_START = re.compile(r"\s*\{\s*[\"}]")  # not LDAP-style "{SSHA}..."


@dataclass(frozen=True)
class LegacyHash:
    scheme: str
    encoded: str


def parse(value: str | dict[str, object]) -> LegacyHash:
    """Identify and strictly validate an imported password hash; raise UnsupportedHash."""
    scheme, encoded, _ = _analyse(value)
    return LegacyHash(scheme=scheme, encoded=encoded)


def scheme_of(encoded: str) -> str:
    """The scheme of a stored `LegacyHash.encoded`, from its prefix alone."""
    for prefix, scheme in _PREFIXES:
        if encoded.startswith(prefix):
            return scheme
    raise UnsupportedHash("unknown hash scheme")


def verify(encoded: str, password: str) -> bool:
    """True iff `password` matches; False on mismatch and on any malformed stored value."""
    try:
        secret = password.encode("utf-8")
        _, _, check = _analyse(encoded)
        return check(secret)
    except (ValueError, TypeError, AttributeError):  # incl. UnsupportedHash, UnicodeError
        return False


# --- dispatch --------------------------------------------------------------------------------


def _analyse(value: object) -> Parsed:
    if isinstance(value, dict):
        return parse_keycloak(value)
    if not isinstance(value, str):
        raise UnsupportedHash("password hash must be a string or a Keycloak credential object")
    if not value:
        raise UnsupportedHash("empty password hash")
    if len(value) > MAX_ENCODED_LENGTH:
        raise UnsupportedHash(f"password hash longer than {MAX_ENCODED_LENGTH} characters")
    if _JSON_OBJECT_START.match(value):
        return parse_keycloak(load_json_object(value))
    if value != value.strip():
        raise UnsupportedHash("password hash has leading or trailing whitespace")
    for prefix, scheme in _PREFIXES:
        if value.startswith(prefix):
            return _PARSERS[scheme](value)
    if value.startswith("$argon2"):
        raise UnsupportedHash("unsupported argon2 variant (only argon2id and argon2i)")
    if value.startswith("$2"):
        raise UnsupportedHash("unsupported bcrypt variant (only $2a$, $2b$ and $2y$)")
    if value.startswith("pbkdf2_"):
        raise UnsupportedHash("unsupported Django hasher (only pbkdf2_sha256)")
    raise UnsupportedHash("unknown hash scheme")


_PARSERS: dict[str, Callable[[str], Parsed]] = {
    "argon2id": parse_argon2,
    "argon2i": parse_argon2,
    "bcrypt": parse_bcrypt,
    "scrypt": parse_scrypt,
    "pbkdf2-sha256": parse_passlib_pbkdf2,
    "pbkdf2-sha512": parse_passlib_pbkdf2,
    "django-pbkdf2-sha256": parse_django_pbkdf2,
    "keycloak-pbkdf2-sha256": lambda text: parse_keycloak(load_json_object(text)),
    "keycloak-pbkdf2-sha512": lambda text: parse_keycloak(load_json_object(text)),
}
