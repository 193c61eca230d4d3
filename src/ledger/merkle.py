"""RFC 9162 §2.1 Merkle trees: hashes, proofs and the compact right edge used to append.

Proofs are computed over *ranges* of leaves first (pure index arithmetic, exactly the
recursions of §2.1.3.1 and §2.1.4.1), so a store can fetch every node a proof needs in one
query: each range is the fold of the perfect, aligned subtrees it splits into.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH()

# (level, index): the perfect subtree over leaves [index * 2**level, (index + 1) * 2**level).
NodeId = tuple[int, int]
Range = tuple[int, int]  # leaves [start, end)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than `size` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """PATH(m, D[n]) of §2.1.3.1 as leaf ranges, deepest sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(old: int, new: int) -> list[Range]:
    """PROOF(m, D[n]) of §2.1.4.1 as leaf ranges; empty when m is 0 or m == n."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old == 0 or old == new:
        return []
    out: list[Range] = []
    start, end, m, complete = 0, new, old, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        out.append((start, end))  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
    out.reverse()
    return out


def perfect_parts(start: int, end: int) -> list[NodeId]:
    """The stored subtrees whose fold is MTH(D[start:end]), left to right."""
    size = end - start
    if size <= 0:
        raise ValueError("empty range")
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return [(level, start >> level)]
    k = split_point(size)
    return perfect_parts(start, start + k) + perfect_parts(start + k, end)


def range_hash(start: int, end: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """MTH(D[start:end]) from the stored subtrees `perfect_parts` names."""
    if start == end:
        return EMPTY_ROOT
    parts = [nodes[part] for part in perfect_parts(start, end)]
    digest = parts[-1]
    for left in reversed(parts[:-1]):
        digest = node_hash(left, digest)
    return digest


def nodes_for(ranges: Iterable[Range]) -> set[NodeId]:
    return {part for start, end in ranges if end > start for part in perfect_parts(start, end)}


@dataclass
class Frontier:
    """The right edge of a tree: one perfect subtree per set bit of `size`, largest first.

    Appending a leaf returns every node it completes, so a store can keep each subtree once.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @staticmethod
    def parts(size: int) -> list[NodeId]:
        return perfect_parts(0, size) if size else []

    @classmethod
    def load(cls, size: int, nodes: Mapping[NodeId, bytes]) -> Frontier:
        return cls(size, [nodes[part] for part in cls.parts(size)])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Adds a leaf hash; returns the completed nodes (level >= 1, index, hash)."""
        index = self.size
        self.size += 1
        made: list[tuple[int, int, bytes]] = []
        digest, level = leaf, 0
        while index & 1:  # each trailing one bit closes a subtree one level up
            digest = node_hash(self.hashes.pop(), digest)
            level += 1
            index >>= 1
            made.append((level, index, digest))
        self.hashes.append(digest)
        return made

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        digest = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            digest = node_hash(left, digest)
        return digest
