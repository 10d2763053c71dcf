"""A pushed batch sent behind another waits while that one is here, and no longer."""

from __future__ import annotations

import threading
import time

from cloud.api.arrivals import Arrivals


def test_a_batch_waits_until_the_one_before_it_is_finished() -> None:
    arrivals = Arrivals()
    entered, leave = threading.Event(), threading.Event()

    def first() -> None:
        with arrivals.arrived("t", "first"):
            entered.set()
            leave.wait(10)

    worker = threading.Thread(target=first)
    worker.start()
    entered.wait(10)
    waited: list[float] = []

    def second() -> None:
        started = time.monotonic()
        arrivals.wait_for("t", "first", timeout=20)
        waited.append(time.monotonic() - started)

    behind = threading.Thread(target=second)
    behind.start()
    time.sleep(0.3)
    assert not waited  # still waiting: the first is here
    leave.set()
    behind.join(10)
    worker.join(10)
    assert waited and 0.25 < waited[0] < 10


def test_a_batch_not_here_is_not_waited_for_and_a_wait_is_bounded() -> None:
    arrivals = Arrivals()
    started = time.monotonic()
    arrivals.wait_for("t", "never sent", timeout=20)
    arrivals.wait_for("other tenant", "first", timeout=20)
    assert time.monotonic() - started < 1
    with arrivals.arrived("t", "stuck"):
        started = time.monotonic()
        arrivals.wait_for("t", "stuck", timeout=0.2)
        assert 0.15 < time.monotonic() - started < 5
    arrivals.wait_for("t", "stuck", timeout=20)  # finished, even though by an error path


def test_a_batch_received_twice_is_here_until_both_finish() -> None:
    arrivals = Arrivals()
    with arrivals.arrived("t", "b"):
        with arrivals.arrived("t", "b"):
            pass
        started = time.monotonic()
        arrivals.wait_for("t", "b", timeout=0.2)
        assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    arrivals.wait_for("t", "b", timeout=20)
    assert time.monotonic() - started < 1
