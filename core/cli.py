"""What every Outpost program does the same way at its edge: one-line errors, JSON output.

Each console script's `main` is `run(group)`: an OutpostError (or a click usage error) becomes
one line on stderr and a non-zero exit; no user ever sees a traceback.
"""

from __future__ import annotations

import gc
import sys
from typing import Any, NoReturn

import click
import orjson

from core.errors import OutpostError

EXIT_ERROR = 1
EXIT_USAGE = 2
# The cyclic collector's first generation: a sync decodes and builds tens of thousands of
# containers a batch, nearly all freed by reference counting, and at Python's default (700)
# the collector ran so often that it took 13 to 18% of the cloud's CPU in a push of 100,000
# and 8% of the workstation's. At 50,000 the cloud still collected 7 times in that push, for
# 177 ms: a collection meets a whole batch's decoded changes alive and walks them all. At
# 500,000 it collects about once; the cloud's CPU for the push fell by 9% (medians of ten
# pushes of each setting, taken in turn), its peak memory stayed at 148 MB.
GC_YOUNGEST = 500_000


def collect_less() -> None:
    """The collector setting every Outpost program runs with (and the benchmarks' floors)."""
    gc.set_threshold(GC_YOUNGEST, 20, 100)


def run(group: click.Command, prog_name: str) -> NoReturn:
    collect_less()
    try:
        _run(group, prog_name)
    finally:
        # Python's exit walks every object still tracked once more (40 to 80 ms after a sync);
        # what is left at exit goes with the process, so the walk is skipped. Commands close
        # their stores themselves, not through the collector.
        gc.freeze()


def _run(group: click.Command, prog_name: str) -> NoReturn:
    try:
        group.main(prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo(f"{prog_name}: aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        hint = f" (try '{exc.ctx.command_path} --help')" if exc.ctx else ""
        click.echo(f"{prog_name}: {exc.format_message()}{hint}", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        click.echo(f"{prog_name}: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except OutpostError as exc:
        click.echo(f"{prog_name}: {exc.message}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo(f"{prog_name}: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        click.echo(f"{prog_name}: {exc.strerror or exc}{where}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(0)


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def echo_json(value: Any) -> None:
    click.echo(dumps(value))
