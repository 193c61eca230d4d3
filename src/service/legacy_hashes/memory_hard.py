"""argon2, bcrypt and scrypt: parsed strictly, bounded, checked by argon2-cffi, the `bcrypt`
package and `hashlib.scrypt`."""

from __future__ import annotations

import hashlib
import hmac
import re

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.legacy_hashes.encoding import (
    MAX_KEY_BYTES,
    MAX_SALT_BYTES,
    MIN_KEY_BYTES,
    MIN_SALT_BYTES,
    NUM,
    PHC_TAIL,
    Parsed,
    UnsupportedHash,
    b64_unpadded,
    in_range,
    length_in,
)

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

_ARGON2_RE = re.compile(
    rf"\$(argon2id|argon2i)\$(?:v={NUM}\$)?m={NUM},t={NUM},p={NUM}{PHC_TAIL}", re.ASCII
)
_BCRYPT_RE = re.compile(r"\$2[aby]\$([0-9]{2})\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})", re.ASCII)
_SCRYPT_RE = re.compile(rf"\$scrypt\$ln={NUM},r={NUM},p={NUM}{PHC_TAIL}", re.ASCII)
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

_ARGON2 = PasswordHasher()


def parse_argon2(value: str) -> Parsed:
    match = _ARGON2_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed argon2 hash")
    scheme, version, memory, time, lanes, salt_text, tag_text = match.groups()
    if version is not None and version not in ("16", "19"):
        raise UnsupportedHash(f"argon2 version {version} not supported (16 or 19)")
    parallelism = int(lanes)
    in_range("argon2 parallelism", parallelism, 1, ARGON2_MAX_PARALLELISM)
    in_range("argon2 time", int(time), 1, ARGON2_MAX_TIME)
    in_range("argon2 memory (KiB)", int(memory), 8 * parallelism, ARGON2_MAX_MEMORY_KIB)
    if int(memory) * int(time) > ARGON2_MAX_MEMORY_TIME_KIB:
        raise UnsupportedHash(
            f"argon2 memory x time {int(memory) * int(time)} KiB exceeds "
            f"{ARGON2_MAX_MEMORY_TIME_KIB}"
        )
    length_in("argon2 salt", b64_unpadded(salt_text, "argon2", "salt"), 8, MAX_SALT_BYTES)
    length_in("argon2 hash", b64_unpadded(tag_text, "argon2", "hash"), MIN_KEY_BYTES, MAX_KEY_BYTES)

    def check(secret: bytes) -> bool:
        # argon2-cffi reads the variant and parameters from the string and compares in
        # constant time inside libargon2.
        try:
            return _ARGON2.verify(value, secret)
        except (VerificationError, InvalidHashError):
            return False

    return scheme, value, check


def parse_bcrypt(value: str) -> Parsed:
    match = _BCRYPT_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed bcrypt hash")
    cost, salt, digest = match.groups()
    in_range("bcrypt cost", int(cost), BCRYPT_MIN_COST, BCRYPT_MAX_COST)
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


def parse_scrypt(value: str) -> Parsed:
    match = _SCRYPT_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed scrypt hash")
    ln_text, r_text, p_text, salt_text, key_text = match.groups()
    ln, r, p = int(ln_text), int(r_text), int(p_text)
    in_range("scrypt ln", ln, 1, SCRYPT_MAX_LN)
    in_range("scrypt r", r, 1, SCRYPT_MAX_R)
    in_range("scrypt p", p, 1, SCRYPT_MAX_P)
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
    salt = b64_unpadded(salt_text, "scrypt", "salt")
    key = b64_unpadded(key_text, "scrypt", "hash")
    length_in("scrypt salt", salt, MIN_SALT_BYTES, MAX_SALT_BYTES)
    length_in("scrypt hash", key, SCRYPT_KEY_BYTES, SCRYPT_KEY_BYTES)

    def check(secret: bytes) -> bool:
        derived = hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=len(key))
        return hmac.compare_digest(derived, key)

    return "scrypt", value, check
