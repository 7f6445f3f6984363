"""``risk-admin service``: start, stop, restart, status, reload, install, uninstall (SPEC §6, §7).

Stop, restart and reload go through the daemon's control API with the password: only an
authenticated stop makes the daemon exit 0, which no supervisor or service manager
restarts; a restart exits 75, which the supervisor restarts at once. Install, uninstall,
start and the OS side of status use ``risk_manager.service.manager`` (imported lazily:
an installation without it says so). ``start`` with no OS service installed runs
``risk_manager supervise`` detached, so a one-user setup can start it too.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from risk_manager.cli.admin.context import (
    ATTEMPTS,
    Admin,
    PasswordStdinOption,
    ReasonOption,
    admin_session,
    fail,
    require_reason,
)
from risk_manager.cli.admin.report import print_change_reply
from risk_manager.cli.options import EXIT_AUTH, EXIT_RUNTIME, ConfigDirOption, DataDirOption
from risk_manager.control.client import ControlError, DaemonDown
from risk_manager.control.password import has_password, hash_path, verify_password
from risk_manager.control.protocol import Health, StopRequest

service_app = typer.Typer(
    name="service", help="Start, stop and install the daemon's service.", no_args_is_help=True
)

#: How long to wait for the daemon to answer after a start or restart, or to go quiet after a stop.
START_WAIT = 30.0
STOP_WAIT = 30.0
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print the steps; change nothing.")]


def service_manager() -> ModuleType | None:
    """``risk_manager.service.manager`` if this installation has it."""
    try:
        return importlib.import_module("risk_manager.service.manager")
    except ModuleNotFoundError:
        return None


def _manager_or_exit() -> ModuleType:
    manager = service_manager()
    if manager is None:
        fail("OS service control is not available in this version (no risk_manager.service.manager); "
             "run `risk_manager supervise` from your own init system", EXIT_RUNTIME)  # fmt: skip
    return manager


def _os_call(manager: ModuleType, action: str, **options: Any) -> Any:
    """One manager action; its ServiceError (a failed step) or a platform without a service -> exit 1."""
    error: type[Exception] = getattr(manager, "ServiceError", RuntimeError)
    function: Callable[..., Any] = getattr(manager, action)
    try:
        return function(echo=typer.echo, **options) if action != "status" else function()
    except (error, OSError) as exc:
        fail(f"service {action} failed: {exc}", EXIT_RUNTIME)


def _health(admin: Admin) -> Health | None:
    try:
        return admin.client().health()
    except (DaemonDown, ControlError):
        return None


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def print_health(admin: Admin, health: Health) -> None:
    store = f", STORE ERROR: {health.store_error}" if health.store_error else ""
    admin.console.print(f"daemon RUNNING: pid {health.pid}, version {health.version}, since "
                        f"{health.started_at:%Y-%m-%d %H:%M:%S %Z}, gateway {health.connection}, "
                        f"config {health.config_state}{store}", markup=False)  # fmt: skip


# --------------------------------------------------------------------------- status / start


def show_status(admin: Admin) -> None:
    """The OS service's state (when the manager exists) and the daemon's own health; exit 1 if down."""
    manager = service_manager()
    if manager is not None:
        state = _os_call(manager, "status")
        pid = f", pid {state.pid}" if getattr(state, "pid", None) else ""
        installed = "installed" if state.installed else "not installed"
        admin.console.print(f"OS service: {installed}, {state.state}{pid}", markup=False)
    health = _health(admin)
    if health is None:
        where = admin.client().base_url
        fail(f"daemon NOT RUNNING (no answer at {where}); start it: risk-admin service start", EXIT_RUNTIME)
    print_health(admin, health)


def supervise_argv(admin: Admin) -> list[str]:
    """``python -m risk_manager supervise`` with this session's dirs (so it runs what we look at)."""
    return [sys.executable, "-m", "risk_manager", "supervise",
            "--config-dir", str(admin.paths.config_dir), "--data-dir", str(admin.paths.data_dir)]  # fmt: skip


def spawn_detached(argv: list[str], log: Path) -> int:
    """Start ``argv`` in its own session (it outlives this command and the terminal); returns the pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        options: dict[str, Any] = {"stdin": subprocess.DEVNULL, "stdout": output, "stderr": output}
        if os.name == "nt":
            flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS  # type: ignore[attr-defined]
            options["creationflags"] = flags
        else:
            options["start_new_session"] = True
        return subprocess.Popen(argv, **options).pid


def start_service(admin: Admin) -> None:
    health = _health(admin)
    if health is not None:
        admin.console.print("already running")
        print_health(admin, health)
        return
    manager = service_manager()
    if manager is not None and _os_call(manager, "status").installed:
        _os_call(manager, "start")
    else:
        log = admin.paths.data_dir / "logs" / "supervise.out"
        pid = spawn_detached(supervise_argv(admin), log)
        admin.console.print(f"no OS service installed: started `risk_manager supervise` (pid {pid}, output "
                            f"in {log})", markup=False)  # fmt: skip
    if not _wait_for(lambda: _health(admin) is not None, START_WAIT):
        fail(
            f"the daemon does not answer after {START_WAIT:.0f} s; see `risk-admin logs --daemon`",
            EXIT_RUNTIME,
        )
    health = _health(admin)
    assert health is not None
    print_health(admin, health)


@service_app.command("status")
def status_command(config_dir: ConfigDirOption = None, data_dir: DataDirOption = None) -> None:
    """Is the OS service installed and running; is the daemon answering (no password)."""
    with admin_session(config_dir, data_dir) as admin:
        show_status(admin)


@service_app.command("start")
def start_command(config_dir: ConfigDirOption = None, data_dir: DataDirOption = None) -> None:
    """Start the service (or, with none installed, `risk_manager supervise` in the background)."""
    with admin_session(config_dir, data_dir) as admin:
        start_service(admin)


# --------------------------------------------------------------------------- stop / restart / reload


def stop_service(admin: Admin, *, reason: str | None, restart: bool) -> None:
    """Authenticated stop (exit 0, stays down) or restart (exit 75, the supervisor restarts it)."""
    text = require_reason(reason, "service restart" if restart else "service stop")
    client = admin.authed()
    before = client.health()
    reply = client.stop(StopRequest(reason=text, restart=restart))
    admin.console.print(f"daemon: {reply.message or ('restarting' if restart else 'stopping')}")
    if restart:
        back = _wait_for(lambda: (_health(admin) or before).pid != before.pid, START_WAIT)
        if not back:
            fail(f"no new daemon after {START_WAIT:.0f} s: with no supervisor (a foreground run) "
                 "start it again: risk-admin service start", EXIT_RUNTIME)  # fmt: skip
        health = _health(admin)
        assert health is not None
        print_health(admin, health)
        return
    if not _wait_for(lambda: _health(admin) is None, STOP_WAIT):
        fail(f"the daemon still answers after {STOP_WAIT:.0f} s", EXIT_RUNTIME)
    manager = service_manager()
    if manager is not None and _os_call(manager, "status").running:
        _os_call(manager, "stop")  # the supervisor too, so the OS shows it stopped
    admin.console.print("daemon stopped; enforcement is OFF until `risk-admin service start`")


@service_app.command("stop")
def stop_command(
    reason: ReasonOption = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Stop the daemon for good (enforcement OFF; audited). Needs --reason."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        stop_service(admin, reason=reason, restart=False)


@service_app.command("restart")
def restart_command(
    reason: ReasonOption = None,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Restart the daemon (its supervisor starts it again at once; audited). Needs --reason."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        stop_service(admin, reason=reason, restart=True)


def reload_config(admin: Admin) -> None:
    """Re-read the files on disk now (hand edits): tightening applies, loosening waits for the reset."""
    print_change_reply(admin.console, admin.authed().reload())


@service_app.command("reload")
def reload_command(
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Make the daemon re-read the config files now (it also polls them every 2 s)."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        reload_config(admin)


# --------------------------------------------------------------------------- install / uninstall


def check_password_locally(admin: Admin) -> None:
    """Install runs before any daemon: the hash is checked here (the OS admin can read it).

    A password must exist first, so the installed daemon can be stopped only with it.
    """
    config_dir = admin.paths.config_dir
    if not has_password(config_dir):
        fail(f"no admin password yet ({hash_path(config_dir)}): run `risk-admin init` first", EXIT_AUTH)
    for attempt in range(1, (1 if admin.password_stdin else ATTEMPTS) + 1):
        if verify_password(config_dir, admin.read_password("Admin password")):
            return
        if attempt < ATTEMPTS and not admin.password_stdin:
            typer.echo(f"risk-admin: wrong password; {ATTEMPTS - attempt} attempt(s) left", err=True)
    fail("wrong password", EXIT_AUTH)


def install_service(admin: Admin, *, dry_run: bool, explicit: tuple[Path | None, Path | None]) -> None:
    manager = _manager_or_exit()
    if not dry_run:
        check_password_locally(admin)
    config_dir, data_dir = explicit
    _os_call(manager, "install", config_dir=config_dir, data_dir=data_dir, dry_run=dry_run)


@service_app.command("install")
def install_command(
    dry_run: DryRunOption = False,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Install the OS service (boot start, own service account); needs OS administrator rights."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        install_service(admin, dry_run=dry_run, explicit=(config_dir, data_dir))


def uninstall_service(admin: Admin, *, dry_run: bool, reason: str | None) -> None:
    """Authenticated stop first (if it runs), then remove the service; config and data are kept."""
    manager = _manager_or_exit()
    if not dry_run and _health(admin) is not None:
        stop_service(admin, reason=reason, restart=False)
    elif not dry_run:
        check_password_locally(admin)
    _os_call(manager, "uninstall", dry_run=dry_run)


@service_app.command("uninstall")
def uninstall_command(
    reason: ReasonOption = None,
    dry_run: DryRunOption = False,
    config_dir: ConfigDirOption = None,
    data_dir: DataDirOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Stop and remove the OS service (config, data and locks are kept). Needs --reason if running."""
    with admin_session(config_dir, data_dir, password_stdin=password_stdin) as admin:
        uninstall_service(admin, dry_run=dry_run, reason=reason)


__all__ = [
    "install_service",
    "reload_config",
    "service_app",
    "service_manager",
    "show_status",
    "start_service",
    "stop_service",
    "uninstall_service",
]
