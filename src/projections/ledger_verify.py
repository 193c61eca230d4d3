"""`ledger verify`: recompute today's tree from the stored events and hold everything to it.

Read-only. Today's tree is every event in the store, in notification order. The ledger's own
tables must agree with it leaf by leaf and subtree by subtree, and every checkpoint (kept by
the log, or saved by an auditor) must carry a valid signature and the root of today's tree at
its size. The first leaf that differs is named by index and position.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import Notification

from ledger.merkle import EMPTY_ROOT, Frontier
from ledger.note import Checkpoint, InvalidNote, NoteVerifier
from projections.ledger import LedgerLog, stored_leaf_hash
from projections.ledger_tables import Leaf

PAGE = 5000


@dataclass
class LedgerReport:
    leaves: int = 0  # today's tree: every stored event
    integrated: int = 0  # leaves in the ledger's tables
    root: bytes = EMPTY_ROOT
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_ledger(
    log: LedgerLog, verifier: NoteVerifier, saved: Sequence[tuple[str, str]] = ()
) -> LedgerReport:
    """`saved`: (label, signed note) pairs an auditor kept."""
    head = log.head()
    report = LedgerReport(integrated=head.size)
    notes = [(f"kept checkpoint {k.size}", k.note) for k in log.checkpoints()]
    opened = _open(verifier, [*notes, *saved], report)
    wanted = {checkpoint.size for _, checkpoint in opened}
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    tree = Frontier()
    stored = _stored_leaves(log, head.size)
    made: list[tuple[int, int, bytes]] = []
    leaf_problem = False
    for notification in _events(log):
        digest = stored_leaf_hash(notification)
        if tree.size < head.size and not leaf_problem:
            problem = _compare(tree.size, next(stored, None), notification, digest)
            if problem:
                report.problems.append(problem)
                leaf_problem = True
        completed = tree.append(digest)
        if tree.size <= head.size:
            made.extend(completed)
        if len(made) >= PAGE:
            _compare_nodes(log, made, report, leaf_problem)
            made = []
        if tree.size in wanted:
            roots[tree.size] = tree.root()
    _compare_nodes(log, made, report, leaf_problem)
    if not leaf_problem and tree.size < head.size:
        missing = next(stored, None)
        where = f" (position {missing.position})" if missing else ""
        report.problems.append(
            f"leaf {tree.size}{where}: the event is missing from the event store (deleted)"
        )
    report.leaves, report.root = tree.size, tree.root()
    for label, checkpoint in opened:
        if checkpoint.size > tree.size:
            report.problems.append(
                f"{label}: size {checkpoint.size} is beyond today's tree of {tree.size} leaves"
                " (events deleted?)"
            )
        elif roots[checkpoint.size] != checkpoint.root:
            report.problems.append(
                f"{label}: not a prefix of today's tree (root at size {checkpoint.size} is "
                f"{base64.b64encode(roots[checkpoint.size]).decode()}, the checkpoint says "
                f"{base64.b64encode(checkpoint.root).decode()})"
            )
    return report


def _open(
    verifier: NoteVerifier, notes: Sequence[tuple[str, str]], report: LedgerReport
) -> list[tuple[str, Checkpoint]]:
    opened = []
    for label, note in notes:
        try:
            opened.append((label, verifier.open_checkpoint(note)))
        except InvalidNote as error:
            report.problems.append(f"{label}: {error}")
    report.checkpoints = len(opened)
    return opened


def _compare(index: int, leaf: Leaf | None, event: Notification, digest: bytes) -> str | None:
    if leaf is None or leaf.index != index:
        return f"leaf {index}: missing from the ledger's tables"
    where = f"leaf {index} (position {leaf.position})"
    if event.id < leaf.position:
        return f"{where}: an event at position {event.id} was inserted before it"
    if event.id > leaf.position:
        return f"{where}: the event is missing from the event store (deleted)"
    if digest != leaf.hash:
        return (
            f"{where}: the stored event differs from what the ledger recorded (changed or swapped)"
        )
    return None


def _compare_nodes(
    log: LedgerLog, made: list[tuple[int, int, bytes]], report: LedgerReport, quiet: bool
) -> None:
    """Subtrees the recomputed tree completed must be stored exactly (proofs are made of them)."""
    if quiet or not made:
        return
    by_level: dict[int, dict[int, bytes]] = defaultdict(dict)
    for level, index, digest in made:
        by_level[level][index] = digest
    for level, expected in sorted(by_level.items()):
        stored = log.nodes_between(level, min(expected), max(expected))
        for index, digest in sorted(expected.items()):
            if stored.get(index) != digest:
                first, size = index << level, 1 << level
                report.problems.append(
                    f"ledger subtree (level {level}, index {index}) over leaves "
                    f"{first}..{first + size - 1} differs from the recomputed tree"
                )
                return


def _events(log: LedgerLog) -> Iterator[Notification]:
    after = 0
    while page := log.events.recorder.select_notifications(
        start=after or None, limit=PAGE, inclusive_of_start=False
    ):
        yield from page
        after = page[-1].id


def _stored_leaves(log: LedgerLog, size: int) -> Iterator[Leaf]:
    start = 0
    while start < size and (page := log.leaves(start, PAGE)):
        yield from page
        start = page[-1].index + 1
