"""Work after the answer: in order, bounded, and one failure stops nothing."""

from __future__ import annotations

import threading
import time

from service.background import Background


def test_jobs_run_in_submission_order_after_the_start_delay():
    background, done = Background(start_delay=(0.05, 0.06)), []
    submitted = time.monotonic()
    for n in range(5):
        assert background.submit(lambda n=n: done.append((n, time.monotonic())))
    assert done == []  # nothing runs beside the answer that submitted it
    assert background.wait_idle(5)
    assert [n for n, _ in done] == [0, 1, 2, 3, 4]
    assert done[0][1] - submitted >= 0.05


def test_a_full_queue_drops_work_instead_of_growing(caplog):
    gate = threading.Event()
    background = Background(max_pending=2, start_delay=(0, 0))
    assert background.submit(gate.wait) and background.submit(lambda: None)
    assert not background.submit(lambda: None)
    assert "dropped" in caplog.text
    gate.set()
    assert background.wait_idle(5)


def test_a_failing_job_is_logged_by_kind_only_and_the_next_one_runs(caplog):
    background, done = Background(start_delay=(0, 0)), []

    def fails() -> None:
        raise RuntimeError("mail to person@example.org refused")

    background.submit(fails)
    background.submit(lambda: done.append(1))
    assert background.wait_idle(5)
    assert done == [1]
    assert "RuntimeError" in caplog.text and "person@example.org" not in caplog.text


def test_closing_finishes_what_was_submitted_and_refuses_more():
    background, done = Background(start_delay=(0.01, 0.01)), []
    background.submit(lambda: done.append(1))
    background.close()
    assert done == [1]
    assert not background.submit(lambda: done.append(2))
