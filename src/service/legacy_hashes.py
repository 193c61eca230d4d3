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

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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

MAX_ENCODED_LENGTH = 4096

ARGON2_MAX_MEMORY_KIB = 1024 * 1024
ARGON2_MAX_TIME = 20
ARGON2_MAX_PARALLELISM = 64
ARGON2_MAX_MEMORY_TIME_KIB = 4 * 1024 * 1024
BCRYPT_MIN_COST = 4
BCRYPT_MAX_COST = 16
BCRYPT_MAX_PASSWORD_BYTES = 72
SCRYPT_MAX_LN = 20
SCRYPT_MAX_R = 32
SCRYPT_MAX_P = 16
SCRYPT_MAX_MEMORY_BYTES = 256 * 1024 * 1024
SCRYPT_MAX_WORK = 2**23  # N * r * p
SCRYPT_KEY_BYTES = 32
PBKDF2_MAX_ITERATIONS = 10_000_000
PBKDF2_MAX_WORK = PBKDF2_MAX_ITERATIONS  # iterations * output blocks
MIN_SALT_BYTES = 1
MAX_SALT_BYTES = 1024
MIN_KEY_BYTES = 16
MAX_KEY_BYTES = 128

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

_KEYCLOAK_FIELDS = frozenset({"algorithm", "hashIterations", "salt", "value"})
_DIGEST_SIZE = {"sha256": 32, "sha512": 64}

# A decimal parameter: no sign, no leading zeros, at most 10 digits (ASCII only: `re.ASCII`).
_NUM = r"(0|[1-9][0-9]{0,9})"
_PHC_TAIL = r"\$([^$]*)\$([^$]*)"  # $salt$hash, each checked as base64 afterwards
_ARGON2_RE = re.compile(
    rf"\$(argon2id|argon2i)\$(?:v={_NUM}\$)?m={_NUM},t={_NUM},p={_NUM}{_PHC_TAIL}", re.ASCII
)
_BCRYPT_RE = re.compile(r"\$2[aby]\$([0-9]{2})\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})", re.ASCII)
_SCRYPT_RE = re.compile(rf"\$scrypt\$ln={_NUM},r={_NUM},p={_NUM}{_PHC_TAIL}", re.ASCII)
_PASSLIB_PBKDF2_RE = re.compile(rf"\$pbkdf2-(sha256|sha512)\${_NUM}{_PHC_TAIL}", re.ASCII)
_DJANGO_PBKDF2_RE = re.compile(rf"pbkdf2_sha256\${_NUM}{_PHC_TAIL}", re.ASCII)

_B64_STD_UNPADDED = re.compile(r"[A-Za-z0-9+/]*", re.ASCII)
_B64_AB64 = re.compile(r"[A-Za-z0-9./]*", re.ASCII)
_B64_STD_PADDED = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?", re.ASCII
)
_JSON_OBJECT_START = re.compile(r"\s*\{\s*[\"}]")  # not LDAP-style "{SSHA}..."
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

_ARGON2 = PasswordHasher()

Checker = Callable[[bytes], bool]


class UnsupportedHash(ValueError):
    """A password hash that cannot be imported; the message is a user-facing reason."""


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


def _analyse(value: object) -> tuple[str, str, Checker]:
    if isinstance(value, dict):
        return _keycloak(value)
    if not isinstance(value, str):
        raise UnsupportedHash("password hash must be a string or a Keycloak credential object")
    if not value:
        raise UnsupportedHash("empty password hash")
    if len(value) > MAX_ENCODED_LENGTH:
        raise UnsupportedHash(f"password hash longer than {MAX_ENCODED_LENGTH} characters")
    if _JSON_OBJECT_START.match(value):
        return _keycloak(_load_json_object(value))
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


def _range(what: str, number: int, low: int, high: int) -> None:
    if not low <= number <= high:
        shown = str(number) if abs(number) < 10**12 else "of more than 12 digits"
        raise UnsupportedHash(f"{what} {shown} out of range {low}..{high}")


def _length(what: str, data: bytes, low: int, high: int) -> None:
    if not low <= len(data) <= high:
        raise UnsupportedHash(f"{what} length {len(data)} bytes out of range {low}..{high}")


def _b64_unpadded(text: str, scheme: str, field: str, *, ab64: bool = False) -> bytes:
    """Base64 without padding (PHC strings; passlib's "ab64" uses '.' instead of '+')."""
    pattern = _B64_AB64 if ab64 else _B64_STD_UNPADDED
    if not pattern.fullmatch(text) or len(text) % 4 == 1:
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64")
    standard = text.replace(".", "+") if ab64 else text
    data = base64.b64decode(standard + "=" * (-len(standard) % 4))
    # Canonical form only: the unused low bits of the last character must be zero.
    if base64.b64encode(data).decode("ascii").rstrip("=") != standard:
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64")
    return data


def _b64_padded(text: str, scheme: str, field: str) -> bytes:
    """Standard base64 with padding (Django, Keycloak)."""
    if not _B64_STD_PADDED.fullmatch(text):
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64")
    return data


# --- argon2 ----------------------------------------------------------------------------------


def _argon2(value: str) -> tuple[str, str, Checker]:
    match = _ARGON2_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed argon2 hash")
    scheme, version, memory, time, lanes, salt_text, tag_text = match.groups()
    if version is not None and version not in ("16", "19"):
        raise UnsupportedHash(f"argon2 version {version} not supported (16 or 19)")
    parallelism = int(lanes)
    _range("argon2 parallelism", parallelism, 1, ARGON2_MAX_PARALLELISM)
    _range("argon2 time", int(time), 1, ARGON2_MAX_TIME)
    _range("argon2 memory (KiB)", int(memory), 8 * parallelism, ARGON2_MAX_MEMORY_KIB)
    if int(memory) * int(time) > ARGON2_MAX_MEMORY_TIME_KIB:
        raise UnsupportedHash(
            f"argon2 memory x time {int(memory) * int(time)} KiB exceeds "
            f"{ARGON2_MAX_MEMORY_TIME_KIB}"
        )
    _length("argon2 salt", _b64_unpadded(salt_text, "argon2", "salt"), 8, MAX_SALT_BYTES)
    _length("argon2 hash", _b64_unpadded(tag_text, "argon2", "hash"), MIN_KEY_BYTES, MAX_KEY_BYTES)

    def check(secret: bytes) -> bool:
        # argon2-cffi reads the variant and parameters from the string and compares in
        # constant time inside libargon2.
        try:
            return _ARGON2.verify(value, secret)
        except (VerificationError, InvalidHashError):
            return False

    return scheme, value, check


# --- bcrypt ----------------------------------------------------------------------------------


def _bcrypt(value: str) -> tuple[str, str, Checker]:
    match = _BCRYPT_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed bcrypt hash")
    cost, salt, digest = match.groups()
    _range("bcrypt cost", int(cost), BCRYPT_MIN_COST, BCRYPT_MAX_COST)
    # 22 characters carry a 16-byte salt (4 spare bits), 31 carry the 23-byte digest (2 spare
    # bits); every bcrypt writes the spare bits as zero, and implementations disagree about
    # hashes where they are not, so such a hash could not be checked as its system did.
    if _BCRYPT_ALPHABET.index(salt[-1]) % 16 or _BCRYPT_ALPHABET.index(digest[-1]) % 4:
        raise UnsupportedHash("malformed bcrypt hash: non-canonical encoding")
    stored = value.encode("ascii")

    def check(secret: bytes) -> bool:
        # bcrypt only ever used the first 72 bytes of the password: OpenBSD, PHP, Spring and
        # passlib all cut longer passwords there silently, so the old system accepted any
        # password sharing those 72 bytes. bcrypt >= 5 raises ValueError instead of
        # truncating, so we cut at 72 bytes ourselves to check the way the original did.
        # $2a$, $2b$ and $2y$ are the same algorithm for such passwords ($2a$ differed only
        # for passwords over 255 bytes); the bcrypt package accepts all three prefixes.
        try:
            return bcrypt.checkpw(secret[:BCRYPT_MAX_PASSWORD_BYTES], stored)
        except ValueError:
            return False

    return "bcrypt", value, check


# --- scrypt ----------------------------------------------------------------------------------


def _scrypt(value: str) -> tuple[str, str, Checker]:
    match = _SCRYPT_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed scrypt hash")
    ln_text, r_text, p_text, salt_text, key_text = match.groups()
    ln, r, p = int(ln_text), int(r_text), int(p_text)
    _range("scrypt ln", ln, 1, SCRYPT_MAX_LN)
    _range("scrypt r", r, 1, SCRYPT_MAX_R)
    _range("scrypt p", p, 1, SCRYPT_MAX_P)
    n = 1 << ln
    if ln >= 16 * r:
        raise UnsupportedHash(f"scrypt ln {ln} too large for r {r} (needs ln < 16*r)")
    memory = 128 * r * n  # the array V, which dominates
    if memory > SCRYPT_MAX_MEMORY_BYTES:
        raise UnsupportedHash(
            f"scrypt memory {memory} bytes exceeds {SCRYPT_MAX_MEMORY_BYTES} bytes"
        )
    # OpenSSL also counts the p blocks of B and two spare blocks against maxmem.
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    if n * r * p > SCRYPT_MAX_WORK:
        raise UnsupportedHash(f"scrypt work N*r*p {n * r * p} exceeds {SCRYPT_MAX_WORK}")
    salt = _b64_unpadded(salt_text, "scrypt", "salt")
    key = _b64_unpadded(key_text, "scrypt", "hash")
    _length("scrypt salt", salt, MIN_SALT_BYTES, MAX_SALT_BYTES)
    _length("scrypt hash", key, SCRYPT_KEY_BYTES, SCRYPT_KEY_BYTES)

    def check(secret: bytes) -> bool:
        derived = hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=len(key))
        return hmac.compare_digest(derived, key)

    return "scrypt", value, check


# --- PBKDF2 (passlib, Django, Keycloak) ------------------------------------------------------


def _pbkdf2_checker(digest: str, iterations: int, salt: bytes, key: bytes) -> Checker:
    _range("pbkdf2 iterations", iterations, 1, PBKDF2_MAX_ITERATIONS)
    _length("pbkdf2 salt", salt, MIN_SALT_BYTES, MAX_SALT_BYTES)
    blocks = -(-len(key) // _DIGEST_SIZE[digest])
    if iterations * blocks > PBKDF2_MAX_WORK:
        raise UnsupportedHash(
            f"pbkdf2 work (iterations x key blocks) {iterations * blocks} exceeds {PBKDF2_MAX_WORK}"
        )

    def check(secret: bytes) -> bool:
        derived = hashlib.pbkdf2_hmac(digest, secret, salt, iterations, dklen=len(key))
        return hmac.compare_digest(derived, key)

    return check


def _passlib_pbkdf2(value: str) -> tuple[str, str, Checker]:
    match = _PASSLIB_PBKDF2_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed pbkdf2 hash")
    digest, iterations, salt_text, key_text = match.groups()
    scheme = f"pbkdf2-{digest}"
    salt = _b64_unpadded(salt_text, scheme, "salt", ab64=True)
    key = _b64_unpadded(key_text, scheme, "hash", ab64=True)
    size = _DIGEST_SIZE[digest]
    _length(f"{scheme} hash", key, size, size)
    return scheme, value, _pbkdf2_checker(digest, int(iterations), salt, key)


def _django_pbkdf2(value: str) -> tuple[str, str, Checker]:
    match = _DJANGO_PBKDF2_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed Django pbkdf2_sha256 hash")
    iterations, salt_text, key_text = match.groups()
    # Django hashes with the salt's text as UTF-8 (its own salts are alphanumeric).
    if not salt_text or not salt_text.isprintable() or len(salt_text) > MAX_SALT_BYTES:
        raise UnsupportedHash("malformed Django pbkdf2_sha256 hash: bad salt")
    key = _b64_padded(key_text, "Django pbkdf2_sha256", "hash")
    _length("Django pbkdf2_sha256 hash", key, 32, 32)
    salt = salt_text.encode("utf-8")
    return "django-pbkdf2-sha256", value, _pbkdf2_checker("sha256", int(iterations), salt, key)


def _load_json_object(text: str) -> dict[str, object]:
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            raise UnsupportedHash("Keycloak credential has a duplicate field")
        return dict(pairs)

    def no_constants(_: str) -> object:
        raise UnsupportedHash("Keycloak credential is not valid JSON")

    try:
        loaded = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except UnsupportedHash:
        raise
    except (ValueError, RecursionError):  # JSONDecodeError, oversized integers, deep nesting
        raise UnsupportedHash("Keycloak credential is not valid JSON") from None
    if not isinstance(loaded, dict):
        raise UnsupportedHash("Keycloak credential must be a JSON object")
    return loaded


def _keycloak(credential: dict[str, object]) -> tuple[str, str, Checker]:
    fields = set(credential)
    if fields - _KEYCLOAK_FIELDS:
        raise UnsupportedHash(
            "Keycloak credential has unexpected fields (only algorithm, hashIterations, "
            "salt, value)"
        )
    if missing := sorted(_KEYCLOAK_FIELDS - fields):
        raise UnsupportedHash(f"Keycloak credential is missing {', '.join(missing)}")
    algorithm = credential["algorithm"]
    iterations = credential["hashIterations"]
    salt_text = credential["salt"]
    value_text = credential["value"]
    if algorithm not in ("pbkdf2-sha256", "pbkdf2-sha512"):
        raise UnsupportedHash(
            "unsupported Keycloak algorithm (only pbkdf2-sha256 and pbkdf2-sha512)"
        )
    if not isinstance(iterations, int) or isinstance(iterations, bool):
        raise UnsupportedHash("Keycloak hashIterations must be an integer")
    if not isinstance(salt_text, str) or not isinstance(value_text, str):
        raise UnsupportedHash("Keycloak salt and value must be base64 strings")
    scheme = f"keycloak-{algorithm}"
    salt = _b64_padded(salt_text, "Keycloak", "salt")
    key = _b64_padded(value_text, "Keycloak", "value")
    _length("Keycloak value", key, MIN_KEY_BYTES, MAX_KEY_BYTES)
    # Keycloak derives as many bytes as the stored value holds (so, as in Keycloak, a value cut
    # to a shorter prefix would still match). Current versions pad passwords shorter than 14
    # characters with NUL characters; such a password stays under HMAC's 64-byte block, which
    # HMAC pads with zero bytes anyway, so the padding changes nothing and needs no case here.
    check = _pbkdf2_checker(algorithm.removeprefix("pbkdf2-"), iterations, salt, key)
    encoded = json.dumps(
        {
            "algorithm": algorithm,
            "hashIterations": iterations,
            "salt": salt_text,
            "value": value_text,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    if len(encoded) > MAX_ENCODED_LENGTH:
        raise UnsupportedHash(f"password hash longer than {MAX_ENCODED_LENGTH} characters")
    return scheme, encoded, check


_PARSERS: dict[str, Callable[[str], tuple[str, str, Checker]]] = {
    "argon2id": _argon2,
    "argon2i": _argon2,
    "bcrypt": _bcrypt,
    "scrypt": _scrypt,
    "pbkdf2-sha256": _passlib_pbkdf2,
    "pbkdf2-sha512": _passlib_pbkdf2,
    "django-pbkdf2-sha256": _django_pbkdf2,
    "keycloak-pbkdf2-sha256": lambda text: _keycloak(_load_json_object(text)),
    "keycloak-pbkdf2-sha512": lambda text: _keycloak(_load_json_object(text)),
}
