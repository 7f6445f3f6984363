"""``risk_manager journal export --date D``: a trading day of the journal as a scenario."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
import yaml

from risk_manager.cli.options import EXIT_INVALID, EXIT_RUNTIME, ConfigDirOption, DataDirOption
from risk_manager.config.loader import load_config_set
from risk_manager.config.paths import resolve_paths
from risk_manager.config.problems import ConfigError

journal_app = typer.Typer(help="The event journal: export a trading day as a replayable scenario.")


@journal_app.command("export")
def export(
    day: Annotated[str, typer.Option("--date", help="Trading date, YYYY-MM-DD.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write one trading day (reset to reset) of the journal as a scenario file."""
    from risk_manager.replay.export import export_day
    from risk_manager.schedule import DailyReset
    from risk_manager.store import Store, StoreError

    try:
        trading_date = date.fromisoformat(day)
    except ValueError as exc:
        typer.echo(f"--date: expected YYYY-MM-DD (got {day!r})", err=True)
        raise typer.Exit(EXIT_INVALID) from exc
    paths = resolve_paths(config_dir, data_dir)
    try:
        config_set = load_config_set(paths.config_dir)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from exc
    general = config_set.risk.general
    reset = DailyReset(general.daily_reset.time, general.daily_reset.zone)
    start, end = reset.reset_instant(trading_date - timedelta(days=1)), reset.reset_instant(trading_date)
    db = paths.data_dir / "risk_manager.db"
    if not db.exists():
        typer.echo(f"no database at {db}: has the daemon run with this --data-dir?", err=True)
        raise typer.Exit(EXIT_RUNTIME)
    try:
        store = Store.open(db, read_only=True)
        rows = list(store.journal(since=start, until=end))
        store.close()
    except StoreError as exc:
        typer.echo(f"cannot read the journal: {exc}", err=True)
        raise typer.Exit(EXIT_RUNTIME) from exc
    rules = config_set.risk.rules.model_dump(mode="json", exclude_none=True)
    scenario = export_day(rows, start, end, general.model_dump(mode="json"), rules)
    text = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(scenario['events'])} events of {trading_date} to {output}", err=True)


__all__ = ["journal_app"]
