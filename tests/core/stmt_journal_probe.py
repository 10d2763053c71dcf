"""Which statements make SQLite open a statement journal, run in a process of its own.

    python tests/core/stmt_journal_probe.py <infobase> < statements.json

Reads a JSON list of [sql, [params...]] and prints, as JSON, for each one whether running it
inside a transaction opened a statement journal. SQLite keeps a statement journal in memory
until it outgrows a threshold; with the threshold at 0 (a process-wide setting, made before
SQLite starts, hence the process of its own) every one becomes a temporary file, which a VFS
that passes everything through sees opened.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import apsw

apsw.shutdown()
apsw.config(apsw.SQLITE_CONFIG_STMTJRNL_SPILL, 0)
apsw.initialize()

opened: list[str] = []


class Watch(apsw.VFS):
    NAME = "watch"

    def __init__(self) -> None:
        super().__init__(self.NAME, "")

    def xOpen(self, name: Any, flags: list[int]) -> apsw.VFSFile:
        if flags[0] & apsw.SQLITE_OPEN_SUBJOURNAL:
            opened.append(str(name))
        return super().xOpen(name, flags)


def main() -> None:
    vfs = Watch()  # registered while it lives
    conn = apsw.Connection(sys.argv[1], vfs=vfs.NAME)
    conn.execute("PRAGMA temp_store=FILE")
    found = []
    for sql, params in json.load(sys.stdin):
        opened.clear()
        conn.execute("BEGIN")
        conn.execute(sql, params)
        conn.execute("COMMIT")
        found.append(bool(opened))
    print(json.dumps(found))


if __name__ == "__main__":
    main()
