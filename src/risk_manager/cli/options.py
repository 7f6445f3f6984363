"""Options every subcommand shares (SPEC §6), and the exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, EXIT_AUTH, EXIT_INVALID = 0, 1, 2, 3, 4

ConfigDirOption = Annotated[
    Path | None,
    typer.Option(
        "--config-dir", help="Config directory (env RISK_MANAGER_CONFIG_DIR; default: the OS convention)."
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Data directory (env RISK_MANAGER_DATA_DIR; default: the OS convention)."
    ),
]

__all__ = [
    "EXIT_AUTH",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "ConfigDirOption",
    "DataDirOption",
]
