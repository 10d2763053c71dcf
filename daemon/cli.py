"""The `outpost` command line."""

from __future__ import annotations

import click

from core import __version__
from core.cli import run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="outpost")
def cli() -> None:
    """The workstation: local database, sync, daemon and CLI."""


def main() -> None:
    run(cli, "outpost")
