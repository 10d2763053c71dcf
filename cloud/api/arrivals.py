"""Pushed batches received and not yet finished, so that a batch sent behind another waits.

A workstation sends its next batch before the previous one is answered, naming it (`after`),
so that the cloud reads and checks the next one while it writes the first. The cloud applies a
batch only after the one it names (cloud.sync.push refuses it otherwise), and this is how the
next one waits rather than being refused: while the named batch is being received or applied
here, the next one's thread waits for it to finish. A named batch that is not here at all
(lost on the way) is not waited for: the workstation sends the next one again once the first
is answered.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

ORDER_WAIT = 30.0  # seconds a batch waits for the one before it, at most


class Arrivals:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._here: Counter[tuple[str, str]] = Counter()

    @contextmanager
    def arrived(self, tenant: str, batch: str) -> Iterator[None]:
        """`batch` of `tenant` is here until the block ends, however it ends."""
        key = (tenant, batch)
        with self._changed:
            self._here[key] += 1
        try:
            yield
        finally:
            with self._changed:
                self._here[key] -= 1
                if self._here[key] <= 0:
                    del self._here[key]
                self._changed.notify_all()

    def wait_for(self, tenant: str, batch: str, timeout: float = ORDER_WAIT) -> None:
        """Return once `batch` of `tenant` is not here (finished, or never came), or at
        `timeout`."""
        deadline = time.monotonic() + timeout
        key = (tenant, batch)
        with self._changed:
            while key in self._here:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(left)
