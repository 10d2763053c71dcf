"""The entry point of the frozen workstation programs.

One analysis serves both executables of the frozen folder: started as `outpost-install` it is
the installer, under any other name the workstation's `outpost`.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    name = Path(sys.executable if getattr(sys, "frozen", False) else sys.argv[0]).stem.lower()
    if name.startswith("outpost-install"):
        from installer.cli import main as run
    else:
        from daemon.cli import main as run
    run()


if __name__ == "__main__":
    main()
