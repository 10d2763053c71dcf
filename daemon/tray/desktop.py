"""Small desktop services the tray needs, one class per platform with a null fallback (as in
Vorta): opening a folder or file with the user's program, and showing a notification when the
tray backend cannot.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("outpost.tray")


class Opener:
    """Opens a path with the desktop's default program."""

    def open(self, path: Path) -> bool:
        log.info("cannot open %s on this desktop", path)
        return False


class _CommandOpener(Opener):
    def __init__(self, command: str) -> None:
        self.command = command

    def open(self, path: Path) -> bool:
        try:
            subprocess.Popen([self.command, str(path)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
            return True
        except OSError as exc:
            log.warning("cannot open %s: %s", path, exc)
            return False


class _WindowsOpener(Opener):
    def open(self, path: Path) -> bool:
        try:
            os.startfile(str(path))  # type: ignore[attr-defined]
            return True
        except OSError as exc:
            log.warning("cannot open %s: %s", path, exc)
            return False


def opener() -> Opener:
    if sys.platform == "win32":
        return _WindowsOpener()
    if sys.platform == "darwin":
        return _CommandOpener("open")
    found = shutil.which("xdg-open")
    return _CommandOpener(found) if found else Opener()


class Notifier:
    """Shows a desktop notification; the base class only logs it."""

    def notify(self, title: str, message: str) -> None:
        log.warning("%s: %s", title, message)


class _NotifySend(Notifier):
    def __init__(self, command: str) -> None:
        self.command = command

    def notify(self, title: str, message: str) -> None:
        super().notify(title, message)
        with contextlib.suppress(OSError):
            subprocess.Popen([self.command, "--app-name=Outpost", title, message],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)


class _MacNotifier(Notifier):
    def notify(self, title: str, message: str) -> None:
        super().notify(title, message)
        script = f"display notification {_applescript(message)} with title {_applescript(title)}"
        with contextlib.suppress(OSError):
            subprocess.Popen(["osascript", "-e", script], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def notifier() -> Notifier:
    """The fallback when the tray backend has no notifications of its own."""
    if sys.platform == "darwin":
        return _MacNotifier()
    found = shutil.which("notify-send")
    return _NotifySend(found) if found else Notifier()


def _applescript(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
