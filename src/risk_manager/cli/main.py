"""``python -m risk_manager``: the command line (SPEC §6)."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from risk_manager import __version__
from risk_manager.cli.admin import admin_app, admin_main
from risk_manager.cli.demo import demo
from risk_manager.cli.gateway import gateway
from risk_manager.cli.init import init
from risk_manager.cli.journal import journal_app
from risk_manager.cli.options import EXIT_INVALID, ConfigDirOption, DataDirOption
from risk_manager.cli.run import run
from risk_manager.cli.status import status
from risk_manager.cli.supervise import supervise
from risk_manager.cli.watchdog import watchdog
from risk_manager.config.loader import load_config_set
from risk_manager.config.paths import resolve_paths
from risk_manager.config.problems import ConfigError
from risk_manager.engine.runtime import tune_gc

app = typer.Typer(
    name="risk_manager",
    help="Risk Manager: real-time risk rules for ProjectX Gateway (TopstepX) futures accounts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(journal_app, name="journal")
app.add_typer(admin_app, name="admin")
app.command()(init)
app.command()(run)
app.command()(gateway)
app.command()(demo)
app.command()(status)
app.command()(supervise)
app.command()(watchdog)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"risk-manager {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Risk Manager: real-time risk rules for ProjectX Gateway (TopstepX) futures accounts."""


@app.command()
def replay(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML), see docs: writing scenarios.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per action, nothing else.")
    ] = False,
    pace: Annotated[
        float, typer.Option("--pace", min=0.0, help="Real seconds to wait between events (to watch it live).")
    ] = 0.0,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run a scenario through the engine with a simulated clock and broker, and print every action."""
    from risk_manager.replay import Printer, load_scenario
    from risk_manager.replay import replay as run_replay

    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    console = Console(stderr=as_json, highlight=False)
    try:
        loaded = load_scenario(scenario)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from exc
    except OSError as exc:
        typer.echo(f"{scenario}: cannot read: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_INVALID) from exc
    printer = Printer(console, as_json)
    tune_gc()
    with tempfile.TemporaryDirectory(prefix="risk-replay-") as tmp:
        asyncio.run(run_replay(loaded, data_dir or Path(tmp), printer, pace=pace))
    if not as_json:
        _summary(console, printer)


def _summary(console: Console, printer: object) -> None:
    from risk_manager.replay import Printer

    assert isinstance(printer, Printer)
    sent = [r for r in printer.records if r.action not in ("reset", "unlock", "lockout", "cooldown")]
    locks = [r for r in printer.records if r.action in ("lockout", "cooldown")]
    console.print(f"\n{len(printer.records)} records: {len(locks)} locks, {len(sent)} enforcement actions.")


@app.command()
def validate(config_dir: ConfigDirOption = None, data_dir: DataDirOption = None) -> None:
    """Check accounts.yaml, risk_config.yaml and holidays.yaml; exit 4 on any error."""
    paths = resolve_paths(config_dir, data_dir)
    try:
        config_set = load_config_set(paths.config_dir)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from exc
    for warning in config_set.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"config OK: {paths.config_dir}")


@app.command()
def paths(config_dir: ConfigDirOption = None, data_dir: DataDirOption = None) -> None:
    """Print where config and data live."""
    resolved = resolve_paths(config_dir, data_dir)
    typer.echo(f"config dir: {resolved.config_dir}")
    typer.echo(f"data dir:   {resolved.data_dir}")


def main() -> None:
    app()


def status_main() -> None:
    """``risk-status``: the trader's live status screen (``--once``/``--json``: one frame)."""
    typer.run(status)


__all__ = ["admin_main", "app", "main", "status_main"]
