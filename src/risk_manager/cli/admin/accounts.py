"""``risk-admin accounts``: list, add, remove, the gateway API key, and a connection test.

The key is typed hidden and only ever shown as ``****abcd``; the daemon stores it (OS
keyring where its account has one, else the 0600 secrets.yaml, SPEC §8), because the
files and the keyring are the service account's, not the trader's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from risk_manager.cli.admin.context import (
    Admin,
    OverrideOption,
    PasswordStdinOption,
    ReasonOption,
    admin_session,
    fail,
)
from risk_manager.cli.admin.edits import EditError, account_index, account_ref
from risk_manager.cli.admin.report import print_table
from risk_manager.cli.admin.rules import accounts_data, submit
from risk_manager.cli.options import EXIT_RUNTIME, EXIT_USAGE, ConfigDirOption, DataDirOption
from risk_manager.config.paths import ACCOUNTS_FILE
from risk_manager.control.protocol import ApiKeyRequest, Edit, mask

accounts_app = typer.Typer(name="accounts", help="Accounts and the gateway API key.", no_args_is_help=True)

RefArgument = Annotated[
    str, typer.Argument(help="Account id (digits) or name, e.g. PRAC-V2-555123-00000001.")
]


def _entries(data: object) -> list[Mapping[str, Any]]:
    entries = data.get("accounts") if isinstance(data, Mapping) else None
    return [entry for entry in entries if isinstance(entry, Mapping)] if isinstance(entries, list) else []


def _gateway(data: object) -> Mapping[str, Any]:
    gateway = data.get("gateway") if isinstance(data, Mapping) else None
    return gateway if isinstance(gateway, Mapping) else {}


def _rules_source(entry: Mapping[str, Any]) -> str:
    if entry.get("risk_config_file"):
        return f"own file {entry['risk_config_file']}"
    return "base + overrides" if entry.get("overrides") else "base"


def list_accounts(admin: Admin) -> None:
    data = accounts_data(admin)
    gateway = _gateway(data)
    key = str(gateway.get("api_key") or "")
    shown = mask(key) if key else "not in accounts.yaml (keyring or secrets.yaml)"
    admin.console.print(f"gateway: {gateway.get('firm', 'topstepx')}, user {gateway.get('username', '')!s}, "
                        f"API key {shown}")  # fmt: skip
    rows = [
        [str(index), str(entry.get("id", "")), str(entry.get("name", "")), str(entry.get("label", "")),
         "yes" if entry.get("enabled", True) else "no", _rules_source(entry)]
        for index, entry in enumerate(_entries(data))
    ]  # fmt: skip
    columns = ("#", "id", "name", "label", "enabled", "rules")
    print_table(admin.console, f"accounts ({ACCOUNTS_FILE})", columns, rows)


@accounts_app.command("list")
def list_command(
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """The watched accounts and the gateway user (API key masked)."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        list_accounts(admin)


def add_account(admin: Admin, ref: str, *, label: str | None, enabled: bool) -> None:
    """Append an entry (a tightening: one more account protected, applied at once)."""
    data = accounts_data(admin)
    parsed = account_ref(ref)
    if any(parsed in (entry.get("id"), entry.get("name")) for entry in _entries(data)):
        fail(f"account {ref} is already in {ACCOUNTS_FILE}", EXIT_USAGE)
    entry: dict[str, Any] = {"id": parsed} if isinstance(parsed, int) else {"name": parsed}
    if label:
        entry["label"] = label
    entry["enabled"] = enabled
    edit = Edit(file="accounts.yaml", path=["accounts", len(_entries(data))], value=entry)
    submit(admin, [edit], override=False, reason=None)


@accounts_app.command("add")
def add_command(
    ref: RefArgument,
    label: Annotated[
        str | None, typer.Option("--label", help="Shown on screens instead of the name.")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Listed but not protected yet.")] = False,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Watch one more account (with the base rules)."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        add_account(admin, ref, label=label, enabled=not disabled)


def remove_account(admin: Admin, ref: str, *, override: bool, reason: str | None) -> None:
    """Drop an entry: a loosening, pending until the reset unless overridden (SPEC §4.7)."""
    data = accounts_data(admin)
    try:
        index = _index_any(data, ref)
    except EditError as exc:
        fail(str(exc), EXIT_USAGE)
    edit = Edit(file="accounts.yaml", path=["accounts", index], delete=True)
    submit(admin, [edit], override=override, reason=reason)


def _index_any(data: object, ref: str) -> int:
    """Index of an account whatever its rules source (removing one with its own file is fine)."""
    parsed = account_ref(ref)
    for index, entry in enumerate(_entries(data)):
        if parsed in (entry.get("id"), entry.get("name")):
            return index
    return account_index(data, ref)  # raises the "not in accounts.yaml" error


@accounts_app.command("remove")
def remove_command(
    ref: RefArgument,
    override: OverrideOption = False,
    reason: ReasonOption = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Stop watching an account (waits for the daily reset unless --override --reason)."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        remove_account(admin, ref, override=override, reason=reason)


def _configured_username(data: object) -> str:
    """gateway.username with ``${VAR:-default}`` expanded in this process's environment."""
    return str(_gateway(data).get("username") or "")


def set_api_key(admin: Admin, username: str | None) -> None:
    """Ask the key hidden, hand it to the daemon, show where it went (masked)."""
    client = admin.authed()
    data = accounts_data(admin)
    configured = _configured_username(data)
    user = username or configured or str(typer.prompt("Gateway username")).strip()
    if _gateway(data).get("api_key"):
        typer.echo(f"note: {ACCOUNTS_FILE} has an api_key, which wins over the stored one; "
                   "empty it to use this key", err=True)  # fmt: skip
    key = str(typer.prompt("API key (hidden)", hide_input=True)).strip()
    if not key:
        fail("empty API key: nothing stored", EXIT_USAGE)
    reply = client.set_api_key(ApiKeyRequest(username=user, api_key=key))
    admin.console.print(f"API key {reply.masked} for {user} stored in {reply.stored_in}")
    if username and username != configured:
        edit = Edit(file="accounts.yaml", path=["gateway", "username"], value=username)
        submit(admin, [edit], override=False, reason=None)


@accounts_app.command("set-key")
def set_key_command(
    username: Annotated[
        str | None, typer.Option("--username", help="Gateway user (default: accounts.yaml's); set there too.")
    ] = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Store the gateway API key (typed hidden, shown ****abcd) where the daemon keeps secrets."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        set_api_key(admin, username)


def check_connection(admin: Admin) -> None:
    """Ask the daemon to search the gateway's accounts with its credentials; exit 1 if it cannot."""
    reply = admin.authed().test_connection()
    if not reply.ok:
        fail(f"gateway connection failed: {reply.error}", EXIT_RUNTIME)
    rows = [
        [str(check.id), check.name, str(check.can_trade).lower(), check.balance,
         "yes" if check.monitored else "no"]
        for check in reply.accounts
    ]  # fmt: skip
    columns = ("id", "name", "canTrade", "balance", "monitored")
    print_table(admin.console, "accounts the API key sees", columns, rows)


@accounts_app.command("test")
def test_connection_command(
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Test the gateway connection: the accounts the key sees, each with canTrade."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        check_connection(admin)


__all__ = [
    "accounts_app",
    "add_account",
    "check_connection",
    "list_accounts",
    "remove_account",
    "set_api_key",
]
