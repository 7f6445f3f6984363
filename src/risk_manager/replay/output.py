"""Printing what a replay did: ``--json`` (the public contract) or a readable account."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.text import Text

from risk_manager.engine import Record

#: Records outside the ARCHITECTURE.md vocabulary (failures) print only in the readable form.
JSON_ACTIONS = frozenset(
    {
        "lockout",
        "cooldown",
        "unlock",
        "cancel_all",
        "cancel_order",
        "close_all",
        "close",
        "reduce",
        "place_stop",
        "place_target",
        "modify_stop",
        "modify_target",
        "reset",
    }
)


def iso_z(value: datetime) -> str:
    """ISO-8601 UTC with a ``Z``, seconds precision unless there is a fraction."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def record_json(record: Record) -> str | None:
    """One line of ``replay --json``, or None for records outside the vocabulary."""
    if record.action not in JSON_ACTIONS:
        return None
    data: dict[str, Any] = {"at": iso_z(record.at), "account_id": record.account_id, "action": record.action}
    if record.rule is not None:
        data["rule"] = record.rule
    data["reason"] = record.reason
    data.update({k: _plain(v) for k, v in record.extras.items()})
    return json.dumps(data, separators=(", ", ": "))


_STYLES = {
    "lockout": "bold red",
    "cooldown": "bold yellow",
    "unlock": "green",
    "reset": "cyan",
    "failed": "bold white on red",
}


def record_text(record: Record) -> Text:
    """One readable line: time, account, rule, what was done and why."""
    when = record.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    what = record.action.upper().replace("_", " ")
    details = " ".join(f"{k}={_plain(v)}" for k, v in record.extras.items() if k not in ("error", "result"))
    line = Text(f"{when}Z  acct {record.account_id:<8} {record.rule or '':<9} ")
    line.append(f"{what:<12}", style=_STYLES.get(record.action, "bold"))
    if details:
        line.append(f" {details}")
    line.append(f"  {record.reason}", style="dim" if record.action in ("reset", "unlock") else "")
    if record.action == "failed":
        line.append(f"  ENFORCEMENT FAILED: {record.extras.get('error')}", style="bold red")
    return line


class Printer:
    """Collects records as they happen and prints them in the chosen form."""

    def __init__(self, console: Console, as_json: bool) -> None:
        self.console = console
        self.as_json = as_json
        self.records: list[Record] = []

    def __call__(self, record: Record) -> None:
        self.records.append(record)
        if self.as_json:
            line = record_json(record)
            if line is not None:
                print(line, flush=True)  # a reader (or a test) may be waiting for this line
        else:
            self.console.print(record_text(record), soft_wrap=True)


__all__ = ["JSON_ACTIONS", "Printer", "iso_z", "record_json", "record_text"]
