"""``risk-status --once`` / ``--json``: one frame of the trader's status, from the database alone.

Read-only, so locks stay visible while the daemon is down (SPEC §6). The full-screen live
screen (Textual) is still to come; this is the frame it will show, printed once.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from risk_manager.cli.options import ConfigDirOption, DataDirOption
from risk_manager.config.paths import resolve_paths
from risk_manager.store import DATABASE_FILENAME, Store, StoreError
from risk_manager.store.timefmt import from_iso

STALE_AFTER = timedelta(seconds=3)  # SPEC §5: RUNNING = heartbeat <= 3 s old


def _pid_alive(pid: str | None) -> bool:
    if not pid or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def daemon_state(meta: dict[str, str], now: datetime) -> str:
    """RUNNING, STALE or NOT RUNNING, as SPEC §5 defines them."""
    beat = meta.get("heartbeat_at")
    if beat and now - from_iso(beat) <= STALE_AFTER:
        return "RUNNING"
    return "STALE" if _pid_alive(meta.get("daemon_pid")) else "NOT RUNNING"


def read_status(db: Path, now: datetime) -> dict[str, Any]:
    """Everything one frame shows; ``daemon: NOT RUNNING`` and nothing else when there is no database."""
    if not db.exists():
        return {"daemon": "NOT RUNNING", "database": str(db), "accounts": [], "locks": [], "last_actions": []}
    with Store.open(db, read_only=True) as store:
        meta = store.meta()
        locks = store.active_lockouts()
        rows = store.enforcement_rows(limit=5)
    snapshot = json.loads(meta.get("snapshot") or '{"accounts": []}')
    return {
        "daemon": daemon_state(meta, now),
        "connection": meta.get("connection"),
        "heartbeat_at": meta.get("heartbeat_at"),
        "store_error": meta.get("store_error") or None,
        "accounts": snapshot.get("accounts", []),
        "locks": [
            {
                "account_id": lock.account_id,
                "rule": lock.rule_id,
                "kind": lock.kind,
                "scope": lock.scope,
                "reason": lock.reason,
                "until": lock.expires_at.isoformat() if lock.expires_at else None,
            }
            for lock in locks
        ],
        "last_actions": [
            {
                "at": row.ts.isoformat(),
                "account_id": row.account_id,
                "rule": row.rule_id,
                "action": row.action,
                "result": row.result,
                "reason": row.reason,
            }
            for row in rows
        ],
    }


def render(status: dict[str, Any], console: Console) -> None:
    colour = {"RUNNING": "green", "STALE": "yellow"}.get(status["daemon"], "red")
    console.print(f"daemon [bold {colour}]{status['daemon']}[/]  broker {status.get('connection') or '—'}")
    if status["daemon"] != "RUNNING":
        console.print(
            "[red]Nothing is enforcing right now.[/] Start it: python -m risk_manager run (or the service)."
        )
    if status.get("store_error"):
        console.print(f"[bold red]STORE ERROR[/] {status['store_error']}")
    for account in status["accounts"]:
        account_locks = [lock for lock in status["locks"] if lock["account_id"] == account["id"]]
        mode = "[bold red]LOCKED[/]" if account_locks else "[bold green]ACTIVE[/]"
        console.print(f"\n[bold]{account['name'] or account['id']}[/]  {mode}  balance {account['balance']}  "
                      f"realized {account['realized']}  unrealized {account['unrealized']}  "
                      f"trading day {account['trading_date']}")  # fmt: skip
        for lock in account_locks:
            until = lock["until"] or "a condition (canTrade / admin)"
            console.print(f"  [red]{lock['rule']}[/] {lock['kind']} until {until}: {lock['reason']}")
        if account["positions"]:
            table = Table("symbol", "size", "avg", "mark", "unrealized", box=None)
            for p in account["positions"]:
                table.add_row(
                    p["symbol"], str(p["size"]), p["avg_price"], p["mark"] or "—", p["unrealized"] or "—"
                )
            console.print(table)
    if status["last_actions"]:
        console.print("\n[bold]last actions[/]")
        for row in status["last_actions"]:
            console.print(
                f"  {row['at']}  {row['rule'] or ''} {row['action']} {row['result']}  {row['reason']}"
            )


def status(
    once: Annotated[
        bool, typer.Option("--once", help="Print one frame and exit (the live screen is coming).")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the frame as JSON.")] = False,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """The trader's status (read-only): exit 0 when the daemon is RUNNING, 1 when STALE or NOT RUNNING."""
    paths = resolve_paths(config_dir, data_dir)
    try:
        frame = read_status(paths.data_dir / DATABASE_FILENAME, datetime.now(UTC))
    except StoreError as exc:
        typer.echo(f"cannot read the database: {exc}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(frame))
    else:
        render(frame, Console(highlight=False))
    raise typer.Exit(0 if frame["daemon"] == "RUNNING" else 1)


__all__ = ["daemon_state", "read_status", "render", "status"]
