"""The tree is RFC 9162's, checked against the published RFC 6962 vectors, pymerkle (another
implementation) and the RFC's own verification algorithms (tests/independent.py)."""

from __future__ import annotations

import hashlib

import pytest
from pymerkle import InmemoryTree

from ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    perfect_parts,
    range_hash,
)
from tests.independent import ProofError, hash_leaf, verify_consistency, verify_inclusion

# The Certificate Transparency reference tree (transparency-dev/merkle proof/verify_test.go).
LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (0-based leaf index, tree size, audit path) from the same file (which counts leaves from 1).
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip


def build(entries: list[bytes]) -> tuple[Frontier, dict[tuple[int, int], bytes]]:
    """What the ledger stores: every leaf hash and every completed subtree."""
    frontier, nodes = Frontier(), {}
    for index, entry in enumerate(entries):
        digest = leaf_hash(entry)
        nodes[(0, index)] = digest
        nodes.update({(level, i): h for level, i, h in frontier.append(digest)})
    return frontier, nodes


def hashes(ranges: list[tuple[int, int]], nodes: dict[tuple[int, int], bytes]) -> list[bytes]:
    return [range_hash(start, end, nodes) for start, end in ranges]


def test_hashes_use_the_rfc_domain_separation():
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert leaf_hash(b"") == bytes.fromhex(ROOTS[0])
    assert leaf_hash(b"\x00") == hash_leaf(b"\x00")


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_rfc6962_tree_heads(size):
    frontier, nodes = build(LEAVES[:size])
    assert frontier.root().hex() == ROOTS[size - 1]
    assert range_hash(0, size, nodes).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(index, size, path):
    _, nodes = build(LEAVES[:size])
    assert [h.hex() for h in hashes(inclusion_ranges(index, size), nodes)] == path


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(old, new, path):
    _, nodes = build(LEAVES[:new])
    assert [h.hex() for h in hashes(consistency_ranges(old, new), nodes)] == path


def test_every_proof_of_every_small_tree_agrees_with_pymerkle_and_the_rfc_verifiers():
    entries = [f"event-{i}".encode() for i in range(41)]
    reference = InmemoryTree(algorithm="sha256")
    for size in range(1, len(entries) + 1):
        reference.append_entry(entries[size - 1])
        frontier, nodes = build(entries[:size])
        root = frontier.root()
        assert root == reference.get_root(size)
        for index in range(size):
            path = hashes(inclusion_ranges(index, size), nodes)
            # pymerkle counts leaves from 1 and puts the leaf hash first.
            assert path == reference.prove_inclusion(index + 1, size).path[1:]
            verify_inclusion(index, size, nodes[(0, index)], path, root)
        for old in range(0, size + 1):
            old_root = build(entries[:old])[0].root()
            proof = hashes(consistency_ranges(old, size), nodes)
            verify_consistency(old, size, old_root, root, proof)


def test_a_wrong_proof_fails_the_rfc_verifier():
    frontier, nodes = build(LEAVES)
    path = hashes(inclusion_ranges(5, 8), nodes)
    verify_inclusion(5, 8, nodes[(0, 5)], path, frontier.root())
    with pytest.raises(ProofError):
        verify_inclusion(4, 8, nodes[(0, 5)], path, frontier.root())
    with pytest.raises(ProofError):
        verify_inclusion(5, 8, nodes[(0, 5)], path[:-1], frontier.root())
    proof = hashes(consistency_ranges(6, 8), nodes)
    with pytest.raises(ProofError):
        verify_consistency(6, 8, build(LEAVES[:5])[0].root(), frontier.root(), proof)


def test_the_frontier_keeps_one_subtree_per_set_bit_and_stores_each_node_once():
    frontier, nodes = build([bytes([i]) for i in range(13)])  # 13 = 8 + 4 + 1
    assert Frontier.parts(13) == [(3, 0), (2, 2), (0, 12)]
    assert len(frontier.hashes) == 3
    assert len(nodes) == 13 + 6 + 3 + 1  # leaves, then levels 1, 2, 3
    assert Frontier.load(13, nodes).root() == frontier.root()


def test_ranges_split_where_the_rfc_splits_not_at_the_midpoint():
    assert perfect_parts(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert inclusion_ranges(6, 7) == [(4, 6), (0, 4)]
    with pytest.raises(ValueError):
        inclusion_ranges(7, 7)
    with pytest.raises(ValueError):
        consistency_ranges(5, 4)
