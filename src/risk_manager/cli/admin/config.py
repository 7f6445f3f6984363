"""``risk-admin config show|validate``: the effective config per account, and a local check.

``show`` asks the running daemon (what is in force, and what is pending until the reset);
with the daemon down it reads the files on disk instead and says so. Secrets are masked
either way. ``validate`` is local, like ``risk_manager validate``.
"""

from __future__ import annotations

from typing import Any

import typer
import yaml

from risk_manager.cli.admin.context import (
    Admin,
    PasswordStdinOption,
    ReasonOption,
    admin_session,
    require_reason,
)
from risk_manager.cli.admin.report import local_time
from risk_manager.cli.admin.wizard import plain
from risk_manager.cli.options import EXIT_INVALID, ConfigDirOption, DataDirOption
from risk_manager.config.loader import ConfigSet, load_config_set
from risk_manager.config.pending import pending_view
from risk_manager.config.problems import ConfigError
from risk_manager.control.protocol import ConfigView, PendingView, mask

config_app = typer.Typer(name="config", help="View or check the configuration.", no_args_is_help=True)


def _dump(data: Any) -> str:
    return yaml.safe_dump(plain(data), sort_keys=False, allow_unicode=True, width=100).rstrip("\n")


def print_view(admin: Admin, view: ConfigView) -> None:
    """The daemon's view: state, each account's effective rules, pending changes."""
    state = view.config_state + (f" ({view.config_error})" if view.config_error else "")
    admin.console.print(f"config state: {state}", markup=False)
    for account, effective in view.effective.items():
        admin.console.print(f"\n# account {account}: effective config", markup=False)
        admin.console.print(_dump(effective), markup=False, highlight=False)
    print_pending(admin, view.pending)


def print_pending(admin: Admin, pending: PendingView) -> None:
    """Loosening that waits for the daily reset (SPEC §4.7), and when it applies."""
    if pending.changes:
        admin.console.print(f"\npending until {local_time(pending.apply_at)} (the next daily reset):")
        for change in pending.changes:
            admin.console.print(f"  {change.text}", markup=False)
    else:
        admin.console.print("\nno pending changes")


def _local_set(admin: Admin) -> ConfigSet:
    try:
        return load_config_set(admin.paths.config_dir)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from exc


def print_local(admin: Admin) -> None:
    """The files on disk, loaded and merged as the daemon would; the key masked."""
    config_set = _local_set(admin)
    admin.console.print(f"daemon not running: the files in {admin.paths.config_dir}", markup=False)
    gateway = config_set.accounts.gateway
    key = gateway.api_key.get_secret_value()
    shown = mask(key) if key else "(keyring or secrets.yaml)"
    admin.console.print(f"gateway: {gateway.firm}, user {gateway.username}, API key {shown}", markup=False)
    for entry in config_set.accounts.accounts:
        effective = config_set.effective_risk(entry).model_dump(mode="json")
        admin.console.print(f"\n# account {entry.display}: effective config", markup=False)
        admin.console.print(_dump(effective), markup=False, highlight=False)
    try:
        print_pending(admin, pending_view(admin.paths.config_dir))
    except ConfigError as exc:
        admin.console.print(f"\npending: {exc}", markup=False)


def show_config(admin: Admin) -> None:
    if admin.daemon_running():
        print_view(admin, admin.authed().config())
    else:
        print_local(admin)


@config_app.command("show")
def show_command(
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Effective config per account and pending changes (the files on disk if the daemon is down)."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        show_config(admin)


def drop_pending(admin: Admin, reason: str | None) -> None:
    """Forget the loosening waiting for the reset (a tightening: the files already hold what is in force)."""
    text = require_reason(reason, "drop-pending")
    print_pending(admin, admin.authed().drop_pending(text))


@config_app.command("drop-pending")
def drop_pending_command(
    reason: ReasonOption = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Drop the changes pending until the next daily reset (audited). Needs --reason."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        drop_pending(admin, reason)


def validate_config(admin: Admin) -> None:
    config_set = _local_set(admin)
    for warning in config_set.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"config OK: {admin.paths.config_dir}")


@config_app.command("validate")
def validate_command(config_dir: ConfigDirOption = None, data_dir: DataDirOption = None) -> None:
    """Check the three files on disk (no daemon, no password); exit 4 listing every problem."""
    with admin_session(config_dir, data_dir) as admin:
        validate_config(admin)


__all__ = ["config_app", "drop_pending", "print_pending", "print_view", "show_config", "validate_config"]
