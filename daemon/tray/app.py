"""The tray icon (pystray): a face that shows the daemon's state and forwards the user's
clicks, through the same control channel as the CLI.

pystray picks its backend when it is imported, and on a machine without a display that import
fails with errors that are not ImportError, so it is imported only inside `prepare()`. Tests
use its dummy backend (PYSTRAY_BACKEND=dummy). pystray's loop must own the main thread on
macOS; the engine never needs it, so the daemon gives it the main thread everywhere.

pystray's X backend talks to one python-xlib connection from two threads (its loop and the
caller's), which python-xlib supports only once `Xlib.threaded` is imported, before any
connection is made; without it the two threads can wait on each other's reply for ever.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from daemon.home import Home
from daemon.service.control import Controller
from daemon.tray import icons, model
from daemon.tray.desktop import Notifier, Opener, notifier, opener

log = logging.getLogger("outpost.tray")
WATCH = 60.0  # one status long-poll lasts this long when nothing happens


class TrayApp:
    def __init__(self, controller: Controller, home: Home, *, open_with: Opener | None = None,
                 notify_with: Notifier | None = None, on_shown: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.controller = controller
        self.on_shown = on_shown
        self.home = home
        self.opener = open_with or opener()
        self.notifier = notify_with or notifier()
        self.clock = clock
        self.status: dict[str, Any] = {}
        self.view: model.TrayView | None = None
        self.icon: Any = None
        self._pystray: Any = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._icon_lock = threading.Lock()

    # -- life --------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Import pystray and build the icon; raises (anything) where no tray can work."""
        with contextlib.suppress(ImportError):  # only where python-xlib is installed (X11)
            import Xlib.threaded  # noqa: F401  (before pystray connects: see the docstring)
        import pystray  # lazily: see the module's docstring

        self._pystray = pystray
        self.apply(self.controller.status(), notify=False)
        assert self.view is not None
        self.icon = pystray.Icon("outpost", icon=icons.icon(self.view.icon),
                                 title=self.view.tooltip, menu=pystray.Menu(self._menu_items))

    def run(self) -> None:
        """Show the icon; blocks (on the main thread) until stop()."""
        if self.icon is None:
            self.prepare()

        def setup(icon: Any) -> None:  # pystray calls it once its loop runs
            if self._stopped.is_set():  # stop() came before the loop could be stopped
                icon.stop()
                return
            icon.visible = True
            threading.Thread(target=self._follow, name="outpost-tray", daemon=True).start()
            if self.on_shown is not None:
                self.on_shown()

        self.icon.run(setup)

    def stop(self) -> None:
        """Stop the icon's loop, from any thread, even before it has started."""
        self._stopped.set()  # first: a loop not running yet sees it in setup()
        if self.icon is not None:
            with self._icon_lock, contextlib.suppress(Exception):
                self.icon.stop()

    # -- state -> icon -----------------------------------------------------------------------

    def apply(self, status: dict[str, Any], *, notify: bool = True) -> model.TrayView:
        """Show `status`: icon, tooltip, menu, and notifications for failures needing the user."""
        with self._lock:
            before, self.status = self.status, status
            old = self.view
            self.view = view = model.view(status, self.clock())
        icon = self.icon
        if icon is not None and not self._stopped.is_set():
            with self._icon_lock:  # one call into the backend at a time (X11 needs it)
                if old is None or old.icon != view.icon:
                    icon.icon = icons.icon(view.icon)
                icon.title = view.tooltip
                with contextlib.suppress(NotImplementedError):
                    icon.update_menu()
        if notify:
            for title, message in model.notifications(before, status):
                self._notify(title, message)
        return view

    def _follow(self) -> None:
        """Long-poll the daemon's status and show each change."""
        version: int | None = self.status.get("version")
        while not self._stopped.is_set():
            try:
                status = self.controller.status(version, WATCH)
            except Exception as exc:
                log.debug("tray: no status (%s)", exc)
                self._stopped.wait(2.0)
                continue
            version = status.get("version")
            try:
                self.apply(status)
            except Exception:  # a display hiccup must not stop the icon following the state
                log.exception("tray: cannot show the new state")

    def _notify(self, title: str, message: str) -> None:
        icon = self.icon
        if icon is not None and getattr(icon, "HAS_NOTIFICATION", False):
            try:
                icon.notify(message, title)
                return
            except Exception:
                pass
        self.notifier.notify(title, message)

    # -- menu -> actions ---------------------------------------------------------------------

    def _menu_items(self) -> Iterator[Any]:
        pystray = self._pystray
        view = self.view
        if view is None:
            return
        for entry in view.menu:
            if entry.separator_before:
                yield pystray.Menu.SEPARATOR
            yield pystray.MenuItem(
                entry.text, self._action(entry.action), enabled=entry.enabled,
                default=entry.default,
                checked=None if entry.checked is None else (lambda _i, c=entry.checked: c),
            )

    def _action(self, name: str | None) -> Callable[..., None] | None:
        if name is None:
            return None

        def act(_icon: Any = None, _item: Any = None) -> None:
            self.perform(name)

        return act

    def perform(self, action: str) -> None:
        """Do what a menu entry names; failures become a notification, never a crash."""
        try:
            if action == model.SYNC_NOW:
                self.controller.sync_now(False, "tray")
            elif action == model.TOGGLE_PAUSE:
                paused = bool((self.status.get("daemon") or {}).get("paused"))
                self.controller.resume() if paused else self.controller.pause()
            elif action == model.OPEN_CONFLICTS:
                self.opener.open(write_conflicts_report(self.home, self.controller.conflicts()))
            elif action == model.OPEN_FOLDER:
                self.opener.open(self.home.root)
            elif action == model.OPEN_LOG:
                self.opener.open(self.home.logs / "daemon.log")
            elif action == model.QUIT:
                try:
                    self.controller.stop()
                finally:
                    self.stop()
            else:
                raise ValueError(f"unknown tray action {action!r}")
        except Exception as exc:
            log.warning("tray action %s failed: %s", action, exc)
            self._notify("Outpost", f"{action.replace('_', ' ')} failed: {exc}")


def write_conflicts_report(home: Home, data: dict[str, Any]) -> Path:
    """The conflicts list as a text file a person can read (the tray opens it)."""
    lines = [f"Outpost: conflicts and rejected changes, {_when(time.time())}", ""]
    for c in data.get("conflicts") or []:
        loser = c.get("loser") or {}
        lost = "deletion" if loser.get("op") == "delete" else "edit"
        done = f" (restored {_when(c['restored_at'])})" if c.get("restored_at") else ""
        lines.append(f"#{c['n']}  {_when(c.get('at'))}  {c.get('entity')} {c.get('id')}: "
                     f"{c.get('winner')} won on {', '.join(c.get('fields') or [])}; "
                     f"the losing {lost} is kept{done}")
        lines.append("    losing version: " + orjson.dumps(loser.get("fields")).decode())
    for r in data.get("rejected") or []:
        lines.append(f"rejected  {r.get('entity')} {r.get('id')}: {r.get('reason')}")
    if len(lines) == 2:
        lines.append("No conflicts and no rejected changes.")
    elif data.get("conflicts"):
        lines += ["", "Restore a losing version with: outpost conflicts restore N"]
    path = home.logs / "conflicts.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", "utf-8")
    tmp.replace(path)
    return path


def _when(t: Any) -> str:
    if not isinstance(t, (int, float)):
        return "-"
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")
