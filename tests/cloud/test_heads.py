"""Long-polls of one tenant share one watch of its head: read once a step, whoever waits."""

from __future__ import annotations

import asyncio
import time

from cloud.api.heads import Heads


class Tenants:
    """Heads to read, and how often each tenant's was read."""

    def __init__(self) -> None:
        self.head = {"a": 5, "b": 7}
        self.reads = {"a": 0, "b": 0}

    async def read(self, tenant: str) -> int:
        self.reads[tenant] += 1
        await asyncio.sleep(0)  # a read takes a trip to a worker thread
        return self.head[tenant]


def test_many_waiters_of_a_tenant_share_its_reads_and_all_wake_when_it_moves() -> None:
    async def scenario() -> None:
        t = Tenants()
        heads = Heads(t.read, step=0.02)
        waits = [asyncio.create_task(heads.wait("a", 5, timeout=5)) for _ in range(20)]
        other = asyncio.create_task(heads.wait("b", 7, timeout=0.3))
        await asyncio.sleep(0.2)  # about ten steps
        assert not any(w.done() for w in waits)
        assert t.reads["a"] <= 20 + 15  # one read each to start, then one a step for them all
        started = time.monotonic()
        t.head["a"] = 6
        assert await asyncio.gather(*waits) == [6] * 20
        assert time.monotonic() - started < 0.2  # woken by the next step, not their timeout
        assert await other == 7  # another tenant's wait is its own, and ends at its timeout

    asyncio.run(scenario())


def test_a_wait_answers_at_once_when_the_head_is_already_past_or_the_timeout_is_zero() -> None:
    async def scenario() -> None:
        t = Tenants()
        heads = Heads(t.read, step=10)  # no step comes: only the wait's own read
        assert await asyncio.wait_for(heads.wait("a", 4, timeout=30), 1) == 5
        assert await asyncio.wait_for(heads.wait("a", 5, timeout=0), 1) == 5
        t.head["a"] = 9  # read afresh by the next wait, not taken from the watch
        assert await asyncio.wait_for(heads.wait("a", 5, timeout=30), 1) == 9

    asyncio.run(scenario())


def test_a_wait_ends_when_its_client_goes_and_the_watch_stops_with_its_last_waiter() -> None:
    async def scenario() -> None:
        t = Tenants()
        heads = Heads(t.read, step=0.02, look=0.02)
        gone = False

        async def is_gone() -> bool:
            return gone

        wait = asyncio.create_task(heads.wait("a", 5, timeout=30, gone=is_gone))
        await asyncio.sleep(0.1)
        gone = True
        assert await asyncio.wait_for(wait, 1) is None
        await asyncio.sleep(0.1)
        reads = t.reads["a"]
        await asyncio.sleep(0.2)
        assert t.reads["a"] == reads  # nobody waits: nothing reads

    asyncio.run(scenario())
