"""What every legacy format shares: the refusal, bounds on salts and keys, and base64
read strictly (canonical encodings only, so one hash has one spelling)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

MAX_ENCODED_LENGTH = 4096
MIN_SALT_BYTES = 1
MAX_SALT_BYTES = 1024
MIN_KEY_BYTES = 16
MAX_KEY_BYTES = 128

# A decimal parameter: no sign, no leading zeros, at most 10 digits (ASCII only: `re.ASCII`).
NUM = r"(0|[1-9][0-9]{0,9})"
PHC_TAIL = r"\$([^$]*)\$([^$]*)"  # $salt$hash, each checked as base64 afterwards

B64_STD_UNPADDED = re.compile(r"[A-Za-z0-9+/]*", re.ASCII)
B64_AB64 = re.compile(r"[A-Za-z0-9./]*", re.ASCII)
B64_STD_PADDED = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?", re.ASCII
)

Checker = Callable[[bytes], bool]
Parsed = tuple[str, str, Checker]  # scheme, the encoded form to store, its password check


class UnsupportedHash(ValueError):
    """A password hash that cannot be imported; the message is a user-facing reason."""


def in_range(what: str, number: int, low: int, high: int) -> None:
    if not low <= number <= high:
        shown = str(number) if abs(number) < 10**12 else "of more than 12 digits"
        raise UnsupportedHash(f"{what} {shown} out of range {low}..{high}")


def length_in(what: str, data: bytes, low: int, high: int) -> None:
    if not low <= len(data) <= high:
        raise UnsupportedHash(f"{what} length {len(data)} bytes out of range {low}..{high}")


def b64_unpadded(text: str, scheme: str, field: str, *, ab64: bool = False) -> bytes:
    """Base64 without padding (PHC strings; passlib's "ab64" uses '.' instead of '+')."""
    pattern = B64_AB64 if ab64 else B64_STD_UNPADDED
    if not pattern.fullmatch(text) or len(text) % 4 == 1:
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64")
    standard = text.replace(".", "+") if ab64 else text
    data = base64.b64decode(standard + "=" * (-len(standard) % 4))
    # Canonical form only: the unused low bits of the last character must be zero.
    if base64.b64encode(data).decode("ascii").rstrip("=") != standard:
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64")
    return data


def b64_padded(text: str, scheme: str, field: str) -> bytes:
    """Standard base64 with padding (Django, Keycloak)."""
    if not B64_STD_PADDED.fullmatch(text):
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise UnsupportedHash(f"malformed {scheme} hash: {field} is not valid base64")
    return data
