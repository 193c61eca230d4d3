"""Work done after the answer: one thread, in submission order, with a bounded queue.

Anonymous reset requests answer before they issue anything, so the answer takes the same
time whether or not the account exists (CONTRACTS §14); the issuing and the mail run here.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("credledger.background")

# A flood from many addresses must not grow memory without end: beyond this, work is dropped
# (and logged); each job is a courtesy mail, never an acknowledged change.
MAX_PENDING = 10_000
# A job starts at a random moment in this window after it was submitted: by then the answer
# it follows has left, so its work (say, loading a real user, and the projection its write
# wakes) never shares the CPU with that answer, nor, by a fixed lag, with any later one.
START_DELAY_SECONDS = (0.02, 0.2)


class Background:
    def __init__(
        self,
        max_pending: int = MAX_PENDING,
        start_delay: tuple[float, float] = START_DELAY_SECONDS,
    ) -> None:
        self.max_pending = max_pending
        self.start_delay = start_delay
        self._jobs: deque[tuple[float, Callable[[], None]]] = deque()  # (not before, job)
        self._busy = 0  # queued or running
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, job: Callable[[], None]) -> bool:
        """False when the queue is full or closed (the job is dropped)."""
        with self._changed:
            if self._closed or self._busy >= self.max_pending:
                log.warning("background queue full or closed: a job was dropped")
                return False
            delay = random.uniform(*self.start_delay)  # jitter, not a secret
            self._jobs.append((time.monotonic() + delay, job))
            self._busy += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="credledger-background", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()
        return True

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every submitted job has finished (tests, and a graceful close)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        self.wait_idle(timeout)
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._jobs or self._closed)
                if not self._jobs:
                    return
                not_before, job = self._jobs.popleft()
            time.sleep(max(0.0, not_before - time.monotonic()))
            try:
                job()
            except Exception as error:  # one failed job must not stop the others
                # The kind only: a mail error's text may name its recipient (personal data).
                log.error("background job failed: %s", type(error).__name__)
            finally:
                with self._changed:
                    self._busy -= 1
                    self._changed.notify_all()
