"""Legacy password hashes on import: every scheme checked against hashes that other
implementations wrote (passlib/libpass, the bcrypt package, Django, argon2-cffi, published test
vectors, Keycloak's documented credential format), strict refusal of malformed or abusive input,
and a verify that never raises on bad stored data."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import bcrypt
import pytest
from argon2 import PasswordHasher, Type
from passlib import hash as passlib_hash

from service import legacy_hashes
from service.legacy_hashes import SCHEMES, LegacyHash, UnsupportedHash, parse, scheme_of, verify

PASSWORD = "correct horse battery stäple"
WRONG = "correct horse battery staple"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64_unpadded(data: bytes) -> str:
    return _b64(data).rstrip("=")


def _ab64(data: bytes) -> str:
    return _b64_unpadded(data).replace("+", ".")


def _django_hasher():
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            USE_TZ=True,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
        )
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    return PBKDF2PasswordHasher()


def _keycloak_credential(
    algorithm: str, password: str, iterations: int, key_bytes: int, *, pad_to_14: bool = False
) -> dict[str, object]:
    """Written from Keycloak's credential format: PBKDF2WithHmacSHA256/512 over the password's
    UTF-8 bytes, a 16-byte salt, the derived key and salt standard-base64 encoded."""
    digest = {"pbkdf2-sha256": "sha256", "pbkdf2-sha512": "sha512"}[algorithm]
    if pad_to_14 and len(password) < 14:  # what current Keycloak versions do before deriving
        password = password + "\0" * (14 - len(password))
    salt = bytes(range(16))
    value = hashlib.pbkdf2_hmac(digest, password.encode("utf-8"), salt, iterations, key_bytes)
    return {"algorithm": algorithm, "hashIterations": iterations, "salt": _b64(salt),
            "value": _b64(value)}  # fmt: skip


# --- round trips with hashes written by other implementations ------------------------------


def _reference_hashes() -> list[tuple[str, str, object]]:
    """(case id, expected scheme, hash as an import row would carry it)."""
    django = _django_hasher()
    cases: list[tuple[str, str, object]] = [
        ("passlib-pbkdf2-sha256", "pbkdf2-sha256",
         passlib_hash.pbkdf2_sha256.using(rounds=1000).hash(PASSWORD)),
        ("passlib-pbkdf2-sha512", "pbkdf2-sha512",
         passlib_hash.pbkdf2_sha512.using(rounds=1000).hash(PASSWORD)),
        ("passlib-scrypt", "scrypt", passlib_hash.scrypt.using(rounds=4).hash(PASSWORD)),
        ("passlib-argon2i", "argon2i",
         passlib_hash.argon2.using(type="i", rounds=1, memory_cost=64).hash(PASSWORD)),
        ("passlib-argon2id", "argon2id",
         passlib_hash.argon2.using(type="id", rounds=1, memory_cost=64).hash(PASSWORD)),
        ("passlib-bcrypt-2b", "bcrypt", passlib_hash.bcrypt.using(rounds=4).hash(PASSWORD)),
        ("passlib-bcrypt-2a", "bcrypt",
         passlib_hash.bcrypt.using(rounds=4, ident="2a").hash(PASSWORD)),
        ("passlib-bcrypt-2y", "bcrypt",
         passlib_hash.bcrypt.using(rounds=4, ident="2y").hash(PASSWORD)),
        ("bcrypt-package-2b", "bcrypt",
         bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()),
        ("bcrypt-package-2a", "bcrypt",
         bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4, prefix=b"2a")).decode()),
        ("argon2-cffi-id", "argon2id",
         PasswordHasher(time_cost=1, memory_cost=64, parallelism=2).hash(PASSWORD)),
        ("argon2-cffi-i", "argon2i",
         PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=Type.I).hash(PASSWORD)),
        ("django-pbkdf2-sha256", "django-pbkdf2-sha256",
         django.encode(PASSWORD, django.salt(), iterations=1000)),
        ("keycloak-sha256-dict", "keycloak-pbkdf2-sha256",
         _keycloak_credential("pbkdf2-sha256", PASSWORD, 1000, 64)),
        ("keycloak-sha256-32-byte-json-text", "keycloak-pbkdf2-sha256",
         json.dumps(_keycloak_credential("pbkdf2-sha256", PASSWORD, 1000, 32), indent=2)),
        ("keycloak-sha512-dict", "keycloak-pbkdf2-sha512",
         _keycloak_credential("pbkdf2-sha512", PASSWORD, 1000, 64)),
        ("keycloak-sha512-128-byte-json-text", "keycloak-pbkdf2-sha512",
         json.dumps(_keycloak_credential("pbkdf2-sha512", PASSWORD, 1000, 128))),
    ]  # fmt: skip
    return cases


REFERENCE = _reference_hashes()


@pytest.mark.parametrize(
    ("scheme", "value"), [c[1:] for c in REFERENCE], ids=[c[0] for c in REFERENCE]
)
def test_hash_from_reference_implementation_parses_and_verifies(scheme, value):
    legacy = parse(value)
    assert legacy.scheme == scheme
    assert scheme_of(legacy.encoded) == scheme
    assert verify(legacy.encoded, PASSWORD)
    assert not verify(legacy.encoded, WRONG)
    assert not verify(legacy.encoded, "")


def test_every_scheme_has_a_reference_round_trip():
    assert {c[1] for c in REFERENCE} == set(SCHEMES)
    assert SCHEMES == (
        "argon2id", "argon2i", "bcrypt", "scrypt", "pbkdf2-sha256", "pbkdf2-sha512",
        "django-pbkdf2-sha256", "keycloak-pbkdf2-sha256", "keycloak-pbkdf2-sha512",
    )  # fmt: skip


def test_string_formats_are_stored_exactly_as_given():
    for _, _, value in REFERENCE:
        if isinstance(value, str) and not value.startswith("{"):
            assert parse(value) == LegacyHash(scheme=scheme_of(value), encoded=value)


def test_keycloak_credential_is_stored_as_compact_sorted_json():
    credential = _keycloak_credential("pbkdf2-sha256", PASSWORD, 1000, 64)
    expected = json.dumps(credential, sort_keys=True, separators=(",", ":"))
    reordered = dict(reversed(list(credential.items())))
    assert parse(credential).encoded == expected
    assert parse(reordered).encoded == expected
    assert parse(json.dumps(reordered, indent=4)).encoded == expected
    assert parse(expected) == parse(credential)  # parsing what we stored changes nothing


def test_keycloak_nul_padding_of_short_passwords_changes_nothing():
    padded = _keycloak_credential("pbkdf2-sha256", "short", 1000, 64, pad_to_14=True)
    plain = _keycloak_credential("pbkdf2-sha256", "short", 1000, 64)
    assert padded == plain
    assert verify(parse(padded).encoded, "short")


def test_argon2_version_16_hash_verifies():
    # Version 0x10 hashes, as older argon2 libraries wrote them, made with argon2-cffi's
    # low-level API.
    from argon2.low_level import hash_secret

    encoded = hash_secret(
        PASSWORD.encode(), b"saltsalt", time_cost=1, memory_cost=64, parallelism=1,
        hash_len=32, type=Type.I, version=16,
    ).decode()  # fmt: skip
    assert encoded.startswith("$argon2i$v=16$")
    assert parse(encoded).scheme == "argon2i"
    assert verify(encoded, PASSWORD)
    assert not verify(encoded, WRONG)


# --- published test vectors -----------------------------------------------------------------

# RFC 7914 §12, second vector: scrypt(P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64).
RFC7914_SCRYPT = bytes.fromhex(
    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
    "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
)
# RFC 7914 §11: PBKDF2-HMAC-SHA256(P="passwd", S="salt", c=1, dkLen=64) and
# PBKDF2-HMAC-SHA256(P="Password", S="NaCl", c=80000, dkLen=64).
RFC7914_PBKDF2_C1 = bytes.fromhex(
    "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
    "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
)
RFC7914_PBKDF2_C80000 = bytes.fromhex(
    "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
    "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
)

KNOWN_VECTORS = [
    # scrypt PHC as passlib writes it (32-byte key). scrypt ends with one PBKDF2 round whose
    # first block does not depend on dkLen, so the RFC's first 32 bytes are that key.
    ("rfc7914-scrypt", "scrypt",
     f"$scrypt$ln=10,r=8,p=16${_b64_unpadded(b'NaCl')}${_b64_unpadded(RFC7914_SCRYPT[:32])}",
     "password"),
    # PBKDF2's first block does not depend on dkLen, so the RFC's first 32 bytes are the
    # 32-byte key passlib stores.
    ("rfc7914-pbkdf2-passlib-c1", "pbkdf2-sha256",
     f"$pbkdf2-sha256$1${_ab64(b'salt')}${_ab64(RFC7914_PBKDF2_C1[:32])}", "passwd"),
    ("rfc7914-pbkdf2-passlib-c80000", "pbkdf2-sha256",
     f"$pbkdf2-sha256$80000${_ab64(b'NaCl')}${_ab64(RFC7914_PBKDF2_C80000[:32])}", "Password"),
    # Keycloak's pbkdf2-sha256 historically stored 64-byte values, exactly the RFC's dkLen.
    ("rfc7914-pbkdf2-keycloak-c1", "keycloak-pbkdf2-sha256",
     {"algorithm": "pbkdf2-sha256", "hashIterations": 1, "salt": _b64(b"salt"),
      "value": _b64(RFC7914_PBKDF2_C1)}, "passwd"),
    ("rfc7914-pbkdf2-django-c80000", "django-pbkdf2-sha256",
     f"pbkdf2_sha256$80000$NaCl${_b64(RFC7914_PBKDF2_C80000[:32])}", "Password"),
    # OpenBSD / Openwall bcrypt vectors.
    ("openwall-bcrypt-1", "bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
     "U*U"),
    ("openwall-bcrypt-2", "bcrypt", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a",
     "U*U*U"),
    ("openwall-bcrypt-empty", "bcrypt",
     "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", ""),
    # PHP manual's password_verify examples ($2y$, as PHP writes it).
    ("php-manual-2y-07", "bcrypt", "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq",
     "rasmuslerdorf"),
    ("php-manual-2y-10", "bcrypt", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a",
     "rasmuslerdorf"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("scheme", "value", "password"),
    [v[1:] for v in KNOWN_VECTORS],
    ids=[v[0] for v in KNOWN_VECTORS],
)
def test_published_test_vector_verifies(scheme, value, password):
    legacy = parse(value)
    assert legacy.scheme == scheme
    assert verify(legacy.encoded, password)
    assert not verify(legacy.encoded, password + "x")


def test_passlib_and_django_default_parameters_verify():
    django = _django_hasher()
    for encoded in (
        passlib_hash.pbkdf2_sha256.hash(PASSWORD),
        passlib_hash.pbkdf2_sha512.hash(PASSWORD),
        passlib_hash.scrypt.hash(PASSWORD),
        passlib_hash.argon2.hash(PASSWORD),
        passlib_hash.bcrypt.hash(PASSWORD),
        django.encode(PASSWORD, django.salt()),
    ):
        assert verify(parse(encoded).encoded, PASSWORD)


# --- bcrypt's 72-byte limit -------------------------------------------------------------------


def test_bcrypt_checks_only_the_first_72_bytes_like_the_original_systems():
    # The OpenBSD vector: everything after byte 72 was ignored when the hash was made.
    long_password = (
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        "chars after 72 are ignored"
    )
    encoded = "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"
    assert verify(encoded, long_password)
    assert verify(encoded, long_password[:72])
    assert verify(encoded, long_password[:72] + "anything else")
    assert not verify(encoded, long_password[:71])
    assert not verify(encoded, "X" + long_password[1:])


def test_bcrypt_long_multibyte_password_is_cut_at_72_bytes():
    password = "ä" * 40  # 80 bytes of UTF-8; byte 72 ends the 36th character
    encoded = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4)).decode()
    assert verify(encoded, password)
    assert verify(encoded, "ä" * 36 + "different tail")
    assert not verify(encoded, "ä" * 35)


# --- refusals ---------------------------------------------------------------------------------

SALT16 = _b64_unpadded(bytes(range(16)))
KEY32 = _b64_unpadded(bytes(range(32)))
AB_SALT = _ab64(bytes(range(16)))
AB_KEY32 = _ab64(bytes(range(32)))
AB_KEY64 = _ab64(bytes(range(64)))
BC_SALT = "CCCCCCCCCCCCCCCCCCCCC."
BC_KEY = "E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
DJ_KEY = _b64(bytes(range(32)))
KC_SALT = _b64(bytes(range(16)))
KC_VALUE = _b64(bytes(range(64)))

MALFORMED = [
    # (id, value, fragment the reason must contain)
    ("empty", "", "empty"),
    ("whitespace", f" $2b$04${BC_SALT}{BC_KEY}", "whitespace"),
    ("md5-crypt", "$1$saltsalt$abcdefghijklmnopqrstuv", "unknown hash scheme"),
    ("md5-phc", "$md5$rounds=1000$salt$hash", "unknown hash scheme"),
    ("ldap-ssha", "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "unknown hash scheme"),
    ("plain-text", "hunter2", "unknown hash scheme"),
    ("sha512-crypt", "$6$rounds=5000$salt$hash", "unknown hash scheme"),
    ("argon2d", f"$argon2d$v=19$m=64,t=1,p=1${SALT16}${KEY32}", "argon2 variant"),
    ("django-sha1", "pbkdf2_sha1$1000$salt$aGFzaA==", "Django hasher"),
    ("bcrypt-2x", f"$2x$04${BC_SALT}{BC_KEY}", "bcrypt variant"),
    ("too-long", "$2b$" + "a" * 5000, "longer than"),
    # argon2
    ("argon2-truncated", f"$argon2id$v=19$m=64,t=1,p=1${SALT16}", "malformed argon2"),
    ("argon2-param-order", f"$argon2id$v=19$t=1,m=64,p=1${SALT16}${KEY32}", "malformed argon2"),
    ("argon2-leading-zero", f"$argon2id$v=19$m=064,t=1,p=1${SALT16}${KEY32}", "malformed argon2"),
    ("argon2-bad-base64", f"$argon2id$v=19$m=64,t=1,p=1$sa!t{SALT16}${KEY32}", "base64"),
    ("argon2-padded-base64", f"$argon2id$v=19$m=64,t=1,p=1${SALT16}==${KEY32}", "base64"),
    ("argon2-version", f"$argon2id$v=20$m=64,t=1,p=1${SALT16}${KEY32}", "version 20"),
    ("argon2-memory-high", f"$argon2id$v=19$m=2097152,t=1,p=1${SALT16}${KEY32}",
     "argon2 memory (KiB) 2097152 out of range"),
    ("argon2-memory-low", f"$argon2id$v=19$m=8,t=1,p=4${SALT16}${KEY32}", "memory (KiB) 8"),
    ("argon2-time-high", f"$argon2id$v=19$m=64,t=21,p=1${SALT16}${KEY32}", "time 21"),
    ("argon2-time-zero", f"$argon2id$v=19$m=64,t=0,p=1${SALT16}${KEY32}", "time 0"),
    ("argon2-lanes-zero", f"$argon2id$v=19$m=64,t=1,p=0${SALT16}${KEY32}", "parallelism 0"),
    ("argon2-memory-x-time", f"$argon2id$v=19$m=1048576,t=5,p=1${SALT16}${KEY32}",
     "memory x time"),
    ("argon2-short-salt", f"$argon2id$v=19$m=64,t=1,p=1${_b64_unpadded(b'1234567')}${KEY32}",
     "salt length 7"),
    ("argon2-short-hash", f"$argon2id$v=19$m=64,t=1,p=1${SALT16}${_b64_unpadded(b'x' * 8)}",
     "hash length 8"),
    ("argon2-keyid", f"$argon2id$v=19$m=64,t=1,p=1,keyid=AAAA${SALT16}${KEY32}",
     "malformed argon2"),
    # bcrypt
    ("bcrypt-truncated", f"$2b$04${BC_SALT}{BC_KEY[:-1]}", "malformed bcrypt"),
    ("bcrypt-bad-char", f"$2b$04${BC_SALT}{BC_KEY[:-2]}!W", "malformed bcrypt"),
    ("bcrypt-cost-high", f"$2b$17${BC_SALT}{BC_KEY}", "bcrypt cost 17 out of range 4..16"),
    ("bcrypt-cost-low", f"$2b$03${BC_SALT}{BC_KEY}", "bcrypt cost 3"),
    ("bcrypt-one-digit-cost", f"$2b$4${BC_SALT}{BC_KEY}x", "malformed bcrypt"),
    ("bcrypt-noncanonical-salt", f"$2b$04${BC_SALT[:-1]}P{BC_KEY}", "non-canonical"),
    ("bcrypt-noncanonical-hash", f"$2b$04${BC_SALT}{BC_KEY[:-1]}X", "non-canonical"),
    # scrypt
    ("scrypt-truncated", f"$scrypt$ln=4,r=8,p=1${SALT16}", "malformed scrypt"),
    ("scrypt-bad-base64", f"$scrypt$ln=4,r=8,p=1${SALT16}${KEY32[:-1]}!", "base64"),
    ("scrypt-wrong-length-base64", f"$scrypt$ln=4,r=8,p=1${SALT16}${KEY32}AA", "base64"),
    ("scrypt-ln-high", f"$scrypt$ln=21,r=1,p=1${SALT16}${KEY32}", "scrypt ln 21"),
    ("scrypt-ln-zero", f"$scrypt$ln=0,r=8,p=1${SALT16}${KEY32}", "scrypt ln 0"),
    ("scrypt-r-high", f"$scrypt$ln=4,r=33,p=1${SALT16}${KEY32}", "scrypt r 33"),
    ("scrypt-p-high", f"$scrypt$ln=4,r=8,p=17${SALT16}${KEY32}", "scrypt p 17"),
    ("scrypt-memory", f"$scrypt$ln=20,r=8,p=1${SALT16}${KEY32}", "scrypt memory"),
    ("scrypt-work", f"$scrypt$ln=17,r=8,p=16${SALT16}${KEY32}", "scrypt work"),
    ("scrypt-n-vs-r", f"$scrypt$ln=16,r=1,p=1${SALT16}${KEY32}", "too large for r"),
    ("scrypt-empty-salt", f"$scrypt$ln=4,r=8,p=1$${KEY32}", "salt length 0"),
    ("scrypt-short-key", f"$scrypt$ln=4,r=8,p=1${SALT16}${_b64_unpadded(b'k' * 30)}",
     "hash length 30 bytes out of range 32..32"),
    ("scrypt-long-key", f"$scrypt$ln=4,r=8,p=1${SALT16}${_b64_unpadded(b'k' * 64)}",
     "hash length 64"),
    # passlib PBKDF2
    ("pbkdf2-truncated", f"$pbkdf2-sha256$1000${AB_SALT}", "malformed pbkdf2"),
    ("pbkdf2-iterations-zero", f"$pbkdf2-sha256$0${AB_SALT}${AB_KEY32}",
     "pbkdf2 iterations 0 out of range 1..10000000"),
    ("pbkdf2-iterations-high", f"$pbkdf2-sha512$10000001${AB_SALT}${AB_KEY64}",
     "pbkdf2 iterations 10000001"),
    ("pbkdf2-negative", f"$pbkdf2-sha256$-5${AB_SALT}${AB_KEY32}", "malformed pbkdf2"),
    ("pbkdf2-plus-in-ab64", f"$pbkdf2-sha256$1000${_b64_unpadded(bytes([251] * 16))}${AB_KEY32}",
     "base64"),
    ("pbkdf2-sha256-key-length", f"$pbkdf2-sha256$1000${AB_SALT}${AB_KEY64}",
     "hash length 64 bytes out of range 32..32"),
    ("pbkdf2-sha512-key-length", f"$pbkdf2-sha512$1000${AB_SALT}${AB_KEY32}", "hash length 32"),
    ("pbkdf2-empty-salt", f"$pbkdf2-sha256$1000$${AB_KEY32}", "salt length 0"),
    ("pbkdf2-sha1", f"$pbkdf2$1000${AB_SALT}${AB_KEY32}", "unknown hash scheme"),
    # Django
    ("django-truncated", "pbkdf2_sha256$1000$salt", "malformed Django"),
    ("django-empty-salt", f"pbkdf2_sha256$1000$${DJ_KEY}", "bad salt"),
    ("django-unpadded", f"pbkdf2_sha256$1000$salt${DJ_KEY.rstrip('=')}", "base64"),
    ("django-short-hash", f"pbkdf2_sha256$1000$salt${_b64(b'x' * 20)}", "hash length 20"),
    ("django-iterations-zero", f"pbkdf2_sha256$0$salt${DJ_KEY}", "iterations 0"),
    # Keycloak JSON text
    ("keycloak-not-json", '{"algorithm": "pbkdf2-sha256",', "not valid JSON"),
    ("keycloak-array", '[{"algorithm": "pbkdf2-sha256"}]', "unknown hash scheme"),
    ("keycloak-nan", '{"algorithm":"pbkdf2-sha256","hashIterations":NaN,"salt":"","value":""}',
     "not valid JSON"),
    ("keycloak-duplicate", '{"algorithm":"pbkdf2-sha256","algorithm":"pbkdf2-sha512",'
     f'"hashIterations":1000,"salt":"{KC_SALT}","value":"{KC_VALUE}"}}', "duplicate"),
    ("keycloak-deep", '{"a":' + "[" * 2040 + "]" * 2040 + "}", "not valid JSON"),
    ("keycloak-huge-int", '{"algorithm":"pbkdf2-sha256","hashIterations":' + "9" * 3000
     + f',"salt":"{KC_SALT}","value":"{KC_VALUE}"}}', "iterations of more than 12 digits"),
    ("ldap-smd5", "{SMD5}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "unknown hash scheme"),
    ("keycloak-empty-object", "{}", "missing algorithm, hashIterations, salt, value"),
]  # fmt: skip


_DROP = object()


def _keycloak(**changes: object) -> dict[str, object]:
    credential: dict[str, object] = {
        "algorithm": "pbkdf2-sha256", "hashIterations": 1000, "salt": KC_SALT, "value": KC_VALUE,
    }  # fmt: skip
    credential.update(changes)
    return {key: value for key, value in credential.items() if value is not _DROP}


MALFORMED_KEYCLOAK = [
    ("missing-value", _keycloak(value=_DROP), "missing value"),
    ("extra-field", _keycloak(type="password"), "unexpected fields"),
    ("sha1", _keycloak(algorithm="pbkdf2"), "unsupported Keycloak algorithm"),
    ("algorithm-number", _keycloak(algorithm=256), "unsupported Keycloak algorithm"),
    ("iterations-string", _keycloak(hashIterations="1000"), "must be an integer"),
    ("iterations-float", _keycloak(hashIterations=1000.0), "must be an integer"),
    ("iterations-bool", _keycloak(hashIterations=True), "must be an integer"),
    ("iterations-null", _keycloak(hashIterations=None), "must be an integer"),
    ("iterations-zero", _keycloak(hashIterations=0), "iterations 0"),
    ("iterations-high", _keycloak(hashIterations=20_000_000), "iterations 20000000"),
    ("iterations-huge", _keycloak(hashIterations=10**5000), "iterations of more than 12 digits"),
    ("iterations-negative", _keycloak(hashIterations=-1), "iterations -1"),
    ("work-two-blocks", _keycloak(hashIterations=6_000_000), "pbkdf2 work"),
    ("salt-number", _keycloak(salt=12345), "base64 strings"),
    ("value-list", _keycloak(value=[KC_VALUE]), "base64 strings"),
    ("salt-bad-base64", _keycloak(salt="not*base64"), "salt is not valid base64"),
    ("value-unpadded", _keycloak(value=KC_VALUE.rstrip("=") + "A"), "value is not valid base64"),
    ("value-short", _keycloak(value=_b64(b"v" * 8)), "value length 8"),
    ("value-long", _keycloak(value=_b64(b"v" * 256)), "value length 256"),
    ("salt-empty", _keycloak(salt=""), "salt length 0"),
]


def _secret_parts(value: object) -> list[str]:
    """What must never appear in a message: the whole hash, its salt and its digest."""
    if isinstance(value, dict):
        pieces = [str(value.get("salt")), str(value.get("value"))]
    elif value.startswith("{"):
        pieces = [value]
    elif value.startswith("$2"):
        pieces = [value, value[7:29], value[29:]]
    else:
        pieces = [value, *value.split("$")[-2:]]
    return [p for p in pieces if len(p) >= 8]


@pytest.mark.parametrize(
    ("value", "reason"),
    [m[1:] for m in MALFORMED + MALFORMED_KEYCLOAK],
    ids=[m[0] for m in MALFORMED + MALFORMED_KEYCLOAK],
)
def test_malformed_hash_is_refused_with_a_reason_that_does_not_echo_it(value, reason):
    with pytest.raises(UnsupportedHash) as caught:
        parse(value)
    message = str(caught.value)
    assert reason in message
    assert len(message) < 120
    for piece in _secret_parts(value):
        assert piece not in message


@pytest.mark.parametrize(
    "value", [None, 42, 1.5, True, ["$2b$04$"], b"$2b$04$"], ids=lambda v: type(v).__name__
)
def test_non_string_non_object_hash_is_refused(value):
    with pytest.raises(UnsupportedHash, match="must be a string or a Keycloak credential"):
        parse(value)


def test_unsupported_hash_is_a_value_error():
    assert issubclass(UnsupportedHash, ValueError)


def test_keycloak_json_text_with_non_string_fields_is_refused():
    text = json.dumps(_keycloak(salt=None))
    with pytest.raises(UnsupportedHash, match="base64 strings"):
        parse(text)


# --- verify is total --------------------------------------------------------------------------


def _mutations(encoded: str) -> list[str]:
    out = [encoded[:cut] for cut in range(0, len(encoded), 7)]
    out += [encoded[:i] + "!" + encoded[i + 1 :] for i in range(0, len(encoded), 5)]
    out += [encoded + "A", encoded + "$", encoded.upper(), encoded.replace("$", "$$", 2)]
    return [m for m in out if m != encoded]


def test_verify_never_raises_on_garbage():
    garbage: list[object] = ["", "$", "$$$$", "{", "{}", "null", "[]", "\x00", "é" * 10, "$2y$"]
    garbage += [m[1] for m in MALFORMED]
    garbage += [m[1] for m in MALFORMED_KEYCLOAK]  # dicts are not stored values: False too
    garbage += [json.dumps(m[1]) for m in MALFORMED_KEYCLOAK if m[0] != "iterations-huge"]
    for _, _, value in REFERENCE:
        encoded = parse(value).encoded
        garbage += _mutations(encoded)
    for value in garbage:
        assert verify(value, PASSWORD) is False  # type: ignore[arg-type]


def test_verify_refuses_odd_password_inputs_without_raising():
    encoded = passlib_hash.pbkdf2_sha256.using(rounds=1000).hash(PASSWORD)
    assert verify(encoded, "\ud800") is False  # lone surrogate: not encodable as UTF-8
    assert verify(encoded, None) is False  # type: ignore[arg-type]
    assert verify(12345, PASSWORD) is False  # type: ignore[arg-type]


def test_verify_refuses_stored_parameters_out_of_bounds_without_computing():
    expensive = [
        f"$argon2id$v=19$m=4194304,t=1,p=1${SALT16}${KEY32}",
        f"$2b$31${BC_SALT}{BC_KEY}",
        f"$scrypt$ln=30,r=8,p=1${SALT16}${KEY32}",
        f"$pbkdf2-sha256$4000000000${AB_SALT}${AB_KEY32}",
        f"pbkdf2_sha256$4000000000$salt${DJ_KEY}",
        json.dumps(_keycloak(hashIterations=2**40), sort_keys=True, separators=(",", ":")),
    ]
    started = time.perf_counter()
    for encoded in expensive:
        assert verify(encoded, PASSWORD) is False
    assert time.perf_counter() - started < 0.5


def test_scheme_of_reads_the_prefix_only():
    for _, scheme, value in REFERENCE:
        assert scheme_of(parse(value).encoded) == scheme
    assert scheme_of("$2y$ not validated here") == "bcrypt"
    with pytest.raises(UnsupportedHash, match="unknown hash scheme"):
        scheme_of("{SSHA}abc")


def test_bounds_are_the_documented_ones():
    assert legacy_hashes.ARGON2_MAX_MEMORY_KIB == 1024 * 1024
    assert legacy_hashes.ARGON2_MAX_TIME == 20
    assert (legacy_hashes.BCRYPT_MIN_COST, legacy_hashes.BCRYPT_MAX_COST) == (4, 16)
    assert legacy_hashes.SCRYPT_MAX_LN == 20
    assert legacy_hashes.SCRYPT_MAX_MEMORY_BYTES == 256 * 1024 * 1024
    assert legacy_hashes.PBKDF2_MAX_ITERATIONS == 10_000_000
    # The largest accepted parameters still parse (they are bounds, not off-by-one limits).
    for encoded in (
        f"$argon2id$v=19$m=1048576,t=4,p=4${SALT16}${KEY32}",
        f"$argon2id$v=19$m=65536,t=20,p=4${SALT16}${KEY32}",
        f"$2b$16${BC_SALT}{BC_KEY}",
        f"$scrypt$ln=20,r=2,p=1${SALT16}${KEY32}",
        f"$scrypt$ln=17,r=8,p=8${SALT16}${KEY32}",
        f"$pbkdf2-sha512$10000000${AB_SALT}${AB_KEY64}",
        f"pbkdf2_sha256$10000000$salt${DJ_KEY}",
    ):
        parse(encoded)
    parse(_keycloak(hashIterations=5_000_000))  # 64-byte SHA-256 value: two blocks each
