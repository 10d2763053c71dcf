"""Which `outpost` program runs the workstation, and starting its daemon in the background."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from core.errors import OutpostError

EXE = ".exe" if os.name == "nt" else ""
START_WAIT = 1.5  # seconds to watch a new daemon for an immediate failure


class StartError(OutpostError):
    code = "start_failed"


def outpost_program() -> list[str]:
    """The command that runs `outpost`: the frozen program beside this one, the script of
    this Python environment, the one on PATH, or this Python with `-m daemon`."""
    here = Path(sys.executable)
    if getattr(sys, "frozen", False):
        return [str(here.with_name("outpost" + EXE))]
    near = here.with_name("outpost" + EXE)
    if near.is_file():
        return [str(near)]
    found = shutil.which("outpost")
    if found:
        return [str(Path(found).absolute())]
    return [sys.executable, "-m", "daemon"]


def daemon_command(home: Path, program: Sequence[str] | None = None) -> list[str]:
    return [*(program or outpost_program()), "--home", str(home), "daemon"]


def start_daemon(command: Sequence[str], log: Path, *, wait: float = START_WAIT) -> int:
    """Start `command` detached from this process; its early output goes to `log`.

    Returns the new process id, or raises StartError if it cannot run or dies at once.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, object] = {}
    if os.name == "nt":
        flags = 0x00000008 | 0x00000200 | 0x08000000  # DETACHED, NEW_PROCESS_GROUP, NO_WINDOW
        kwargs["creationflags"] = flags
    else:
        kwargs["start_new_session"] = True
    with log.open("ab") as out:
        try:
            proc = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=out, close_fds=True, **kwargs)  # type: ignore[call-overload]
        except OSError as exc:
            raise StartError(f"cannot start {command[0]}: {exc.strerror or exc}") from None
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            if code == 0:
                return int(proc.pid)  # it handed over to a process of its own
            raise StartError(f"the daemon stopped at once (exit code {code}): "
                             f"{_last_line(log) or 'no output'} (see {log})")
        time.sleep(0.05)
    return int(proc.pid)


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""
