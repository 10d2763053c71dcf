"""The workstation daemon's engine: scheduler, connectivity, realtime watchers, the local
control channel, the one-daemon-per-home lock and the log. It runs the same with or without a
display; the tray (daemon.tray) is only a face on it. See docs/daemon.md.

The names below are loaded when first used: every `outpost` command asks whether a daemon runs
(daemon.service.lock), and that should not cost it the engine's imports (a third of a no-op
`outpost sync`'s start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "AlreadyRunning": "lock",
    "ControlClient": "control",
    "ControlError": "control",
    "ControlServer": "control",
    "Controller": "control",
    "DaemonLock": "lock",
    "DaemonNotRunning": "control",
    "Engine": "engine",
    "Tuning": "tuning",
    "daemon_running": "lock",
    "run_daemon": "runner",
}
__all__ = [
    "AlreadyRunning",
    "ControlClient",
    "ControlError",
    "ControlServer",
    "Controller",
    "DaemonLock",
    "DaemonNotRunning",
    "Engine",
    "Tuning",
    "daemon_running",
    "run_daemon",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{where}"), name)


if TYPE_CHECKING:
    from daemon.service.control import (
        ControlClient,
        ControlError,
        Controller,
        ControlServer,
        DaemonNotRunning,
    )
    from daemon.service.engine import Engine
    from daemon.service.lock import AlreadyRunning, DaemonLock, daemon_running
    from daemon.service.runner import run_daemon
    from daemon.service.tuning import Tuning
