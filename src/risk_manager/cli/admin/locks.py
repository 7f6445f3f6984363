"""``risk-admin lockouts | unlock | reset-day`` (SPEC §4.6): see locks, break glass, start a fresh day.

``lockouts`` reads the database read-only, so it works with the daemon down. ``unlock``
and ``reset-day`` go through the daemon, which refuses (exit 3) RULE-009/010 locks and
everything when ``general.allow_admin_unlock`` is false, and logs each with the reason.
"""

from __future__ import annotations

from typing import Annotated

import typer

from risk_manager.cli.admin.context import (
    AccountOption,
    Admin,
    PasswordStdinOption,
    ReasonOption,
    admin_session,
    fail,
    require_reason,
)
from risk_manager.cli.admin.edits import EditError, rule_id
from risk_manager.cli.admin.report import print_locks
from risk_manager.cli.options import EXIT_RUNTIME, EXIT_USAGE, ConfigDirOption, DataDirOption
from risk_manager.control.protocol import LockView, ResetRequest, UnlockRequest
from risk_manager.store import DATABASE_FILENAME, Store, StoreError


def account_id(account: str | None) -> int | None:
    """``--account`` as the int id the daemon's locks carry (exit 2 on a name: locks know ids)."""
    if account is None:
        return None
    if not account.isdigit():
        fail(f"--account must be an account id (digits) here, got {account!r}", EXIT_USAGE)
    return int(account)


def read_locks(admin: Admin, account: int | None) -> list[LockView]:
    """Active locks from the database, read-only (the daemon need not run)."""
    db = admin.paths.data_dir / DATABASE_FILENAME
    if not db.exists():
        fail(f"no database at {db}: the daemon has not run with this data dir", EXIT_RUNTIME)
    try:
        with Store.open(db, read_only=True) as store:
            rows = store.active_lockouts(account)
    except StoreError as exc:
        fail(f"cannot read {db}: {exc}", EXIT_RUNTIME)
    return [
        LockView(
            id=row.id,
            account_id=row.account_id,
            rule=row.rule_id,
            kind=row.kind,
            scope=row.scope,
            reason=row.reason,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )
        for row in rows
    ]


def show_lockouts(admin: Admin, account: int | None) -> None:
    locks = read_locks(admin, account)
    if not locks:
        admin.console.print("no active locks")
        return
    print_locks(admin.console, locks)


def lockouts_command(
    account: AccountOption = None, config_dir: ConfigDirOption = None, data_dir: DataDirOption = None
) -> None:
    """Active locks, from the database (works with the daemon down; no password)."""
    with admin_session(config_dir, data_dir) as admin:
        show_lockouts(admin, account_id(account))


def unlock(
    admin: Admin, *, rule: str | None, all_rules: bool, reason: str | None, account: int | None
) -> None:
    """Clear matching active locks now (P&L unchanged: a rule still in breach fires again)."""
    if (rule is None) == (not all_rules):
        fail("give exactly one of --rule RULE-0xx and --all", EXIT_USAGE)
    text = require_reason(reason, "unlock")
    try:
        rule_name = rule_id(rule) if rule is not None else None
    except EditError as exc:
        fail(str(exc), EXIT_USAGE)
    request = UnlockRequest(reason=text, rule=rule_name, all=all_rules, account_id=account)
    cleared = admin.authed().unlock(request).locks
    if not cleared:
        admin.console.print("no active lock matched: nothing cleared")
        return
    print_locks(admin.console, cleared, title="cleared")
    admin.console.print(
        "P&L and counters are unchanged: a rule still in breach locks again on its next check"
    )


def unlock_command(
    rule: Annotated[str | None, typer.Option("--rule", help="RULE-0xx (or its YAML key) to clear.")] = None,
    all_rules: Annotated[bool, typer.Option("--all", help="Clear every lock that may be cleared.")] = False,
    reason: ReasonOption = None,
    account: AccountOption = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Clear locks now (audited; refused for RULE-009/010 and when allow_admin_unlock is false)."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        unlock(admin, rule=rule, all_rules=all_rules, reason=reason, account=account_id(account))


def reset_day(admin: Admin, *, reason: str | None) -> None:
    """Run the daily reset now for every account: fresh P&L and counters, RULE-003/013 locks
    cleared, pending config applied (the reset is daemon-wide, like the scheduled one)."""
    text = require_reason(reason, "reset-day")
    reply = admin.authed().reset_day(ResetRequest(reason=text))
    accounts = ", ".join(str(one) for one in reply.accounts) or "none"
    admin.console.print(f"new trading day {reply.trading_date} for accounts {accounts}")
    if reply.unlocked:
        print_locks(admin.console, reply.unlocked, title="cleared by the reset")


def reset_day_command(
    reason: ReasonOption = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Start a fresh trading day now, as the daily reset would (audited)."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        reset_day(admin, reason=reason)


__all__ = [
    "lockouts_command",
    "read_locks",
    "reset_day",
    "reset_day_command",
    "show_lockouts",
    "unlock",
    "unlock_command",
]
