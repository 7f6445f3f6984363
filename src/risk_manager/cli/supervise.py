"""``risk_manager supervise``: the daemon (and the watchdog, if configured) kept running (SPEC §7)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from risk_manager.cli.options import ConfigDirOption, DataDirOption
from risk_manager.config.loader import ConfigSet, load_config_set
from risk_manager.config.paths import AppPaths, resolve_paths
from risk_manager.config.problems import ConfigError
from risk_manager.config.risk import LoggingConfig
from risk_manager.daemon.logs import setup_logging
from risk_manager.service.supervisor import (
    SUPERVISOR_PID_ENV,
    ChildSpec,
    Supervisor,
    child_argv,
    install_stop_handlers,
    popen_spawner,
)
from risk_manager.store import DATABASE_FILENAME, Store, StoreError

log = logging.getLogger("risk_manager.supervisor")

MaxBackoffOption = Annotated[
    float,
    typer.Option("--max-backoff", min=0.05, max=3600.0, help="Longest wait between restarts, in seconds."),
]


def supervise(max_backoff: MaxBackoffOption = 10.0, config_dir: ConfigDirOption = None,
              data_dir: DataDirOption = None) -> None:  # fmt: skip
    """Run the daemon as a child and restart it after every exit but an authenticated stop."""
    paths = resolve_paths(config_dir, data_dir)
    config_set = config_or_none(paths.config_dir)
    _setup_logging(paths, config_set)
    children = [ChildSpec("daemon", child_argv("run", paths.config_dir, paths.data_dir), primary=True)]
    if config_set is not None and watchdog_configured(config_set):
        children.append(ChildSpec("watchdog", child_argv("watchdog", paths.config_dir, paths.data_dir)))
    pid = str(os.getpid())
    supervisor = Supervisor(children, max_backoff=max_backoff, spawn=popen_spawner({SUPERVISOR_PID_ENV: pid}))
    install_stop_handlers(supervisor)
    database = paths.data_dir / DATABASE_FILENAME
    record_supervisor_pid(database, pid)
    try:
        code = supervisor.run()
    finally:
        record_supervisor_pid(database, "")
    raise typer.Exit(code)


def watchdog_configured(config_set: ConfigSet) -> bool:
    """The watchdog runs when risk_config.yaml names ``general.watchdog`` (its defaults alone do not)."""
    return "watchdog" in config_set.risk.general.model_fields_set


def record_supervisor_pid(database: Path, pid: str) -> None:
    """meta ``supervisor_pid`` (SPEC §5; "" once the supervisor is gone). One small write while the
    daemon owns the DB; the children also get it in ``RISK_MANAGER_SUPERVISOR_PID``."""
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        with Store.open(database) as store:
            store.set_meta("supervisor_pid", pid)
    except (StoreError, OSError) as exc:  # never a reason not to supervise
        log.warning("meta supervisor_pid not written: %s", exc)


def config_or_none(config_dir: Path) -> ConfigSet | None:
    """The config, for logging and the watchdog; an invalid one is the daemon's to report (exit 4)."""
    try:
        return load_config_set(config_dir)
    except ConfigError:
        return None


def _setup_logging(paths: AppPaths, config_set: ConfigSet | None) -> None:
    """JSON lines to stderr and ``<data_dir>/logs/supervisor.log`` (its own file: two processes
    rotating one file would lose lines)."""
    settings = config_set.risk.general.logging if config_set is not None else LoggingConfig()
    setup_logging(settings.level, paths.data_dir / "logs" / "supervisor.log",
                  max_bytes=settings.max_bytes, backups=settings.backups)  # fmt: skip
    if config_set is None:
        log.warning("config in %s is invalid or missing; the daemon will say why", paths.config_dir)


__all__ = ["config_or_none", "record_supervisor_pid", "supervise", "watchdog_configured"]
