"""One bidirectional sync: push everything local, then pull everything remote.

Pushing first means the user's work reaches the cloud as early as possible, and conflicts are
settled by the cloud (the hub) in one place. The engine knows nothing of the CLI, the daemon
or the tray: they all call `run_sync`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.store import Store
from core.wal import WalFlusher
from daemon.sync import push
from daemon.sync.errors import MustRefresh, OutOfOrder, SyncError
from daemon.sync.pull import apply_page
from daemon.sync.refresh import refresh_from

if TYPE_CHECKING:
    from daemon.sync.client import CloudClient

PUSH_BATCH = 2000  # the first batch; a long push doubles it up to the cloud's limit
PUSH_BATCH_MAX = 10000  # fewer, larger commits: each rewrites the index pages its ids touch
PUSH_LIMIT_UNSAID = 5000  # the limit of a cloud whose answers do not state theirs
PULL_PAGE = 2000  # the first page; a long pull doubles it up to PULL_PAGE_MAX
PULL_PAGE_MAX = 10000  # the cloud's limit; fewer, larger commits rewrite fewer index pages
MAX_REFRESHES = 2


@dataclass
class SyncResult:
    at: float = field(default_factory=time.time)
    ok: bool = True
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    rejected: int = 0
    refreshed: bool = False
    error: str | None = None
    state: str = "idle"
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[str, int], None]


def cursor_of(store: Store) -> int:
    return int(store.meta("cursor", 0) or 0)


def run_sync(
    store: Store, client: CloudClient, scratch: Path, *, progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> SyncResult:
    """Sync once. Failures end in a result with ok=False and the state they imply."""
    result = SyncResult()
    started = time.monotonic()
    # A sync's sorts and temporary tables hold a batch at most: in memory, not temporary files.
    store.conn.execute("PRAGMA temp_store=MEMORY")
    refreshes = 0
    try:
        while True:
            try:
                with WalFlusher(store.path) as wal:  # the WAL written out as batches commit
                    _push_all(store, client, result, progress, should_stop, wal)
                    _pull_all(store, client, result, progress, should_stop, wal)
                break
            except MustRefresh:
                refreshes += 1
                if refreshes > MAX_REFRESHES:
                    raise
                _refresh(store, client, scratch, progress)
                result.refreshed = True
    except SyncError as exc:
        result.ok, result.error, result.state = False, exc.message, exc.state
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _push_all(
    store: Store, client: CloudClient, result: SyncResult, progress: Progress | None,
    should_stop: Callable[[], bool], wal: WalFlusher,
) -> None:
    """Push until the journal has nothing more to send, keeping the cloud busy.

    While the cloud applies a batch, the next one is read and saved (leaving out the objects of
    every batch not yet recorded). Once an answer states that the cloud takes two in flight,
    a batch is sent while the one before it is still being applied, naming it as `after`: the
    cloud reads and checks it meanwhile, and applies it after. When an answer comes, the batch
    read ahead goes out at once, and the answer is recorded while the cloud works. What a batch
    carries never depends on an answer still to come, and each answer is recorded in its own
    transaction, in order, so a kill anywhere leaves saved batches that the next sync sends
    again in the order of their windows. Changes refused for a reference to an object the cloud
    did not hold, by a batch that others followed, are sent once more after the last one
    (push.send_again says why); a sync cut off before that leaves them to the next, which
    sends them first.
    """
    limit, cap, depth = PUSH_BATCH, PUSH_LIMIT_UNSAID, 1
    left = push.left_to_send_again(store)
    if left:  # a sync cut off before their one more try: it goes in this push
        push.send_again(store, left)
    # Refused for a reference to nothing by an answer that more batches followed (what they
    # referred to may have come in one of those), and by the latest answer; None once resent.
    missing: list[str] | None = []
    latest: list[str] = []
    first = push.prepare(store, limit)
    if first is None:
        return
    with ThreadPoolExecutor(2, thread_name_prefix="outpost-push") as pool:

        def send(batch: push.Outbox, after: str | None = None) -> Future[dict[str, Any]]:
            return pool.submit(client.push, batch.batch_id, cursor_of(store), batch.body,
                               after=after)

        flight = deque([(first, send(first))])  # sent, oldest first, each behind the one before
        ahead: push.Outbox | None = None  # read and saved, waiting for room in flight
        while flight:
            while ahead is None and not should_stop():  # fill the flight, then read one more
                limit = min(limit * 2, PUSH_BATCH_MAX, cap)
                ahead = push.prepare(store, limit, after=[b for b, _ in flight])
                if ahead is None or len(flight) >= depth:
                    break
                flight.append((ahead, send(ahead, flight[-1][0].batch_id)))
                ahead = None
            box, sending = flight.popleft()
            answer = _answer(sending, partial(send, box))
            cap, depth = _stated_limit(answer, cap), _stated_depth(answer)
            if ahead is not None and len(flight) < depth:  # the moment the answer comes
                flight.append((ahead, send(ahead, flight[-1][0].batch_id if flight else None)))
                ahead = None
            rec = push.record(store, box, answer, remember_missing=missing is not None)
            wal.poke()
            result.pushed += rec.pushed
            result.rejected += rec.rejected
            result.conflicts += rec.conflicts
            if missing is not None:
                missing, latest = missing + latest, rec.missing
            if progress:
                progress("push", result.pushed)
            if rec.pushed + rec.rejected == 0:
                raise SyncError("the cloud answered a batch without a result for any change")
            if not flight and ahead is None:  # edits made while batches were in flight wait
                if should_stop():
                    return
                if missing:  # sent once more, after every batch of this push
                    push.send_again(store, missing)
                    result.rejected -= len(missing)
                    missing = None
                elif missing is not None:  # the latest answer's: no batch came after them
                    push.send_again(store, [])
                nxt = push.prepare(store, limit)
                if nxt is not None:
                    flight.append((nxt, send(nxt)))


def _answer(sending: Future[dict[str, Any]],
            again: Callable[[], Future[dict[str, Any]]]) -> dict[str, Any]:
    """The answer to a batch; sent `again` if it reached the cloud before the batch it was
    sent behind (that one is answered and recorded by now)."""
    try:
        return sending.result()
    except OutOfOrder:
        return again().result()


def _stated_depth(answer: dict[str, Any]) -> int:
    """How many batches the cloud takes in flight (`in_flight`): 2, or 1 if it does not say."""
    said = answer.get("in_flight")
    return 2 if isinstance(said, int) and not isinstance(said, bool) and said >= 2 else 1


def _stated_limit(answer: dict[str, Any], cap: int) -> int:
    """The batch size the cloud says it takes (`max_changes`), else what we had."""
    said = answer.get("max_changes")
    if isinstance(said, int) and not isinstance(said, bool) and said >= PUSH_BATCH:
        return said
    return cap


def _pull_all(
    store: Store, client: CloudClient, result: SyncResult, progress: Progress | None,
    should_stop: Callable[[], bool], wal: WalFlusher,
) -> None:
    """Pull pages until the cloud has no more, fetching the next page while applying this one.

    The next request names the page's cursor to read from and the committed cursor as
    `confirmed`, so the cloud never believes the workstation holds what it has not committed.
    When the cursor moved, one more read from the final cursor confirms it: the cloud then
    knows every position this home reached (its own pushes included), and a backup of an
    earlier state put back in its place is recognised at its next sync.

    Pages grow while there is more: each page's transaction rewrites every index page its
    objects touch, and random ids touch most of them, so a long pull commits fewer, larger
    pages (10,000 objects apply in about 0.2 s, so local writers still wait little).
    """
    pool: ThreadPoolExecutor | None = None  # started only when there is a second page
    limit = PULL_PAGE
    try:
        committed = told = cursor_of(store)
        ahead = _done(client.pull, committed, PULL_PAGE)
        while True:
            page = ahead.result()
            more = bool(page.get("more")) and not should_stop()
            if more:
                pool = pool or ThreadPoolExecutor(1, thread_name_prefix="outpost-pull")
                limit = min(limit * 2, PULL_PAGE_MAX)
                ahead = pool.submit(client.pull, int(page["cursor"]), limit,
                                    confirmed=committed)
                told = committed
            written = apply_page(store, page)
            if written:
                wal.poke()
            result.pulled += written
            committed = int(page["cursor"])
            if progress:
                progress("pull", result.pulled)
            if more:
                continue
            if committed == told or should_stop():
                return
            ahead = _done(client.pull, committed, PULL_PAGE)  # confirms `committed`
            told = committed
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _done(call: Callable[..., dict[str, Any]], *args: Any) -> Future[dict[str, Any]]:
    """`call` made now, in this thread, as a finished Future (its result or its error)."""
    f: Future[dict[str, Any]] = Future()
    try:
        f.set_result(call(*args))
    except Exception as exc:
        f.set_exception(exc)
    return f


def _refresh(store: Store, client: CloudClient, scratch: Path, progress: Progress | None) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    snap = scratch / "snapshot.db"
    try:
        cursor = client.snapshot(snap)
        if progress:
            progress("refresh", 0)
        refresh_from(store, snap, cursor)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(str(snap) + suffix).unlink(missing_ok=True)
