"""The interactive menu of SPEC §6: ``risk-admin`` alone on a terminal, or ``risk-admin menu``.

One session for the whole menu: the password is asked when an action first needs it, and
again only if the session expires (the daemon's tokens last 15 minutes). A refused or
failed action prints why and returns to the menu; three wrong passwords end it (exit 3).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import typer

from risk_manager.cli.admin.accounts import add_account, check_connection, list_accounts, remove_account
from risk_manager.cli.admin.accounts import set_api_key as set_key
from risk_manager.cli.admin.config import show_config
from risk_manager.cli.admin.context import (
    ABORTS,
    Admin,
    daemon_down_message,
    echo_error,
    report_control_error,
)
from risk_manager.cli.admin.locks import reset_day, show_lockouts, unlock
from risk_manager.cli.admin.logs import show_logs
from risk_manager.cli.admin.password import change_password
from risk_manager.cli.admin.rules import ask_reason, choose_rule, list_rules, run_wizard
from risk_manager.cli.admin.service import reload_config, show_status, start_service, stop_service
from risk_manager.cli.options import EXIT_AUTH
from risk_manager.control.client import ControlError, DaemonDown

Action = Callable[[Admin], None]


def _ask(question: str, default: str = "") -> str:
    return str(typer.prompt(question, default=default, show_default=bool(default))).strip()


def _pick(title: str, choices: dict[str, tuple[str, Action]]) -> Action | None:
    """A sub-menu: one key per action, Enter (or 0) goes back."""
    typer.echo(f"\n{title}")
    for key, (label, _) in choices.items():
        typer.echo(f"  {key} {label}")
    answer = _ask("Choice (Enter: back)", "0").lower()
    chosen = choices.get(answer)
    return chosen[1] if chosen else None


def configure_rules(admin: Admin) -> None:
    list_rules(admin)
    rule = choose_rule()
    account = _ask("Account id or name (Enter: the base config for every account)") or None
    run_wizard(admin, rule, account=account, override=False, reason=None)


def accounts_menu(admin: Admin) -> None:
    list_accounts(admin)
    action = _pick("Accounts & API keys", {
        "a": ("add an account", lambda a: add_account(a, _ask("Account id or name"),
                                                       label=_ask("Label", "") or None, enabled=True)),
        "r": ("remove an account", lambda a: remove_account(a, _ask("Account id or name"),
                                                             override=False, reason=None)),
        "k": ("set the gateway API key", lambda a: set_key(a, None)),
        "t": ("test the connection", check_connection),
    })  # fmt: skip
    if action is not None:
        action(admin)


def service_menu(admin: Admin) -> None:
    action = _pick("Service control", {
        "s": ("status", show_status),
        "1": ("start", start_service),
        "2": ("stop (enforcement OFF)", lambda a: stop_service(a, reason=ask_reason(), restart=False)),
        "3": ("restart", lambda a: stop_service(a, reason=ask_reason(), restart=True)),
        "4": ("reload the config files", reload_config),
    })  # fmt: skip
    if action is not None:
        action(admin)


def view_logs(admin: Admin) -> None:
    tail = _ask("How many rows", "50")
    show_logs(
        admin, account=None, rule=None, since=None, tail=int(tail) if tail.isdigit() else 50, daemon=False
    )


def unlock_menu(admin: Admin) -> None:
    with contextlib.suppress(typer.Exit):  # no database here yet: the daemon can still be asked
        show_lockouts(admin, None)
    action = _pick("Unlock / reset day", {
        "u": ("unlock one rule", lambda a: unlock(a, rule=_ask("Rule (RULE-0xx or key)"), all_rules=False,
                                                  reason=ask_reason(), account=None)),
        "a": ("unlock all", lambda a: unlock(a, rule=None, all_rules=True, reason=ask_reason(),
                                             account=None)),
        "d": ("reset the trading day now", lambda a: reset_day(a, reason=ask_reason())),
    })  # fmt: skip
    if action is not None:
        action(admin)


MENU: dict[str, tuple[str, Action]] = {
    "1": ("Configure rules", configure_rules),
    "2": ("Accounts & API keys", accounts_menu),
    "3": ("Service control", service_menu),
    "4": ("View config", show_config),
    "5": ("View logs", view_logs),
    "6": ("Unlock/reset day", unlock_menu),
    "7": ("Change password", change_password),
}


def run_action(admin: Admin, action: Action) -> None:
    """Run one menu action; its refusal is printed and the menu goes on (a failed login ends it)."""
    try:
        action(admin)
    except ControlError as exc:
        report_control_error(exc)
    except DaemonDown as exc:
        echo_error(daemon_down_message(exc))
    except typer.Exit as exc:
        if exc.exit_code == EXIT_AUTH:
            raise
    except ABORTS:
        typer.echo("")


def run_menu(admin: Admin) -> None:
    """Until 0 (or end of input)."""
    typer.echo(f"risk-admin: config {admin.paths.config_dir}, data {admin.paths.data_dir}")
    while True:
        typer.echo("")
        for key, (label, _) in MENU.items():
            typer.echo(f"{key} {label}")
        typer.echo("0 Exit")
        try:
            choice = _ask("Choice")
        except ABORTS:
            return
        if choice == "0":
            return
        entry = MENU.get(choice)
        if entry is None:
            echo_error(f"no such choice {choice!r}: 0-7")
            continue
        run_action(admin, entry[1])


__all__ = ["MENU", "run_action", "run_menu"]
