"""Realtime mode's ear on the cloud: a long-poll of GET /sync/wait that asks for a sync when the
cloud's head moves past this workstation's cursor.

It polls only while the engine is idle and online in realtime mode; after asking for a sync it
waits for that sync to finish (the cursor moves) before it polls again, so it never spins.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from core.errors import OutpostError
from daemon.sync.errors import AuthFailed, NotLoggedIn, Offline, Revoked

log = logging.getLogger("outpost.daemon.longpoll")


class PollHost(Protocol):
    def poll_ready(self) -> bool:
        """Realtime mode, idle, online, not paused, signed in."""
        ...

    def cursor(self) -> int: ...

    def poll_client(self) -> Any:
        """A CloudClient of its own (requests sessions are not shared between threads)."""
        ...

    def contact(self) -> None: ...

    def went_offline(self, reason: str) -> None: ...

    def blocked(self, state: str, reason: str) -> None: ...

    def request_auto(self, trigger: str) -> int | None: ...

    def wait_done(self, seq: int, timeout: float | None) -> Any: ...


class RemoteWatcher:
    def __init__(self, host: PollHost, *, timeout: float, pause_after_error: float) -> None:
        self.host = host
        self.timeout = max(1.0, min(timeout, 60.0))
        self.pause_after_error = pause_after_error
        self.wake = threading.Event()

    def run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            if not self.host.poll_ready():
                self.wake.wait()
                self.wake.clear()
                continue
            cursor = self.host.cursor()
            try:
                client = self.host.poll_client()
                try:
                    answer = client.wait(cursor, self.timeout)
                finally:
                    client.close()
            except Offline as exc:
                if not stopping.is_set():
                    self.host.went_offline(exc.message)
                continue
            except Revoked as exc:
                self.host.blocked("revoked", exc.message)
                continue
            except (AuthFailed, NotLoggedIn) as exc:
                self.host.blocked("unauthorized", exc.message)
                continue
            except Exception as exc:  # a refusal or a bad setting: say so, try again later
                log.warning("long-poll failed: %s",
                            exc.message if isinstance(exc, OutpostError) else repr(exc))
                stopping.wait(self.pause_after_error)
                continue
            self.host.contact()
            if not answer.get("changed") or stopping.is_set():
                continue
            if self.host.cursor() != cursor or not self.host.poll_ready():
                continue  # a sync ran (or runs) meanwhile: ask again from where it got to
            seq = self.host.request_auto("remote")
            if seq is not None:
                self.host.wait_done(seq, None)
