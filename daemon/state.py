"""What the workstation remembers between runs: the last sync and a bounded sync history.

Kept as small files in HOME/state (JSON written atomically, and the history appended to), so
`outpost status` can answer from them whether or not the daemon runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

HISTORY_KEEP = 200
HISTORY_MAX_BYTES = 256 * 1024  # appended to until this size, then cut to HISTORY_KEEP lines
TAIL_BYTES = 16 * 1024  # read from the history's end for the last sync: many records


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(tmp, path)


write_json = _write_json  # public name for the daemon's own state files


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return default


class SyncLog:
    def __init__(self, state_dir: Path) -> None:
        self.history_file = state_dir / "history.jsonl"

    def last(self) -> dict[str, Any] | None:
        """The newest whole record, read from the history's end."""
        try:
            with self.history_file.open("rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - TAIL_BYTES))
                tail = f.read()
        except OSError:
            return None
        lines = tail.splitlines()
        if size > len(tail):
            lines = lines[1:]  # the first may be the end of a line begun before the tail
        for line in reversed(lines):
            try:
                value = json.loads(line)
            except ValueError:
                continue  # a record cut short
            if isinstance(value, dict):
                return value
        if size > len(tail):  # no whole record in the tail: one record longer than it
            whole = self.history(1)
            return whole[-1] if whole else None
        return None

    def record(self, result: dict[str, Any]) -> None:
        """Add `result` to the history, whose last line is the last sync.

        The history is appended to (one write of one line: a crash can cut only that line,
        which reading skips, and the next line starts afresh) and rewritten only when it has
        grown well past what it keeps, so recording a sync stays cheap when syncs are frequent:
        one append, no file replaced (a no-change sync took 7 ms, 1.0 of them to record it).
        """
        line = (json.dumps(result, sort_keys=True) + "\n").encode()
        fd = os.open(self.history_file, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # the last record was cut short
            os.write(fd, line)
            size += len(line)
        finally:
            os.close(fd)
        if size > HISTORY_MAX_BYTES:
            lines = self._lines()[-HISTORY_KEEP:]
            tmp = self.history_file.with_name(self.history_file.name + ".tmp")
            tmp.write_text("\n".join(lines) + "\n")
            os.replace(tmp, self.history_file)

    def history(self, n: int = 10) -> list[dict[str, Any]]:
        out = []
        for line in self._lines()[-n:]:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def _lines(self) -> list[str]:
        try:
            return [ln for ln in self.history_file.read_text().splitlines() if ln.strip()]
        except OSError:
            return []
