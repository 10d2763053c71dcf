"""One daemon per home: an OS file lock (HOME/state/daemon.lock) held for the daemon's life.

The operating system drops the lock when the process ends, however it ends, so a crash never
leaves a stale lock behind.
"""

from __future__ import annotations

import filelock

from core.errors import OutpostError
from daemon.home import Home


class AlreadyRunning(OutpostError):
    code = "already_running"


def lock_path(home: Home) -> str:
    return str(home.state / "daemon.lock")


class DaemonLock:
    def __init__(self, home: Home) -> None:
        self.home = home
        self._lock = filelock.FileLock(lock_path(home), thread_local=False)

    def acquire(self, wait: float = 1.0) -> None:
        """Take the lock, or say which daemon has it. `wait` covers a probe by `outpost status`
        that holds the lock for an instant."""
        self.home.state.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise AlreadyRunning(
                f"the Outpost daemon is already running for {self.home.root}"
                + _pid_note(self.home)
            ) from None

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)


def daemon_running(home: Home) -> bool:
    """Is a daemon holding this home's lock (checked without disturbing it)?"""
    path = home.state / "daemon.lock"
    if not path.exists():
        return False
    probe = filelock.FileLock(str(path), thread_local=False)
    try:
        probe.acquire(timeout=0)
    except filelock.Timeout:
        return True
    except OSError:
        return False
    probe.release(force=True)
    return False


def _pid_note(home: Home) -> str:
    from daemon.service.control import read_control_file

    info = read_control_file(home)
    pid = info.get("pid") if info else None
    return f" (pid {pid})" if pid else ""
