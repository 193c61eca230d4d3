"""Admission control in front of argon2: a bounded hashing queue.

Each argon2 computation holds `memory_cost` KiB and a core, so only `slots` run at once. A
request that would wait longer than `max_wait` for its first slot is refused at once with
`Overloaded` (and a `Retry-After`) instead of queueing for seconds. Once admitted, a command's
further computations (verify, then history hash, then hash) go ahead of newcomers, so an
admitted change finishes soon after it starts.

The wait is predicted from what is queued ahead: every queued continuation, and for each
queued newcomer the computations a command takes on average, at the average time of one
computation, spread over the slots. A newcomer whose prediction was too hopeful is still
refused when it has waited `max_wait`.

Requests admitted at the door (`admitted`, before they wait for a worker thread) count as
well: without them, 64 clients over 40 worker threads left 24 requests waiting for a thread
where the queue could not see them, and none was refused while p95 reached 1.9 s.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from domain.errors import Overloaded

DECAY = 0.98  # weight of the past in the running averages


class HashingQueue:
    def __init__(
        self,
        slots: int,
        max_wait: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slots = max(1, slots)
        self.max_wait = max_wait  # seconds; 0 = never refuse
        self._clock = clock
        self._free = self.slots
        self._cond = threading.Condition()
        self._continuing: deque[object] = deque()
        self._new: deque[object] = deque()
        self.seconds_per_hash = 0.0  # running average; 0 until the first one is measured
        self._firsts, self._computations = 1.0, 2.0  # a command: about two, until measured
        self._in_flight = 0  # admitted at the door and not finished

    @property
    def hashes_per_command(self) -> float:
        return self._computations / self._firsts

    def predicted_wait(self) -> float:
        """Seconds a newcomer would wait for its first slot (0 when one is free)."""
        queued = len(self._continuing) + len(self._new) * self.hashes_per_command
        # Commands admitted at the door beyond those the slots are serving: their work is
        # ahead too, whether or not they have reached the queue yet.
        waiting = max(0, self._in_flight - self.slots) * self.hashes_per_command
        if waiting == 0 and self._free > len(self._continuing) + len(self._new):
            return 0.0
        ahead = max(queued, waiting) + self.slots / 2
        return ahead * self.seconds_per_hash / self.slots

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """A request that will hash, from the door to its answer: refused at once if the
        wait is already too long, counted in every later prediction while it runs."""
        with self._cond:
            self._admit()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1

    @contextmanager
    def slot(self, continuing: bool) -> Iterator[None]:
        self._acquire(continuing)
        started = self._clock()
        try:
            yield
        finally:
            self._release(self._clock() - started, continuing)

    def _acquire(self, continuing: bool) -> None:
        ticket = object()
        with self._cond:
            if not continuing:
                self._admit()
            queue = self._continuing if continuing else self._new
            queue.append(ticket)
            deadline = self._clock() + self.max_wait
            while not (self._free > 0 and self._next() is ticket):
                remaining = deadline - self._clock()
                if not continuing and self.max_wait and remaining <= 0:
                    queue.remove(ticket)
                    self._cond.notify_all()
                    raise Overloaded(self._retry_after())
                self._cond.wait(remaining if not continuing and self.max_wait else None)
            queue.popleft()
            self._free -= 1

    def refuse_if_saturated(self) -> None:
        """The same test a newcomer's first hash meets, before the request does any other
        work: a refusal then costs no store round trips."""
        with self._cond:
            self._admit()

    def _admit(self) -> None:
        if self.max_wait and self.predicted_wait() > self.max_wait:
            raise Overloaded(self._retry_after())

    def _next(self) -> object | None:
        """Continuations first, then newcomers, each in arrival order."""
        if self._continuing:
            return self._continuing[0]
        return self._new[0] if self._new else None

    def _release(self, seconds: float, continuing: bool) -> None:
        with self._cond:
            self._free += 1
            if self.seconds_per_hash == 0.0:
                self.seconds_per_hash = seconds
            else:
                self.seconds_per_hash = DECAY * self.seconds_per_hash + (1 - DECAY) * seconds
            self._computations = DECAY * self._computations + 1
            self._firsts = DECAY * self._firsts + (0 if continuing else 1)
            self._cond.notify_all()

    def _retry_after(self) -> int:
        return max(1, math.ceil(self.predicted_wait()))
