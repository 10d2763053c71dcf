"""The workstation daemon's engine: scheduler, connectivity, realtime watchers, the local
control channel, the one-daemon-per-home lock and the log. It runs the same with or without a
display; the tray (daemon.tray) is only a face on it. See docs/daemon.md.
"""

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
