"""Connectivity as a state: a thread that probes the cloud's health and decides when to retry.

While online and quiet it checks now and then (any answer from the cloud counts as a check);
while offline it probes with exponential backoff and jitter, capped, and the first good answer
sends the engine back online, which syncs at once. After a failed sync (state error) it asks for
a new sync on the same backoff. Unauthorized and revoked wait for the user: no retries.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from daemon.service.backoff import Backoff
from daemon.service.states import ERROR, IDLE, OFFLINE

log = logging.getLogger("outpost.daemon.connectivity")


class MonitorHost(Protocol):
    def connectivity(self) -> tuple[str, bool, float]:
        """(state, whether failed syncs are retried automatically, monotonic time of the last
        answer from the cloud)."""
        ...

    def probe(self) -> str | None:
        """Ask the cloud's health endpoint; None if it answered, else why not."""
        ...

    def back_online(self) -> None: ...

    def went_offline(self, reason: str) -> None: ...

    def retry(self) -> None: ...


class ConnectionMonitor:
    def __init__(self, host: MonitorHost, backoff: Backoff, *, probe_interval: float) -> None:
        self.host = host
        self.backoff = backoff
        self.probe_interval = probe_interval
        self.wake = threading.Event()
        self._next_try: float | None = None
        self._lock = threading.Lock()

    def succeeded(self) -> None:
        """A sync went through: the next failure starts the backoff from the bottom."""
        with self._lock:
            self.backoff.reset()
            self._next_try = None
        self.wake.set()

    def next_retry_in(self) -> float | None:
        t = self._next_try
        return None if t is None else max(0.0, t - time.monotonic())

    def run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            state, retry_errors, last_contact = self.host.connectivity()
            now = time.monotonic()
            timeout: float | None
            with self._lock:
                if state == OFFLINE or (state == ERROR and retry_errors):
                    if self._next_try is None:
                        self._next_try = now + self.backoff.next_delay()
                    timeout = self._next_try - now
                elif state == IDLE and self.probe_interval > 0:
                    self._next_try = None
                    timeout = last_contact + self.probe_interval - now
                else:  # syncing, an error not retried, unauthorized, revoked: wait for news
                    self._next_try = None
                    timeout = None
            if timeout is None or timeout > 0:
                self.wake.wait(timeout)
                self.wake.clear()
                continue
            if stopping.is_set():
                return
            with self._lock:
                self._next_try = None
            if state == OFFLINE:
                why = self.host.probe()
                if why is None:
                    log.info("the cloud answers again")
                    self.host.back_online()
                else:
                    log.debug("still offline: %s", why)
            elif state == ERROR:
                self.host.retry()
            else:
                why = self.host.probe()
                if why is not None:
                    self.host.went_offline(why)
