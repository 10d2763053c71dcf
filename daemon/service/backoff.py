"""Exponential backoff with jitter, capped: how long to wait before trying the cloud again.

"Equal jitter": half of the delay is fixed and half random, so retries never bunch at zero
and many workstations that lost the cloud together do not come back in step.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    def __init__(self, base: float, cap: float, *,
                 rng: Callable[[], float] = random.random) -> None:
        self.base = max(base, 0.01)
        self.cap = max(cap, self.base)
        self.rng = rng
        self.failures = 0

    def peek(self) -> float:
        """The ceiling of the next delay, without jitter."""
        return float(min(self.cap, self.base * (2 ** min(self.failures, 30))))

    def next_delay(self) -> float:
        ceiling = self.peek()
        self.failures += 1
        return ceiling / 2 + self.rng() * ceiling / 2

    def reset(self) -> None:
        self.failures = 0
