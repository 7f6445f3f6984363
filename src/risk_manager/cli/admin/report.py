"""How the daemon's answers are shown: changes applied or pending, locks, the diff.

Plain lines a script can grep; colour only where rich finds a terminal (and no NO_COLOR).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from risk_manager.control.protocol import Change, ChangeReply, LockView


def local_time(moment: datetime | None) -> str:
    """``2025-01-02 17:00 EST``: in the machine's zone, where the admin reads it."""
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _changes(console: Console, changes: Sequence[Change]) -> None:
    for change in changes:
        account = f" [account {change.account}]" if change.account else ""
        console.print(Text(f"  {change.text}{account}"))


def print_change_reply(console: Console, reply: ChangeReply, *, show_diff: bool = True) -> None:
    """What is in force now, what waits for the reset (and when), and the YAML diff."""
    if show_diff and reply.diff:
        console.print(Text(reply.diff.rstrip("\n")))
    verb = "would apply now" if reply.dry_run else "applied now"
    if reply.applied:
        console.print(f"{verb}:")
        _changes(console, reply.applied)
    if reply.pending:
        console.print(
            f"{'would be ' if reply.dry_run else ''}pending until the next daily reset "
            f"({local_time(reply.apply_at)}); --override --reason TEXT applies it now:"
        )
        _changes(console, reply.pending)
    if not reply.applied and not reply.pending:
        console.print("no change: the config already says that")
    if reply.dry_run:
        console.print("dry run: nothing written")


def print_table(console: Console, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on a terminal; elsewhere (pipes, scripts, tests) plain aligned columns that
    are never cut short, since a script greps for a whole reason or contract id."""
    if console.is_terminal:
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    widths = [max(len(str(cell)) for cell in column) for column in zip(columns, *rows, strict=True)]
    console.print(title, markup=False, highlight=False)
    for line in (columns, *rows):
        text = "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
        console.print(text.rstrip(), markup=False, highlight=False, soft_wrap=True)


def print_locks(console: Console, locks: Sequence[LockView], title: str = "active locks") -> None:
    """One row per lock: account, rule, kind, scope, until, reason."""
    rows = [
        [str(lock.account_id), lock.rule, lock.kind, lock.scope,
         local_time(lock.expires_at) if lock.expires_at else "condition", lock.reason]
        for lock in locks
    ]  # fmt: skip
    print_table(console, title, ("account", "rule", "kind", "scope", "until", "reason"), rows)


__all__ = ["local_time", "print_change_reply", "print_locks", "print_table"]
