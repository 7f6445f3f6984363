"""What every ``risk-admin`` command shares: paths, the password, the control client, exit codes.

One :class:`Admin` per invocation (the menu keeps one for its whole session). It asks the
password at most once: the session token it gets is kept in memory only. **Decision:** no
token cache on disk. The OS user running ``risk-admin`` is usually the trader the password
guards against; a token file in their cache dir would let them make changes without the
password for its lifetime. The menu and ``--password-stdin`` cover several actions in a row.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, NoReturn

import click
import typer
from rich.console import Console

from risk_manager.cli.options import EXIT_AUTH, EXIT_INVALID, EXIT_RUNTIME, EXIT_USAGE
from risk_manager.config.paths import CONFIG_DIR_ENV, DATA_DIR_ENV, AppPaths, resolve_paths
from risk_manager.control.client import (
    ControlClient,
    ControlError,
    DaemonDown,
    base_url,
    control_address,
)

#: End of input or Ctrl-C at a prompt (typer >= 0.16 raises its own Abort, older ones click's).
ABORTS: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort)
#: Password attempts before giving up (SPEC §6: 3 failures -> exit 3).
ATTEMPTS = 3
#: Longest throttle wait we sit out between attempts; a longer one ends the command.
MAX_WAIT = 30.0

PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the admin password from the first line of stdin (for scripts); one attempt.",
    ),
]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Why (at least 5 characters); written to the audit log.")
]
OverrideOption = Annotated[
    bool,
    typer.Option(
        "--override", help="Apply a loosening now instead of at the next daily reset (needs --reason)."
    ),
]
AccountOption = Annotated[
    str | None, typer.Option("--account", help="Account id or name as in accounts.yaml.")
]

EXIT_OF_CODE: dict[str, int] = {
    "auth_failed": EXIT_AUTH,
    "throttled": EXIT_AUTH,
    "refused": EXIT_AUTH,
    "invalid_config": EXIT_INVALID,
    "conflict": EXIT_RUNTIME,
    "bad_request": EXIT_USAGE,
    "unavailable": EXIT_RUNTIME,
}


def echo_error(message: str) -> None:
    """One line on stderr, prefixed so it reads apart from normal output."""
    typer.echo(f"risk-admin: {message}", err=True)


def fail(message: str, code: int) -> NoReturn:
    echo_error(message)
    raise typer.Exit(code)


def daemon_down_message(exc: DaemonDown) -> str:
    return f"{exc}. This needs the running daemon; start it with `risk-admin service start`."


def report_control_error(exc: ControlError) -> int:
    """Print a refusal the way SPEC §8 wants it and return the exit code."""
    if exc.code == "throttled" and exc.retry_after is not None:
        echo_error(f"{exc.message} (retry after {exc.retry_after:.0f} s)")
    elif exc.code == "conflict":
        echo_error(f"{exc.message}; the files changed meanwhile: run the command again")
    else:
        echo_error(exc.message)
    for problem in exc.problems:
        typer.echo(problem, err=True)
    return EXIT_OF_CODE.get(exc.code, EXIT_RUNTIME)


@contextmanager
def handled() -> Iterator[None]:
    """Turn the client's exceptions into a message and SPEC §6's exit code."""
    try:
        yield
    except DaemonDown as exc:
        echo_error(daemon_down_message(exc))
        raise typer.Exit(EXIT_RUNTIME) from exc
    except ControlError as exc:
        raise typer.Exit(report_control_error(exc)) from exc


def default_paths(
    config_dir: Path | None, data_dir: Path | None, env: Mapping[str, str] | None = None
) -> AppPaths:
    """Flag > environment > the OS convention, as everywhere; but with neither flags nor environment,
    the machine-wide (service) dirs when only they hold a config.

    The service keeps its files in the machine-wide dirs while ``risk-admin`` runs as a user
    whose per-user dirs are usually empty; looking there would find no control address, no
    database and no locks.
    """
    environ = os.environ if env is None else env
    chosen = config_dir or data_dir or environ.get(CONFIG_DIR_ENV) or environ.get(DATA_DIR_ENV)
    user = resolve_paths(config_dir, data_dir, env=environ)
    if chosen:
        return user
    site = resolve_paths(None, None, service=True, env=environ)
    if not user.accounts_file.exists() and site.accounts_file.exists():
        return site
    return user


@dataclass
class Admin:
    """One admin session: where things are, how to get the password, and the client once logged in."""

    paths: AppPaths
    password_stdin: bool = False
    console: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    _client: ControlClient | None = None

    @classmethod
    def create(cls, config_dir: Path | None, data_dir: Path | None, *, password_stdin: bool = False) -> Admin:
        """From the command's options; the root's ``--config-dir/--data-dir`` fill in when not given."""
        parent = _root_admin()
        if parent is not None:
            config_dir = config_dir or parent.paths.config_dir
            data_dir = data_dir or parent.paths.data_dir
            password_stdin = password_stdin or parent.password_stdin
        return cls(default_paths(config_dir, data_dir), password_stdin)

    # -- the client -------------------------------------------------------------------------

    def client(self) -> ControlClient:
        """The control client, not yet authenticated (health needs nothing more)."""
        if self._client is None:
            try:
                address = control_address(self.paths.config_dir)
            except ValueError as exc:
                fail(str(exc), EXIT_INVALID)
            self._client = ControlClient(base_url(address))
            self._client.on_expired = self._session_expired
            self._check_identity(self._client, base_url(address))
        return self._client

    def _check_identity(self, client: ControlClient, url: str) -> None:
        """Two daemons on one machine need their own control ports: never administer the wrong one."""
        try:
            health = client.health()
        except (DaemonDown, ControlError):
            return  # each command says plainly that the daemon is down
        mine = self.paths.config_dir.resolve()
        if health.config_dir and Path(health.config_dir) != mine:
            why = f"the daemon answering on {url} watches {health.config_dir}, not {mine}"
            fail(f"{why}; give each daemon its own general.control.port in risk_config.yaml", EXIT_RUNTIME)

    def daemon_running(self) -> bool:
        """True when the daemon answers its health check (no password needed)."""
        try:
            self.client().health()
        except (DaemonDown, ControlError):
            return False
        return True

    def authed(self) -> ControlClient:
        """The client with a session: asks the password (up to 3 times) the first time only."""
        client = self.client()
        if client.token is None:
            self.login(client)
        return client

    def _session_expired(self, exc: ControlError) -> None:
        """The token ran out (15 minutes: a long wizard, an idle menu): ask the password again."""
        echo_error(exc.message)
        client = self.client()
        client.token = None
        self.login(client)

    def login(self, client: ControlClient) -> None:
        """Open a session; exit 3 after 3 wrong passwords, at once when throttled, 1 if down."""
        attempts = 1 if self.password_stdin else ATTEMPTS
        for attempt in range(1, attempts + 1):
            password = self.read_password("Admin password")
            try:
                with _daemon_needed():
                    client.session(password)
                return
            except ControlError as exc:
                if exc.code != "auth_failed" or attempt == attempts:
                    raise typer.Exit(report_control_error(exc)) from exc
                self.wait_before_retry(exc, attempts - attempt)

    def wait_before_retry(self, exc: ControlError, left: int) -> None:
        wait = exc.retry_after or 0.0
        if wait > MAX_WAIT:
            raise typer.Exit(report_control_error(exc))
        echo_error(f"{exc.message}; {left} attempt(s) left")
        if wait > 0:
            typer.echo(f"(the daemon accepts the next attempt in {wait:.0f} s)", err=True)
            time.sleep(wait)

    def read_password(self, prompt: str) -> str:
        """A hidden prompt, or the next line of stdin with ``--password-stdin``; no input -> exit 3."""
        if self.password_stdin:
            line = sys.stdin.readline()
            if not line:
                fail("--password-stdin: no password on stdin", EXIT_AUTH)
            return line.rstrip("\r\n")
        try:
            return str(typer.prompt(prompt, hide_input=True))
        except ABORTS:
            fail("no password given", EXIT_AUTH)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


@contextmanager
def _daemon_needed() -> Iterator[None]:
    try:
        yield
    except DaemonDown as exc:
        fail(daemon_down_message(exc), EXIT_RUNTIME)


def _root_admin() -> Admin | None:
    """The Admin the root callback made from ``risk-admin --config-dir X`` (None outside a command)."""
    context = click.get_current_context(silent=True)
    while context is not None:
        if isinstance(context.obj, Admin):
            return context.obj
        context = context.parent
    return None


@contextmanager
def admin_session(
    config_dir: Path | None, data_dir: Path | None, *, password_stdin: bool = False
) -> Iterator[Admin]:
    """An Admin for one command, with the client's errors turned into exit codes, closed after."""
    admin = Admin.create(config_dir, data_dir, password_stdin=password_stdin)
    try:
        with handled():
            yield admin
    finally:
        admin.close()


def require_reason(reason: str | None, what: str) -> str:
    """``--reason`` of at least 5 characters, else a usage error (exit 2)."""
    from risk_manager.control.protocol import MIN_REASON

    if reason is None or len(reason.strip()) < MIN_REASON:
        fail(f"{what} needs --reason TEXT of at least {MIN_REASON} characters", EXIT_USAGE)
    return reason.strip()


__all__ = [
    "ABORTS",
    "ATTEMPTS",
    "AccountOption",
    "Admin",
    "OverrideOption",
    "PasswordStdinOption",
    "ReasonOption",
    "admin_session",
    "default_paths",
    "echo_error",
    "fail",
    "handled",
    "report_control_error",
    "require_reason",
]
