"""Verifiers written from the specifications, independent of credledger's code.

- RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), step by step as the RFC words them.
- C2SP signed-note (Ed25519) and tlog-checkpoint, with the `cryptography` package.
Nothing here imports the product: it checks what the product serves, as an auditor would.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class ProofError(Exception):
    pass


def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _lsb(value: int) -> bool:
    return bool(value & 1)


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, path: list[bytes], root: bytes
) -> None:
    if leaf_index >= tree_size:
        raise ProofError("leaf index beyond tree size")
    fn, sn = leaf_index, tree_size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            raise ProofError("path too long")
        if _lsb(fn) or fn == sn:
            r = hash_children(p, r)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise ProofError("inclusion proof does not verify")


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]
) -> None:
    if first > second:
        raise ProofError("first is beyond second")
    if first == second:
        if path or first_hash != second_hash:
            raise ProofError("equal sizes need equal roots and an empty proof")
        return
    if first == 0:
        if path:
            raise ProofError("a proof from the empty tree is empty")
        return
    if not path:
        raise ProofError("empty consistency path")
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while _lsb(fn):
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("path too long")
        if _lsb(fn) or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if fr != first_hash or sr != second_hash or sn != 0:
        raise ProofError("consistency proof does not verify")


@dataclass(frozen=True)
class OpenedCheckpoint:
    origin: str
    size: int
    root: bytes
    extra: list[str]


def open_checkpoint(note: str, verifier_key: str) -> OpenedCheckpoint:
    """C2SP signed-note: `<name>+<hex id>+<base64(0x01||key)>`; signature lines after the last
    blank line, `— <name> <base64(id||sig)>`; the signed message is the text up to and
    including its final newline. Then C2SP tlog-checkpoint: origin, size, base64 root."""
    name, id_hex, key_b64 = verifier_key.split("+", 2)
    key = base64.b64decode(key_b64)
    assert key[0] == 0x01 and len(key) == 33, "not an Ed25519 verifier key"
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    assert key_id.hex() == id_hex, "verifier key id mismatch"
    assert note.endswith("\n")
    cut = note.rindex("\n\n")
    text, signature_block = note[: cut + 1], note[cut + 2 :]
    verified = False
    for line in signature_block.splitlines():
        dash, signer, blob_b64 = line.split(" ")
        assert dash == "\u2014"
        blob = base64.b64decode(blob_b64)
        if signer == name and blob[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(blob[4:], text.encode())
            verified = True
    if not verified:
        raise ProofError("no valid signature by the given key")
    lines = text.split("\n")[:-1]
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    assert len(root) == 32 and str(size) == lines[1]
    return OpenedCheckpoint(origin, size, root, lines[3:])
