"""The newest change of each tenant, watched once for all of its long-polls.

Every workstation in realtime mode keeps a `GET .../sync/wait` open. Each used to read its
tenant's head itself every quarter second, a hand-off to a worker thread each time, so a
cloud's idle cost grew with its workstations (2.4 ms of CPU a second for each). Now one watch
per tenant reads the head at that pace while anyone waits on it and wakes them when it moves;
a waiter only sleeps on the event loop, looking once a second whether its client went away.
Everything here runs on the event loop, so it needs no lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

STEP = 0.25  # seconds between two reads of a watched tenant's head
LOOK = 1.0  # seconds between a waiter's looks at whether its client went away


@dataclass
class _Watch:
    head: int = -1
    waiters: int = 0
    moved: asyncio.Event = field(default_factory=asyncio.Event)  # set when the head moves
    task: asyncio.Task[None] | None = None

    def set(self, head: int) -> None:
        if head != self.head:
            self.head = head
            moved, self.moved = self.moved, asyncio.Event()
            moved.set()  # the waiters of this move wake; later ones wait for the next


class Heads:
    def __init__(
        self, read: Callable[[str], Awaitable[int]], step: float = STEP, look: float = LOOK,
    ) -> None:
        """`read(tenant)` reads the tenant's head (in a worker thread: it reads SQLite)."""
        self._read = read
        self._step = step
        self._look = look
        self._watches: dict[str, _Watch] = {}

    async def wait(
        self, tenant: str, cursor: int, timeout: float,
        gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> int | None:
        """The tenant's head once it passes `cursor`, or at `timeout` whatever it is; None if
        `gone()` says the client went away meanwhile."""
        deadline = time.monotonic() + timeout
        head = await self._read(tenant)  # a wait starts from a read of its own: never stale
        watch = self._watches.setdefault(tenant, _Watch())
        if head > watch.head:
            watch.set(head)
        if head > cursor or timeout <= 0:
            return head
        watch.waiters += 1
        try:
            if watch.task is None:
                watch.task = asyncio.create_task(self._watch(tenant, watch))
            while True:
                left = deadline - time.monotonic()
                if watch.head > cursor or left <= 0:
                    return watch.head
                if gone is not None and await gone():
                    return None
                try:
                    async with asyncio.timeout(min(self._look, left)):
                        await watch.moved.wait()
                except TimeoutError:
                    pass
        finally:
            watch.waiters -= 1

    async def _watch(self, tenant: str, watch: _Watch) -> None:
        """Read the head every step while anyone waits; wake them all when it moves."""
        try:
            while watch.waiters > 0:
                await asyncio.sleep(self._step)
                if watch.waiters <= 0:
                    break
                try:
                    watch.set(await self._read(tenant))
                except Exception:  # a read that failed (say, the tenant just removed): again
                    continue
        finally:
            watch.task = None
