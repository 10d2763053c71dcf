"""The daemon's log: HOME/logs/daemon.log, rotated (1 MB x 5), plus stderr on a terminal."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from daemon.home import Home

MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_file(home: Home) -> Path:
    return home.logs / "daemon.log"


def setup_logging(home: Home, *, level: int = logging.INFO,
                  max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> Path:
    path = log_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                  encoding="utf-8", delay=False)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger("outpost")
    for old in list(root.handlers):  # a second setup in one process replaces the first
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    if sys.stderr is not None and sys.stderr.isatty():
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        root.addHandler(console)
    root.setLevel(level)
    root.propagate = False
    for name in ("pystray", "watchdog"):  # their warnings belong in our log, not on a console
        other = logging.getLogger(name)
        other.setLevel(logging.WARNING)
        other.addHandler(handler)
    return path
