"""`python -m daemon` runs the `outpost` command (for installs without the console script)."""

from daemon.cli import main

main()
