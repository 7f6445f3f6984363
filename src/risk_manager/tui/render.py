"""A :class:`~risk_manager.tui.frame.Frame` as Rich renderables: one look for both screens.

The live Textual screen puts these in its widgets; ``--once`` prints them. Colour carries
meaning (SPEC §6: green fine, yellow close to a limit or cooling down, red breached,
locked or broken) but is never the only carrier: every state is also spelled out, so the
screen reads the same without colour (off a terminal, ``NO_COLOR``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from risk_manager.schedule import AccountMode, CalendarDay
from risk_manager.tui.context import SessionState
from risk_manager.tui.frame import AccountView, Frame, LockView, PositionView, UsageView, countdown

LEVEL_STYLES = {"ok": "green", "warn": "yellow", "breached": "bold red"}
MODE_STYLES = {
    AccountMode.ACTIVE: "bold green",
    AccountMode.COOLDOWN: "bold yellow",
    AccountMode.LOCKED: "bold red",
}
DAEMON_STYLES = {"RUNNING": "bold green", "STALE": "bold yellow", "NOT RUNNING": "bold red"}
BAR_WIDTH = 20
START_HINT = "Start it: python -m risk_manager run (or the service: risk-admin service start)."


def at_local(frame: Frame, instant: datetime) -> str:
    """``17:00 EST`` today, else ``Wed 03-11 09:30 EDT``, in the frame's zone."""
    local = instant.astimezone(frame.tz)
    if local.date() == frame.now.astimezone(frame.tz).date():
        return local.strftime("%H:%M:%S %Z") if local.second else local.strftime("%H:%M %Z")
    return local.strftime("%a %m-%d %H:%M %Z")


def bar(ratio: float | None, level: str, width: int = BAR_WIDTH) -> Text:
    """``████████░░░░`` filled to ``ratio`` (capped at full), coloured by level."""
    if ratio is None:
        return Text("")
    filled = round(min(max(ratio, 0.0), 1.0) * width)
    return Text("█" * filled + "░" * (width - filled), style=LEVEL_STYLES.get(level, ""))


# --------------------------------------------------------------------------- the top


def header(frame: Frame) -> Text:
    """Version, local time, daemon state and broker connection: one line."""
    text = Text.assemble(
        ("Risk Manager ", "bold"), (frame.version, ""), "  ",
        frame.now.astimezone(frame.tz).strftime("%Y-%m-%d %H:%M:%S %Z"), "  daemon ",
        (frame.daemon, DAEMON_STYLES[frame.daemon]), "  broker ",
        (frame.connection or "—", "green" if frame.connection == "CONNECTED" else "yellow"),
    )  # fmt: skip
    if frame.heartbeat_at is not None and frame.daemon != "RUNNING":
        text.append(f"  last heartbeat {at_local(frame, frame.heartbeat_at)}", style="dim")
    return text


def banners(frame: Frame) -> Group:
    """The loud lines: daemon down, store error, config, failed enforcement, accounts in error."""
    lines: list[Text] = []
    if frame.daemon != "RUNNING":
        what = "is not running" if frame.daemon == "NOT RUNNING" else "is not answering (STALE heartbeat)"
        alarm = (f"The daemon {what}: nothing is enforcing your rules. ", "bold red")
        lines.append(
            Text.assemble(alarm, "\n", START_HINT, "\nLocks and the last known state below still apply.")
        )
    if frame.store_error:
        lines.append(Text(f"STORE ERROR {frame.store_error}", style="bold red"))
    lines.extend(_config_banners(frame))
    for action in frame.failed_actions:
        why = action.error or action.reason
        lines.append(Text(f"ENFORCEMENT FAILED {action.rule or ''} {action.action}: {why}", style="bold red"))
    for account, error in frame.account_errors:
        lines.append(Text(f"ACCOUNT IN ERROR {account}: {error}", style="bold red"))
    return Group(*lines)


def _config_banners(frame: Frame) -> list[Text]:
    lines: list[Text] = []
    if frame.config_state == "REJECTED":
        lines.append(Text(f"CONFIG REJECTED (running on the last good config): {frame.config_error or ''}",
                          style="bold yellow"))  # fmt: skip
    elif frame.config_state == "ERROR":
        lines.append(Text(f"CONFIG ERROR (no monitoring): {frame.config_error or ''}", style="bold red"))
    if frame.pending is not None:
        when = "at the next reset"
        if frame.pending.apply_at is not None:
            apply_at = frame.pending.apply_at
            when = f"at {at_local(frame, apply_at)} (in {countdown(apply_at, frame.now)})"
        if frame.pending.changes:
            lines.append(Text(f"PENDING CONFIG applies {when}:", style="bold yellow"))
            lines.extend(Text(f"  {change}", style="yellow") for change in frame.pending.changes)
        lines.extend(
            Text(f"PENDING CONFIG PROBLEM {problem}", style="bold red") for problem in frame.pending.problems
        )
    return lines


def schedule_line(frame: Frame) -> Text:
    """Next reset with countdown, and the holidays and early closes of the next 7 days."""
    if frame.next_reset is None:
        problem = frame.config_problem or "unknown"
        return Text(f"Reset, sessions and holidays unknown: config not readable ({problem})", style="dim")
    text = Text.assemble("Next reset ", (at_local(frame, frame.next_reset), "bold"),
                         f" (in {countdown(frame.next_reset, frame.now)})")  # fmt: skip
    text.append("   Holidays (7 days): ")
    text.append(", ".join(_holiday(frame, day) for day in frame.holidays) or "none")
    return text


def _holiday(frame: Frame, day: CalendarDay) -> str:
    if day.kind == "early_close" and day.close_at is not None:
        return f"{day.date:%a %m-%d} {day.name} (early close {day.close_at.astimezone(frame.tz):%H:%M %Z})"
    return f"{day.date:%a %m-%d} {day.name} (closed)"


# --------------------------------------------------------------------------- accounts


def account_panel(frame: Frame, account: AccountView) -> Panel:
    """Everything about one account, in a box titled with its name and mode."""
    parts: list[RenderableType] = [_mode_line(frame, account)]
    parts += [_lock_line(frame, lock) for lock in (*account.locks, *account.symbol_locks)]
    if account.message:
        parts.append(Text(account.message, style="bold"))
    blocked = sorted({*account.blocked_symbols, *(lock.scope for lock in account.symbol_locks)})
    if blocked:
        parts.append(Text(f"Blocked symbols: {', '.join(blocked)}"))
    parts.append(_money_line(account))
    parts.extend(_session_line(frame, s) for s in account.sessions)
    parts.append(_positions(account.positions) if account.positions else Text("No open positions", "dim"))
    if account.rules:
        parts.append(_rules(account.rules))
    title = Text.assemble((account.title, "bold"), " ", (account.mode.value, MODE_STYLES[account.mode]))
    return Panel(Group(*parts), title=title, title_align="left", border_style=MODE_STYLES[account.mode])


def _mode_line(frame: Frame, account: AccountView) -> Text:
    text = Text(account.mode.value, style=MODE_STYLES[account.mode])
    if account.mode is AccountMode.ACTIVE:
        return text.append(": trading allowed", style="")
    if account.unlock_at is not None:
        text.append(f" until {at_local(frame, account.unlock_at)}  ")
        text.append(countdown(account.unlock_at, frame.now), style="bold")
    else:
        waits = " and ".join(sorted({lock.waits_for for lock in account.locks}))
        text.append(f" {waits}")
    return text


def _lock_line(frame: Frame, lock: LockView) -> Text:
    scope = "" if lock.scope == "account" else f" [{lock.scope}]"
    text = Text.assemble("  ", (lock.rule, "red" if lock.kind != "cooldown" else "yellow"),
                         f"{scope} {lock.kind}: {lock.reason}  ")  # fmt: skip
    if lock.until is None:
        return text.append(lock.waits_for)
    text.append(f"until {at_local(frame, lock.until)} ")
    return text.append(countdown(lock.until, frame.now), "bold")


def _money_line(account: AccountView) -> Text:
    def cell(label: str, value: str | None, coloured: bool = True) -> Text:
        style = ""
        if coloured and value is not None and value.startswith("-"):
            style = "red"
        return Text.assemble(f"{label} ", (value or "—", style), "   ")

    return Text.assemble(
        cell("Balance", _thousands(account.balance), False), cell("Realized (net)", account.realized),
        cell("Fees", account.fees, False), cell("Unrealized", account.unrealized),
        cell("Total", account.total), f"Trading date {account.trading_date or '—'}",
    )  # fmt: skip


def _thousands(value: str | None) -> str | None:
    """``49,487.60``: a balance is read at a glance."""
    try:
        return None if value is None else f"{Decimal(value):,.2f}"
    except InvalidOperation:
        return value


def _session_line(frame: Frame, session: SessionState) -> Text:
    scope = "Session" if session.scope == "account" else f"Session {session.scope}"
    state = Text("open", style="green") if session.is_open else Text("closed", style="red")
    text = Text.assemble(f"{scope} ", state)
    if session.next_change is not None:
        verb = "closes" if session.is_open else "opens"
        change = session.next_change
        text.append(f", {verb} {at_local(frame, change)} (in {countdown(change, frame.now)})")
    return text


def _positions(positions: tuple[PositionView, ...]) -> Table:
    columns = ("Symbol", "Side", "Qty", "Avg", "Mark", "Unrealized", "Protection")
    table = Table(*columns, box=None, padding=(0, 1))
    for p in positions:
        unrealized = Text(p.unrealized or "—", style="red" if (p.unrealized or "").startswith("-") else "")
        protection = Text(p.protection, style="green" if p.protection == "protected" else "yellow")
        table.add_row(p.symbol, p.side, str(abs(p.size)), p.avg_price, p.mark or "—", unrealized, protection)
    return table


def _rules(rules: tuple[UsageView, ...]) -> Table:
    table = Table("Rule", "", "Usage", "", box=None, padding=(0, 1))
    for usage in rules:
        style = LEVEL_STYLES.get(usage.level, "")
        table.add_row(usage.rule, usage.label, Text(usage.text, style=style), bar(usage.ratio, usage.level))
    return table


# --------------------------------------------------------------------------- the bottom


def actions_table(frame: Frame) -> RenderableType:
    """The last enforcement actions, newest last."""
    if not frame.actions:
        return Text("No enforcement actions yet", style="dim")
    table = Table("Time", "Account", "Rule", "Action", "Result", "Reason", box=None, padding=(0, 1),
                  title="Last actions", title_justify="left", title_style="bold")  # fmt: skip
    for a in frame.actions:
        result = Text(a.result, style="red" if a.result == "FAILED" else "")
        account = str(a.account_id or "")
        table.add_row(at_local(frame, a.at), account, a.rule or "", a.action, result, a.reason)
    return table


def accounts_group(frame: Frame) -> RenderableType:
    if not frame.accounts:
        return Text("No accounts known yet: the daemon has not written a snapshot.", style="dim")
    return Group(*(account_panel(frame, account) for account in frame.accounts))


def whole_frame(frame: Frame) -> Group:
    """The full frame, top to bottom (what ``--once`` prints)."""
    parts = (header(frame), banners(frame), schedule_line(frame), accounts_group(frame), actions_table(frame))
    return Group(*parts)


__all__ = [
    "BAR_WIDTH",
    "DAEMON_STYLES",
    "LEVEL_STYLES",
    "MODE_STYLES",
    "accounts_group",
    "actions_table",
    "at_local",
    "banners",
    "bar",
    "header",
    "schedule_line",
    "whole_frame",
]
