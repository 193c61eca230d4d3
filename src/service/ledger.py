"""Ledger use cases: the signing key, checkpoints, leaves and proofs (CONTRACTS §5).

Every answer first integrates what is committed (like reads, a checkpoint covers every event
committed before the request), and the log never signs a checkpoint its tree disagrees with.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from domain.errors import Forbidden, InvalidArgument, LedgerEntryNotFound, LedgerInconsistent
from ledger.leaf import leaf_input
from ledger.note import NoteSigner
from projections.ledger import LedgerLog
from projections.ledger_tables import KeptCheckpoint
from service.context import ADMIN, AUDITOR, Actor

MAX_LEAVES = 1000


@dataclass(frozen=True)
class LeafOut:
    index: int
    position: int
    input: bytes | None  # None: the event at that position is gone from the store


@dataclass(frozen=True)
class InclusionProof:
    index: int
    position: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class LedgerService:
    def __init__(self, log: LedgerLog, signer: NoteSigner) -> None:
        self.log = log
        self.signer = signer

    @property
    def origin(self) -> str:
        return self.signer.name

    @property
    def verifier_key(self) -> str:
        return self.signer.verifier_key

    # --- for callers with a session (the API) ---

    def checkpoint(self, actor: Actor) -> str:
        _require_auditor(actor)
        return self.signed_checkpoint().note

    def leaves(self, actor: Actor, start: int, limit: int) -> list[LeafOut]:
        if not actor.is_instance_admin:
            raise Forbidden()
        if not 1 <= limit <= MAX_LEAVES:
            raise InvalidArgument("limit", f"must be between 1 and {MAX_LEAVES}")
        self._integrated()
        leaves = self.log.leaves(start, limit)
        if not leaves:
            return []
        stored = self.log.inputs_at(leaves[0].position, leaves[-1].position)
        out = []
        for leaf in leaves:
            n = stored.get(leaf.position)
            data = (
                leaf_input(n.originator_id, n.originator_version, n.id, n.topic, bytes(n.state))
                if n is not None
                else None
            )
            out.append(LeafOut(leaf.index, leaf.position, data))
        return out

    def inclusion(
        self,
        actor: Actor,
        index: int | None = None,
        position: int | None = None,
        tree_size: int | None = None,
    ) -> InclusionProof:
        _require_auditor(actor)
        return self.prove_inclusion(index, position, tree_size)

    def consistency(self, actor: Actor, old: int, new: int) -> list[bytes]:
        _require_auditor(actor)
        size = self._integrated()
        if old > new:
            raise InvalidArgument("from", "must not be greater than `to`")
        if new > size:
            raise InvalidArgument("to", f"is beyond the current tree of {size} leaves")
        return self.log.consistency_proof(old, new)

    # --- for operators (CLI) and the API alike ---

    def _integrated(self) -> int:
        """Integrates every event committed before this call; returns the tree size."""
        return self.log.catch_up_to(self.log.events_head()).size

    def signed_checkpoint(self) -> KeptCheckpoint:
        """The checkpoint of the whole tree as of now, signed once and kept."""
        size = self._integrated()
        root = self.log.root(size)
        latest = self.log.latest_checkpoint()
        if latest is not None:
            if latest.size > size or self.log.root(latest.size) != latest.root:
                raise LedgerInconsistent()
            if latest.size == size:
                return latest
        kept = self.log.keep_checkpoint(size, root, self.signer.sign_checkpoint(size, root))
        if kept.root != root:
            raise LedgerInconsistent()
        return kept

    def prove_inclusion(
        self, index: int | None = None, position: int | None = None, tree_size: int | None = None
    ) -> InclusionProof:
        if (index is None) == (position is None):
            raise InvalidArgument("index", "give either `index` or `position`")
        size = self.signed_checkpoint().size if tree_size is None else self._integrated()
        if tree_size is not None:
            if tree_size > size:
                raise InvalidArgument("treeSize", f"is beyond the current tree of {size} leaves")
            size = tree_size
        leaf = self.log.leaf(index) if index is not None else self.log.leaf_at(position or 0)
        if leaf is None:
            if index is not None:
                raise InvalidArgument("index", f"must be below treeSize {size}")
            raise LedgerEntryNotFound()
        if leaf.index >= size:
            field = "index" if index is not None else "position"
            raise InvalidArgument(field, f"leaf {leaf.index} is not in a tree of {size} leaves")
        hashes = self.log.inclusion_proof(leaf.index, size)
        return InclusionProof(leaf.index, leaf.position, size, leaf.hash, hashes)


def _require_auditor(actor: Actor) -> None:
    """Instance admins, and admins or auditors of any organization."""
    if not (actor.is_instance_admin or ADMIN in actor.roles or AUDITOR in actor.roles):
        raise Forbidden()
