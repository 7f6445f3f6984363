"""``risk_manager run``: the daemon in the foreground."""

from __future__ import annotations

import asyncio

import typer

from risk_manager.cli.options import EXIT_INVALID, EXIT_RUNTIME, ConfigDirOption, DataDirOption
from risk_manager.config.loader import load_config_set
from risk_manager.config.paths import resolve_paths
from risk_manager.config.problems import ConfigError
from risk_manager.daemon.daemon import run_daemon
from risk_manager.daemon.logs import setup_logging
from risk_manager.engine.runtime import tune_gc
from risk_manager.store import AlreadyRunning


def run(config_dir: ConfigDirOption = None, data_dir: DataDirOption = None) -> None:
    """Run the daemon in the foreground: watch every configured account and enforce the rules."""
    paths = resolve_paths(config_dir, data_dir)
    try:
        config_set = load_config_set(paths.config_dir)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from exc
    logging_config = config_set.risk.general.logging
    setup_logging(logging_config.level, paths.data_dir / "logs" / "risk_manager.log",
                  max_bytes=logging_config.max_bytes, backups=logging_config.backups,
                  retention_days=logging_config.retention_days)  # fmt: skip
    tune_gc()
    try:
        code = asyncio.run(run_daemon(config_set, paths.data_dir))
    except AlreadyRunning as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_RUNTIME) from exc
    raise typer.Exit(code)


__all__ = ["run"]
