"""``risk_manager watchdog``: the dead-man heartbeat check, as its own process (SPEC §8)."""

from __future__ import annotations

import asyncio
import signal

import typer

from risk_manager.broker.projectx.client import ProjectXClient
from risk_manager.cli.options import EXIT_AUTH, EXIT_INVALID, ConfigDirOption, DataDirOption
from risk_manager.config.loader import ConfigSet, load_config_set
from risk_manager.config.paths import resolve_paths
from risk_manager.config.problems import ConfigError
from risk_manager.config.secrets import load_api_key
from risk_manager.daemon.logs import register_secrets, setup_logging
from risk_manager.schedule import ExchangeCalendar
from risk_manager.service.watchdog import Flattener, Watchdog, globex_open
from risk_manager.store import DATABASE_FILENAME


def watchdog(config_dir: ConfigDirOption = None, data_dir: DataDirOption = None) -> None:
    """Watch the daemon's heartbeat; alert (and flatten, if configured) while stale in market hours."""
    paths = resolve_paths(config_dir, data_dir)
    try:
        config_set = load_config_set(paths.config_dir)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from exc
    general = config_set.risk.general
    setup_logging(general.logging.level, paths.data_dir / "logs" / "watchdog.log",
                  max_bytes=general.logging.max_bytes, backups=general.logging.backups)  # fmt: skip
    try:
        client = build_client(config_set) if general.watchdog.flatten_on_stale else None
    except ValueError as exc:  # no credentials: a watchdog that cannot flatten must say so now
        typer.echo(f"watchdog: {exc}", err=True)
        raise typer.Exit(EXIT_AUTH) from exc
    holidays = config_set.holidays
    calendar = ExchangeCalendar(holidays.overrides() if holidays is not None else None)
    flattener = Flattener(client, config_set.accounts.enabled_accounts()) if client is not None else None
    dog = Watchdog(paths.data_dir / DATABASE_FILENAME, general.watchdog, globex_open(calendar), flattener)
    asyncio.run(_run(dog, client))


def build_client(config_set: ConfigSet) -> ProjectXClient:
    """The daemon's own kind of client, with its credentials (accounts.yaml, keyring or secrets.yaml)."""
    gateway = config_set.accounts.gateway
    api_key = gateway.api_key.get_secret_value() or load_api_key(config_set.config_dir, gateway.username)
    register_secrets([api_key])
    return ProjectXClient.from_config(gateway, api_key=api_key)


async def _run(dog: Watchdog, client: ProjectXClient | None) -> None:
    """Until SIGTERM/SIGINT (then exit 0: the supervisor or the service stops it)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    try:
        await dog.run(stop)
    finally:
        if client is not None:
            await client.aclose()


__all__ = ["build_client", "watchdog"]
