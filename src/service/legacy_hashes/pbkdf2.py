"""PBKDF2 in the three spellings we import: passlib's PHC, Django's, and Keycloak's credential
JSON; checked by `hashlib.pbkdf2_hmac`."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from service.legacy_hashes.encoding import (
    MAX_ENCODED_LENGTH,
    MAX_KEY_BYTES,
    MAX_SALT_BYTES,
    MIN_KEY_BYTES,
    MIN_SALT_BYTES,
    NUM,
    PHC_TAIL,
    Checker,
    Parsed,
    UnsupportedHash,
    b64_padded,
    b64_unpadded,
    in_range,
    length_in,
)

PBKDF2_MAX_ITERATIONS = 10_000_000
PBKDF2_MAX_WORK = PBKDF2_MAX_ITERATIONS  # iterations * output blocks

_KEYCLOAK_FIELDS = frozenset({"algorithm", "hashIterations", "salt", "value"})
_DIGEST_SIZE = {"sha256": 32, "sha512": 64}
_PASSLIB_PBKDF2_RE = re.compile(rf"\$pbkdf2-(sha256|sha512)\${NUM}{PHC_TAIL}", re.ASCII)
_DJANGO_PBKDF2_RE = re.compile(rf"pbkdf2_sha256\${NUM}{PHC_TAIL}", re.ASCII)


def pbkdf2_checker(digest: str, iterations: int, salt: bytes, key: bytes) -> Checker:
    in_range("pbkdf2 iterations", iterations, 1, PBKDF2_MAX_ITERATIONS)
    length_in("pbkdf2 salt", salt, MIN_SALT_BYTES, MAX_SALT_BYTES)
    blocks = -(-len(key) // _DIGEST_SIZE[digest])
    if iterations * blocks > PBKDF2_MAX_WORK:
        raise UnsupportedHash(
            f"pbkdf2 work (iterations x key blocks) {iterations * blocks} exceeds {PBKDF2_MAX_WORK}"
        )

    def check(secret: bytes) -> bool:
        derived = hashlib.pbkdf2_hmac(digest, secret, salt, iterations, dklen=len(key))
        return hmac.compare_digest(derived, key)

    return check


def parse_passlib_pbkdf2(value: str) -> Parsed:
    match = _PASSLIB_PBKDF2_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed pbkdf2 hash")
    digest, iterations, salt_text, key_text = match.groups()
    scheme = f"pbkdf2-{digest}"
    salt = b64_unpadded(salt_text, scheme, "salt", ab64=True)
    key = b64_unpadded(key_text, scheme, "hash", ab64=True)
    size = _DIGEST_SIZE[digest]
    length_in(f"{scheme} hash", key, size, size)
    return scheme, value, pbkdf2_checker(digest, int(iterations), salt, key)


def parse_django_pbkdf2(value: str) -> Parsed:
    match = _DJANGO_PBKDF2_RE.fullmatch(value)
    if match is None:
        raise UnsupportedHash("malformed Django pbkdf2_sha256 hash")
    iterations, salt_text, key_text = match.groups()
    # Django hashes with the salt's text as UTF-8 (its own salts are alphanumeric).
    if not salt_text or not salt_text.isprintable() or len(salt_text) > MAX_SALT_BYTES:
        raise UnsupportedHash("malformed Django pbkdf2_sha256 hash: bad salt")
    key = b64_padded(key_text, "Django pbkdf2_sha256", "hash")
    length_in("Django pbkdf2_sha256 hash", key, 32, 32)
    salt = salt_text.encode("utf-8")
    return "django-pbkdf2-sha256", value, pbkdf2_checker("sha256", int(iterations), salt, key)


def load_json_object(text: str) -> dict[str, object]:
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


def parse_keycloak(credential: dict[str, object]) -> Parsed:
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
    salt = b64_padded(salt_text, "Keycloak", "salt")
    key = b64_padded(value_text, "Keycloak", "value")
    length_in("Keycloak value", key, MIN_KEY_BYTES, MAX_KEY_BYTES)
    # Keycloak derives as many bytes as the stored value holds (so, as in Keycloak, a value cut
    # to a shorter prefix would still match). Current versions pad passwords shorter than 14
    # characters with NUL characters; such a password stays under HMAC's 64-byte block, which
    # HMAC pads with zero bytes anyway, so the padding changes nothing and needs no case here.
    check = pbkdf2_checker(algorithm.removeprefix("pbkdf2-"), iterations, salt, key)
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
