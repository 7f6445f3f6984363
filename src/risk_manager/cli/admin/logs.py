"""``risk-admin logs``: the enforcement log from the database, or the daemon's own JSON log.

Both are read-only and local, so they work with the daemon down and need no password.
"""

from __future__ import annotations

import json
import re
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from risk_manager.cli.admin.context import AccountOption, Admin, admin_session, fail
from risk_manager.cli.admin.edits import EditError, rule_id
from risk_manager.cli.admin.locks import account_id
from risk_manager.cli.admin.report import local_time, print_table
from risk_manager.cli.options import EXIT_RUNTIME, EXIT_USAGE, ConfigDirOption, DataDirOption
from risk_manager.store import DATABASE_FILENAME, EnforcementRow, Store, StoreError

LOG_FILE = Path("logs") / "risk_manager.log"
_AGO = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime) -> datetime:
    """``30m``, ``1h``, ``2d`` ago, or an ISO time (without a zone: this machine's local time). UTC."""
    match = _AGO.match(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        message = f"--since must be like 30m, 1h, 2d or an ISO time 2025-01-02T09:30 (got {text!r})"
        raise ValueError(message) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive = local wall time
    return moment.astimezone(UTC)


def enforcement_rows(
    admin: Admin, *, account: int | None, rule: str | None, since: datetime | None, tail: int
) -> list[EnforcementRow]:
    db = admin.paths.data_dir / DATABASE_FILENAME
    if not db.exists():
        fail(f"no database at {db}: the daemon has not run with this data dir", EXIT_RUNTIME)
    try:
        with Store.open(db, read_only=True) as store:
            return store.enforcement_rows(account_id=account, rule_id=rule, since=since, limit=tail)
    except StoreError as exc:
        fail(f"cannot read {db}: {exc}", EXIT_RUNTIME)


def print_enforcement(admin: Admin, rows: list[EnforcementRow]) -> None:
    if not rows:
        admin.console.print("no enforcement log rows match")
        return
    columns = ("time", "account", "rule", "action", "qty", "contract", "result", "reason")
    table = [
        [local_time(row.ts), str(row.account_id or "-"), row.rule_id or "system", row.action,
         str(row.quantity or ""), row.contract_id or "", row.result,
         row.reason + (f" [{row.error}]" if row.error else "")]
        for row in rows
    ]  # fmt: skip
    print_table(admin.console, "enforcement log", columns, table)


def daemon_log_lines(
    path: Path, *, since: datetime | None, account: int | None, rule: str | None, tail: int
) -> list[dict[str, Any]]:
    """The last ``tail`` JSON records of the daemon log matching the filters (other lines kept raw)."""
    kept: deque[dict[str, Any]] = deque(maxlen=tail)
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = {"msg": line.rstrip("\n")}
            if not isinstance(record, dict) or not _matches(record, since, account, rule):
                continue
            kept.append(record)
    return list(kept)


def _matches(record: dict[str, Any], since: datetime | None, account: int | None, rule: str | None) -> bool:
    if since is not None and "ts" in record:
        try:
            if datetime.fromisoformat(str(record["ts"]).replace("Z", "+00:00")) < since:
                return False
        except ValueError:
            pass
    if account is not None and str(record.get("account", record.get("account_id", ""))) != str(account):
        return False
    return rule is None or record.get("rule") == rule


def print_daemon_log(admin: Admin, records: list[dict[str, Any]]) -> None:
    for record in records:
        head = " ".join(str(record[key]) for key in ("ts", "level", "logger") if key in record)
        typer.echo(f"{head} {record.get('msg', '')}".strip())


def show_logs(
    admin: Admin,
    *,
    account: str | None,
    rule: str | None,
    since: str | None,
    tail: int,
    daemon: bool,
) -> None:
    try:
        since_at = parse_since(since, datetime.now(UTC)) if since else None
        rule_name = rule_id(rule) if rule else None
    except (ValueError, EditError) as exc:
        fail(str(exc), EXIT_USAGE)
    account_number = account_id(account)
    if daemon:
        path = admin.paths.data_dir / LOG_FILE
        if not path.exists():
            fail(f"no daemon log at {path}", EXIT_RUNTIME)
        records = daemon_log_lines(path, since=since_at, account=account_number, rule=rule_name, tail=tail)
        print_daemon_log(admin, records)
        return
    rows = enforcement_rows(admin, account=account_number, rule=rule_name, since=since_at, tail=tail)
    print_enforcement(admin, rows)


def logs_command(
    account: AccountOption = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule (RULE-003 or its key).")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From: 30m, 1h, 2d ago, or an ISO time (local if no zone).")
    ] = None,
    tail: Annotated[int, typer.Option("--tail", min=1, help="The last N rows.")] = 50,
    daemon: Annotated[
        bool, typer.Option("--daemon", help="The daemon's JSON log (<data_dir>/logs) instead.")
    ] = False,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """The enforcement log (every action, admin ones too), or with --daemon the daemon's own log."""
    with admin_session(config_dir, data_dir) as admin:
        show_logs(admin, account=account, rule=rule, since=since, tail=tail, daemon=daemon)


__all__ = ["daemon_log_lines", "logs_command", "parse_since", "show_logs"]
