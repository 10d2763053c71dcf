"""`outpost daemon`: take the home's lock, start the engine and the control channel, show the
tray where there is a display (on the main thread, as macOS requires), and stop cleanly.

The engine runs on its own threads everywhere, so the main thread is free for the tray, or,
headless, just waits for a stop (from `outpost stop`, the tray's Quit, SIGTERM or Ctrl+C).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from daemon.home import Home
from daemon.service.control import ControlClient, ControlServer
from daemon.service.engine import Engine
from daemon.service.lock import DaemonLock
from daemon.service.logs import setup_logging
from daemon.service.tuning import Tuning
from daemon.workstation import Workstation

log = logging.getLogger("outpost.daemon")
TRAY_STOP_WAIT = 10.0


def display_available() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_daemon(home: Home, *, headless: bool = False, tuning: Tuning | None = None) -> None:
    Workstation(home).close()  # not installed: say so before anything else
    lock = DaemonLock(home)
    lock.acquire()
    try:
        setup_logging(home)
        engine = Engine(home, tuning=tuning)
        server = ControlServer(engine, home)
        finished = threading.Lock()

        def finish() -> None:  # once, from whichever thread gets here first
            if finished.acquire(blocking=False):
                engine.stop()
                engine.shutdown()
                server.close()

        try:
            engine.start()
            server.start()
            _on_signals(engine)
            if not headless and display_available():
                _run_tray(home, engine, finish, lock)
            elif not headless:
                log.info("no display: running without a tray")
            engine.wait_stopped()
        finally:
            finish()
    finally:
        lock.release()


def _run_tray(home: Home, engine: Engine, finish: Callable[[], None], lock: DaemonLock) -> None:
    """Show the tray until the daemon stops; without a usable tray, carry on headless."""
    try:
        from daemon.tray.app import TrayApp

        def shown() -> None:
            engine.tray = True

        app = TrayApp(ControlClient(home), home, on_shown=shown)
        app.prepare()
    except Exception as exc:
        log.warning("no tray (%s): running without one", exc)
        return
    tray_done = threading.Event()

    def stopper() -> None:
        engine.wait_stopped()
        app.stop()
        if not tray_done.wait(TRAY_STOP_WAIT):  # a wedged GUI loop must not keep us running
            log.error("the tray did not stop within %.0f s: exiting without it", TRAY_STOP_WAIT)
            finish()
            lock.release()
            logging.shutdown()
            os._exit(0)

    threading.Thread(target=stopper, name="outpost-tray-stop", daemon=True).start()
    try:
        app.run()  # blocks on this (the main) thread until app.stop()
    except Exception as exc:
        log.warning("the tray stopped (%s): running without one", exc)
    finally:
        tray_done.set()
        engine.tray = False


def _on_signals(engine: Engine) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        engine.stop()

    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGBREAK"):
        sig = getattr(signal, name, None)
        if sig is not None:
            with contextlib.suppress(OSError, ValueError):
                signal.signal(sig, handler)
