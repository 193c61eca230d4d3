"""C2SP signed notes with Ed25519 and `tlog-checkpoint` bodies, to the byte.

Key id = SHA-256(name || "\\n" || 0x01 || public key)[:4]; verifier key
`<name>+<key id hex>+<base64(0x01 || public key)>`; signature line
`"\\u2014 <name> " + base64(key id || signature) + "\\n"` after one blank line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
EM_DASH = "\u2014"


class InvalidNote(ValueError):
    """The note is malformed, or not signed by the expected key."""


def valid_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


class NoteSigner:
    """Signs checkpoints as `name` with an Ed25519 key made from a 32-byte seed."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not valid_key_name(name):
            raise ValueError(f"origin {name!r} must be non-empty, without '+' or spaces")
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(name, self.public_key)

    @property
    def verifier_key(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def sign(self, text: str) -> str:
        if not text.endswith("\n"):
            raise ValueError("a note's text ends with a newline")
        signature = self._key.sign(text.encode())
        blob = base64.b64encode(self.key_id + signature).decode()
        return f"{text}\n{EM_DASH} {self.name} {blob}\n"

    def sign_checkpoint(self, size: int, root: bytes) -> str:
        return self.sign(Checkpoint(self.name, size, root).body())


class NoteVerifier:
    def __init__(self, verifier_key: str) -> None:
        name, _, rest = verifier_key.partition("+")
        id_hex, _, encoded = rest.partition("+")
        try:
            raw = base64.b64decode(encoded, validate=True)
            expected_id = bytes.fromhex(id_hex)
        except (binascii.Error, ValueError):
            raise InvalidNote("malformed verifier key") from None
        if not valid_key_name(name) or raw[:1] != ED25519 or len(raw) != 33:
            raise InvalidNote("not an Ed25519 verifier key")
        if len(expected_id) != 4 or key_id(name, raw[1:]) != expected_id:
            raise InvalidNote("the verifier key's id does not match its key")
        self.name = name
        self.key_id = expected_id
        self._key = Ed25519PublicKey.from_public_bytes(raw[1:])

    def open(self, note: str) -> str:
        """The note's text, if one of its signatures is ours and valid; else InvalidNote."""
        text, separator, signatures = note.rpartition("\n\n")
        if not separator or not signatures.endswith("\n"):
            raise InvalidNote("no signature block")
        text += "\n"
        for line in signatures[:-1].split("\n"):
            prefix = f"{EM_DASH} {self.name} "
            if not line.startswith(prefix):
                continue
            try:
                blob = base64.b64decode(line[len(prefix) :], validate=True)
            except binascii.Error:
                raise InvalidNote("malformed signature line") from None
            if blob[:4] != self.key_id or len(blob) != 68:
                continue
            try:
                self._key.verify(blob[4:], text.encode())
            except InvalidSignature:
                raise InvalidNote("the signature does not verify") from None
            return text
        raise InvalidNote(f"not signed by {self.name} ({self.key_id.hex()})")

    def open_checkpoint(self, note: str) -> Checkpoint:
        lines = self.open(note).split("\n")
        if len(lines) < 4 or not lines[1].isdigit():
            raise InvalidNote("not a checkpoint")
        try:
            root = base64.b64decode(lines[2], validate=True)
        except binascii.Error:
            raise InvalidNote("the checkpoint's root is not base64") from None
        if lines[0] != self.name or len(root) != 32:
            raise InvalidNote("the checkpoint's origin or root is wrong")
        return Checkpoint(lines[0], int(lines[1]), root)
