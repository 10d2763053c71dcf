"""Noticing local writes: a watchdog observer on the home, debounced.

Any program may write the infobase; SQLite in WAL mode touches `infobase.db-wal` (or the main
file, or `-journal`), so a write shows up as a file event here. Bursts are debounced into one
call after a quiet moment. The same observer notices `config.toml` edited by hand and a new
sign-in (`state/credentials.*`). Where watchdog cannot run, a null watcher stands in and the
daemon still works, only without realtime pushes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("outpost.daemon.watcher")


class Debouncer:
    """Calls `fn` once, `quiet` seconds after the last `poke()`, and at the latest `most` seconds
    after the first poke of a burst (so a program writing non-stop still gets synced)."""

    def __init__(self, fn: Callable[[], None], quiet: float, most: float | None = None) -> None:
        self.fn = fn
        self.quiet = quiet
        self.most = most if most is not None else max(quiet * 5, quiet)
        self._cond = threading.Condition()
        self._first: float | None = None
        self._last = 0.0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="outpost-debounce", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        with self._cond:
            now = time.monotonic()
            if self._first is None:
                self._first = now
            self._last = now
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._first is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                assert self._first is not None
                fire_at = min(self._last + self.quiet, self._first + self.most)
                delay = fire_at - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                self._first = None
            try:
                self.fn()
            except Exception:
                log.exception("a debounced callback failed")


class LocalWatcher:
    """Watches HOME (the infobase files, config.toml) and HOME/state (credentials)."""

    def __init__(self, root: Path, state: Path, *, database: str, on_data: Callable[[], None],
                 on_config: Callable[[], None], on_credentials: Callable[[], None],
                 debounce: float) -> None:
        self.root, self.state = root, state
        self.data_names = {database, f"{database}-wal", f"{database}-journal"}
        self.on_config = Debouncer(on_config, 0.3)
        self.on_credentials = Debouncer(on_credentials, 0.3)
        self.on_data = Debouncer(on_data, debounce)
        self._observer: Any = None
        self._root_real = root.resolve()
        self._state_real = state.resolve()

    def start(self) -> bool:
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except Exception as exc:  # pragma: no cover - watchdog is a dependency
            log.warning("file watching is not available (%s): realtime pushes are off", exc)
            return False
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                for p in (event.src_path, getattr(event, "dest_path", "")):
                    if p:
                        watcher._seen(Path(str(p)))

        try:
            self.state.mkdir(parents=True, exist_ok=True)
            observer = Observer()
            handler = Handler()
            observer.schedule(handler, str(self.root), recursive=False)
            observer.schedule(handler, str(self.state), recursive=False)
            observer.daemon = True
            observer.start()
        except Exception as exc:
            log.warning("cannot watch %s (%s): local writes are noticed at the next sync",
                        self.root, exc)
            return False
        self._observer = observer
        return True

    def _seen(self, path: Path) -> None:
        name = path.name  # names first: most events are of files nobody here cares about
        if name in self.data_names and self._under(path, self._root_real):
            self.on_data.poke()
        elif name == "config.toml" and self._under(path, self._root_real):
            self.on_config.poke()
        elif name in ("credentials.where", "credentials.enc") and \
                self._under(path, self._state_real):
            self.on_credentials.poke()

    @staticmethod
    def _under(path: Path, folder: Path) -> bool:
        # Some platforms report resolved paths (macOS: /private/var/... for /var/...).
        return path.parent == folder or path.parent.resolve() == folder

    def stop(self) -> None:
        for d in (self.on_data, self.on_config, self.on_credentials):
            d.close()
        if self._observer is not None:
            try:
                self._observer.stop()
                self._observer.join(2)
            except Exception:
                pass
            self._observer = None
