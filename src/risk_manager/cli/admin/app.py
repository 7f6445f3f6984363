"""``risk-admin`` (≡ ``python -m risk_manager admin``): the password-protected admin CLI (SPEC §6).

Every change goes through the running daemon's control API on loopback, which checks the
password, validates and writes (the files are the service account's). With the daemon
down only ``init``, ``service start`` and the read-only commands work (``lockouts``,
``logs``, ``config show|validate``, ``accounts list``, ``service status``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from risk_manager import __version__
from risk_manager.cli.admin.accounts import accounts_app
from risk_manager.cli.admin.config import config_app
from risk_manager.cli.admin.context import Admin, PasswordStdinOption
from risk_manager.cli.admin.locks import lockouts_command, reset_day_command, unlock_command
from risk_manager.cli.admin.logs import logs_command
from risk_manager.cli.admin.menu import run_menu
from risk_manager.cli.admin.password import change_password_command, init_command
from risk_manager.cli.admin.rules import rules_app
from risk_manager.cli.admin.service import service_app
from risk_manager.cli.options import EXIT_USAGE, ConfigDirOption, DataDirOption

HELP = (
    "Risk Manager admin: rules, accounts, service, unlock (password-protected). "
    "Without a command on a terminal: the menu."
)

admin_app = typer.Typer(name="risk-admin", help=HELP, add_completion=False, pretty_exceptions_enable=False)
admin_app.command("init")(init_command)
admin_app.add_typer(rules_app)
admin_app.add_typer(accounts_app)
admin_app.add_typer(service_app)
admin_app.add_typer(config_app)
admin_app.command("logs")(logs_command)
admin_app.command("lockouts")(lockouts_command)
admin_app.command("unlock")(unlock_command)
admin_app.command("reset-day")(reset_day_command)
admin_app.command("change-password")(change_password_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"risk-manager {__version__}")
        raise typer.Exit(0)


@admin_app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Risk Manager admin: rules, accounts, service, unlock (password-protected).

    Without a command on a terminal: the menu.
    """
    ctx.obj = Admin.create(config_dir, data_dir, password_stdin=password_stdin)
    if ctx.invoked_subcommand is not None:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        typer.echo(ctx.get_help(), err=True)
        raise typer.Exit(EXIT_USAGE)
    run_menu(ctx.obj)


@admin_app.command("menu")
def menu_command(
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """The interactive menu (what `risk-admin` alone opens on a terminal)."""
    admin = Admin.create(config_dir, data_dir, password_stdin=password_stdin)
    try:
        run_menu(admin)
    finally:
        admin.close()


def admin_main() -> None:
    """Console script ``risk-admin``."""
    admin_app(prog_name="risk-admin")


__all__ = ["admin_app", "admin_main"]
