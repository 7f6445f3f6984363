"""``risk-status`` / ``python -m risk_manager status``: the trader's status screen (SPEC §6).

Read-only (the database and the config dir; no password), so locks stay visible while the
daemon is down. On a terminal it is the live Textual screen (``r`` refresh, ``q`` quit);
``--once`` prints one frame and ``--json`` the frame as JSON, both exiting 0 only when the
daemon is RUNNING (1 when STALE or NOT RUNNING, the last known state still printed).
Off a terminal (a pipe, a file, a service log) it prints one frame, as ``--once`` does,
since there is no screen to redraw. Colour only on a terminal and never with ``NO_COLOR``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from risk_manager.cli.options import EXIT_OK, EXIT_RUNTIME, ConfigDirOption, DataDirOption
from risk_manager.config.paths import resolve_paths
from risk_manager.store import DATABASE_FILENAME, StoreError
from risk_manager.tui.app import status_app
from risk_manager.tui.frame import Frame, StatusReader
from risk_manager.tui.render import whole_frame


def print_frame(frame: Frame, console: Console) -> None:
    """One frame as text (Rich decides on colour: a terminal without ``NO_COLOR`` only)."""
    console.print(whole_frame(frame))


def exit_code(frame: Frame) -> int:
    """0 when the daemon is RUNNING, 1 otherwise (SPEC §6)."""
    return EXIT_OK if frame.daemon == "RUNNING" else EXIT_RUNTIME


def status(
    once: Annotated[bool, typer.Option("--once", help="Print one frame and exit.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one frame as JSON and exit.")] = False,
    account: Annotated[
        str | None, typer.Option("--account", help="Show this account only (id or name).")
    ] = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """The trader's status, live and read-only; --once/--json exit 0 only when the daemon is RUNNING."""
    paths = resolve_paths(config_dir, data_dir)
    reader = StatusReader(paths.data_dir / DATABASE_FILENAME, paths.config_dir, account=account)
    if not (once or as_json) and sys.stdout.isatty() and sys.stdin.isatty():
        status_app(reader).run()
        raise typer.Exit(EXIT_OK)
    try:
        frame = reader.read(datetime.now(UTC))
    except StoreError as exc:
        typer.echo(f"cannot read the database: {exc}", err=True)
        raise typer.Exit(EXIT_RUNTIME) from exc
    if as_json:
        typer.echo(json.dumps(frame.as_json()))
    else:
        print_frame(frame, Console(highlight=False))
    raise typer.Exit(exit_code(frame))


__all__ = ["exit_code", "print_frame", "status"]
