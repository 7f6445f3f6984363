"""``risk_manager run``: the daemon in the foreground."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

from risk_manager.cli.options import EXIT_RUNTIME, ConfigDirOption, DataDirOption
from risk_manager.config.loader import ConfigSet, load_config_set
from risk_manager.config.paths import resolve_paths
from risk_manager.config.problems import ConfigError
from risk_manager.daemon.config_changes import last_good_dir
from risk_manager.daemon.daemon import run_daemon
from risk_manager.daemon.logs import setup_logging
from risk_manager.engine.runtime import tune_gc
from risk_manager.store import DATABASE_FILENAME, AlreadyRunning, DaemonLock, Store
from risk_manager.store.timefmt import to_iso

CONFIG_RECHECK_EVERY = 2.0


def run(config_dir: ConfigDirOption = None, data_dir: DataDirOption = None) -> None:
    """Run the daemon in the foreground: watch every configured account and enforce the rules."""
    paths = resolve_paths(config_dir, data_dir)
    try:
        config_set = _config_to_run(paths.config_dir, paths.data_dir)
        logging_config = config_set.risk.general.logging
        setup_logging(logging_config.level, paths.data_dir / "logs" / "risk_manager.log",
                      max_bytes=logging_config.max_bytes, backups=logging_config.backups)  # fmt: skip
        tune_gc()
        code = asyncio.run(run_daemon(config_set, paths.data_dir, paths.config_dir))
    except AlreadyRunning as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_RUNTIME) from exc
    raise typer.Exit(code)


def _config_to_run(config_dir: Path, data_dir: Path) -> ConfigSet:
    """The files if valid; else the last good copy (SPEC §4.7); else wait, state CONFIG_ERROR,
    rechecking every 2 s: nothing can be monitored without a valid config."""
    try:
        return load_config_set(config_dir)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        good = last_good_dir(data_dir)
        if good is not None:
            typer.echo(f"running with the last good config, copied at its last use: {good}", err=True)
            return load_config_set(good)
        typer.echo("CONFIG_ERROR: no account is monitored until the config is fixed (rechecked every 2 s)",
                   err=True)  # fmt: skip
        return _wait_for_valid_config(config_dir, data_dir, str(exc))


def _wait_for_valid_config(config_dir: Path, data_dir: Path, error: str) -> ConfigSet:
    data_dir.mkdir(parents=True, exist_ok=True)
    with DaemonLock(data_dir), Store.open(data_dir / DATABASE_FILENAME) as store:
        store.set_meta_many({"config_state": "ERROR", "config_error": error, "connection": "DISCONNECTED",
                             "daemon_pid": str(os.getpid())})  # fmt: skip
        while True:
            time.sleep(CONFIG_RECHECK_EVERY)
            store.set_meta("heartbeat_at", to_iso(datetime.now(UTC)))
            try:
                config_set = load_config_set(config_dir)
            except ConfigError as exc:
                store.set_meta("config_error", str(exc))
                continue
            store.set_meta_many({"config_state": "OK", "config_error": ""})
            return config_set


__all__ = ["run"]
