"""Where a workstation keeps its things: one folder, the home.

    HOME/infobase.db      the local infobase (an ordinary SQLite file)
    HOME/config.toml      settings (daemon.config)
    HOME/logs/            rotating logs
    HOME/state/           machine state the user never edits (cursor lives in the database)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_HOME = "OUTPOST_HOME"


def default_home() -> Path:
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    import platformdirs  # here, not at the top: only needed when no home is given

    return Path(platformdirs.user_data_dir("outpost", appauthor=False))


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def at(cls, path: str | Path | None) -> Home:
        return cls(Path(path).expanduser().absolute() if path else default_home().absolute())

    @property
    def database(self) -> Path:
        return self.root / "infobase.db"

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state(self) -> Path:
        return self.root / "state"

    def installed(self) -> bool:
        return self.database.exists() and self.config.exists()
