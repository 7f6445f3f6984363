"""``risk-admin init`` and ``change-password`` (SPEC §6).

``init`` writes the first password's hash itself: it runs at install time, with OS admin
rights or as the service account, before any daemon could check anything, so it works
with the daemon down; it refuses once a password exists (changing it needs the old one,
through the daemon, which also ends every open session).
"""

from __future__ import annotations

import typer

from risk_manager.cli.admin.context import ATTEMPTS, Admin, PasswordStdinOption, admin_session, fail
from risk_manager.cli.options import EXIT_AUTH, EXIT_RUNTIME, EXIT_USAGE, ConfigDirOption, DataDirOption
from risk_manager.control.client import ControlError
from risk_manager.control.password import has_password, hash_path, set_password, validate_new_password


def ask_new_password(admin: Admin) -> str:
    """A new password, typed twice (hidden), at least 8 characters; re-asked up to 3 times.

    With ``--password-stdin`` the one line read is taken as both entries.
    """
    for _ in range(1 if admin.password_stdin else ATTEMPTS):
        first = admin.read_password("New admin password")
        again = first if admin.password_stdin else admin.read_password("Repeat it")
        problem = validate_new_password(first, again)
        if problem is None:
            return first
        typer.echo(f"risk-admin: {problem}", err=True)
    fail("no acceptable new password given", EXIT_USAGE)


def init_password(admin: Admin) -> None:
    config_dir = admin.paths.config_dir
    if has_password(config_dir):
        fail(f"a password is already set ({hash_path(config_dir)}); "
             "change it with `risk-admin change-password` (the old one is required)", EXIT_AUTH)  # fmt: skip
    password = ask_new_password(admin)
    try:
        path = set_password(config_dir, password)
    except PermissionError:
        fail(f"cannot write {hash_path(config_dir)}: permission denied; run init as the service "
             "account or with administrator rights", EXIT_RUNTIME)  # fmt: skip
    except OSError as exc:
        fail(f"cannot write {hash_path(config_dir)}: {exc.strerror}", EXIT_RUNTIME)
    typer.echo(f"admin password set: {path} (bcrypt, readable by its owner only)")


def init_command(
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Set the first admin password (asked twice, at least 8 characters); works with the daemon down."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        init_password(admin)


def change_password(admin: Admin) -> None:
    """Old password (up to 3 tries), then the new one twice; the daemon checks and writes it."""
    client = admin.client()
    client.health()  # the daemon must run: say so before asking three passwords
    attempts = 1 if admin.password_stdin else ATTEMPTS
    old = admin.read_password("Current admin password")
    new = _new_for_change(admin, old)
    for attempt in range(1, attempts + 1):
        try:
            reply = client.change_password(old, new)
        except ControlError as exc:
            if exc.code != "auth_failed" or attempt == attempts:
                raise
            admin.wait_before_retry(exc, attempts - attempt)
            old = admin.read_password("Current admin password")
            continue
        client.token = None  # the daemon ended every session, ours too
        typer.echo(reply.message or "password changed")
        return


def _new_for_change(admin: Admin, old: str) -> str:
    if not admin.password_stdin:
        return ask_new_password(admin)
    # Scripts: line 1 the old password, line 2 the new one.
    new = admin.read_password("New admin password")
    problem = validate_new_password(new, new)
    if problem is not None:
        fail(problem, EXIT_USAGE)
    return new


def change_password_command(
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Change the admin password (the old one is required; open sessions end). Needs the daemon."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        change_password(admin)


__all__ = ["ask_new_password", "change_password", "change_password_command", "init_command", "init_password"]
