"""The Windows service (pywin32): the supervisor at boot, as a virtual service account (SPEC §7).

* Automatic start; the service runs as ``NT SERVICE\\RiskManager``, a virtual account
  Windows creates for the service (no password to store), which owns the config and data
  dirs; Users may read them, never write.
* Recovery (``sc failure``): restart after 1 s, 2 s, then every 10 s, the count reset
  after 60 s; ``sc failureflag 1`` applies it to a stop with an error too, not only to a
  crash. A clean stop (the daemon exited 0 after an authenticated stop) is not restarted.
* Stop only through ``risk-admin`` and the password: the daemon's authenticated stop writes
  ``<data_dir>/service-stop.token`` (an ISO-8601 UTC time) and exits 0, which ends the
  service by itself; a Stop from the Services console or ``sc stop`` is refused unless
  such a token, at most 60 s old, is there (it is consumed). A machine administrator can
  still kill the process: we add friction and a record, not a wall.
* The supervisor runs inside the service process; the daemon is its child. Windows has no
  SIGTERM: stopping the daemon from outside is TerminateProcess, which the journal and
  the store are built to survive (the chaos test kills it with SIGKILL fifty times).

Everything that generates commands or decides is a pure function, tested on any OS; the
service class exists only where pywin32 is installed (it cannot run on Linux).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path, PureWindowsPath
from typing import Any

from risk_manager.service.supervisor import ChildSpec, child_argv
from risk_manager.store.timefmt import from_iso, to_iso

log = logging.getLogger("risk_manager.service")

SERVICE_NAME = "RiskManager"
DISPLAY_NAME = "Risk Manager"
DESCRIPTION = "Real-time risk rules for ProjectX (TopstepX) accounts; stop with risk-admin."
SERVICE_ACCOUNT = f"NT SERVICE\\{SERVICE_NAME}"
PYTHON_CLASS = "risk_manager.service.windows.RiskManagerService"
STOP_TOKEN = "service-stop.token"
STOP_TOKEN_MAX_AGE = timedelta(seconds=60)
#: restart delays of the recovery actions, then the reset period of the failure count
RECOVERY_DELAYS_MS = (1000, 2000, 10000)
RECOVERY_RESET_SECONDS = 60
#: well-known SIDs, so the ACLs do not depend on the language of Windows
ADMINISTRATORS, SYSTEM, USERS = "*S-1-5-32-544", "*S-1-5-18", "*S-1-5-32-545"
PRIVATE_FILES = ("secrets.yaml", "admin_password.hash")


def sc_config_command(name: str = SERVICE_NAME) -> list[str]:
    """Automatic start (at boot, no login) as the virtual service account."""
    return ["sc.exe", "config", name, "start=", "auto", "obj=", f"NT SERVICE\\{name}"]


def sc_description_command(name: str = SERVICE_NAME) -> list[str]:
    return ["sc.exe", "description", name, DESCRIPTION]


def recovery_actions(delays_ms: tuple[int, ...] = RECOVERY_DELAYS_MS) -> str:
    """``restart/1000/restart/2000/restart/10000``: the third action repeats for every later failure."""
    return "/".join(f"restart/{delay}" for delay in delays_ms)


def sc_failure_command(name: str = SERVICE_NAME) -> list[str]:
    return ["sc.exe", "failure", name, "reset=", str(RECOVERY_RESET_SECONDS), "actions=", recovery_actions()]


def sc_failureflag_command(name: str = SERVICE_NAME) -> list[str]:
    """Recovery also when the service stops with a non-zero exit code, not only on a crash."""
    return ["sc.exe", "failureflag", name, "1"]


def sc_command(verb: str, name: str = SERVICE_NAME) -> list[str]:
    """``sc.exe start|stop|query|delete RiskManager``."""
    return ["sc.exe", verb, name]


def icacls_commands(directory: PureWindowsPath, private: list[PureWindowsPath]) -> list[list[str]]:
    """ACLs of a config or data dir: the service account may modify, Users only read.

    The dir gets its own inheritable ACL (inheritance from the parent removed), everything
    below is reset to inherit it, and ``private`` files (secrets, password hash) are closed to
    Users: the ``0600`` of POSIX.
    """
    account = f"NT SERVICE\\{SERVICE_NAME}"
    commands = [
        ["icacls", str(directory), "/inheritance:r", "/grant:r", f"{account}:(OI)(CI)M",
         f"{ADMINISTRATORS}:(OI)(CI)F", f"{SYSTEM}:(OI)(CI)F", f"{USERS}:(OI)(CI)RX"],
        ["icacls", str(directory / "*"), "/reset", "/T", "/C", "/Q"],
    ]  # fmt: skip
    commands += [
        [
            "icacls",
            str(path),
            "/inheritance:r",
            "/grant:r",
            f"{account}:F",
            f"{ADMINISTRATORS}:F",
            f"{SYSTEM}:F",
        ]
        for path in private
    ]
    return commands


# -- the stop token ------------------------------------------------------------------------


def stop_token_path(data_dir: Path) -> Path:
    return data_dir / STOP_TOKEN


def write_stop_token(data_dir: Path, now: datetime) -> Path:
    """What the daemon's authenticated stop does (on every OS: harmless where unused)."""
    path = stop_token_path(data_dir)
    path.write_text(to_iso(now) + "\n", encoding="ascii")
    return path


def stop_allowed(data_dir: Path, now: datetime) -> bool:
    """True when a stop token at most 60 s old (and not from the future) is there.

    The time inside the file counts, not its mtime, so a copied or touched old file does not pass.
    """
    try:
        written = from_iso(stop_token_path(data_dir).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return False
    return now - STOP_TOKEN_MAX_AGE <= written <= now + timedelta(seconds=5)


def consume_stop_token(data_dir: Path) -> None:
    stop_token_path(data_dir).unlink(missing_ok=True)


def service_children(python: Path, config_dir: Path, data_dir: Path) -> list[ChildSpec]:
    """What the service supervises: the daemon, and the watchdog when risk_config.yaml names
    ``general.watchdog`` (as ``risk_manager supervise``). ``python`` is the real interpreter:
    inside the service, ``sys.executable`` is pywin32's service host."""
    from risk_manager.cli.supervise import config_or_none, watchdog_configured

    children = [ChildSpec("daemon", child_argv("run", config_dir, data_dir, python), primary=True)]
    config_set = config_or_none(config_dir)
    if config_set is not None and watchdog_configured(config_set):
        children.append(ChildSpec("watchdog", child_argv("watchdog", config_dir, data_dir, python)))
    return children


# -- the service (Windows with pywin32 only) -------------------------------------------------

try:  # pragma: no cover - pywin32 exists only on Windows
    import servicemanager
    import win32service
    import win32serviceutil
except ImportError:
    win32serviceutil = None


def service_options(values: dict[str, str] | None = None) -> dict[str, str]:  # pragma: no cover
    """``python``, ``config_dir``, ``data_dir`` kept in the service's registry key (set at install)."""
    assert win32serviceutil is not None
    keys = ("python", "config_dir", "data_dir")
    if values is not None:
        for key in keys:
            win32serviceutil.SetServiceCustomOption(SERVICE_NAME, key, values[key])
    return {key: str(win32serviceutil.GetServiceCustomOption(SERVICE_NAME, key, "")) for key in keys}


def install_service() -> None:  # pragma: no cover
    """Register the pywin32 service class with the SCM (``sc config`` and ``sc failure`` do the rest)."""
    if win32serviceutil is None:
        raise RuntimeError("pywin32 is needed to install the Windows service: pip install pywin32")
    win32serviceutil.InstallService(
        PYTHON_CLASS,
        SERVICE_NAME,
        DISPLAY_NAME,
        startType=win32service.SERVICE_AUTO_START,
        description=DESCRIPTION,
    )


if win32serviceutil is not None:  # pragma: no cover

    class RiskManagerService(win32serviceutil.ServiceFramework):  # type: ignore[misc]
        """Runs the supervisor; refuses a Stop without a fresh stop token, stops on machine shutdown."""

        _svc_name_ = SERVICE_NAME
        _svc_display_name_ = DISPLAY_NAME
        _svc_description_ = DESCRIPTION

        def __init__(self, args: Any) -> None:
            super().__init__(args)
            from risk_manager.service.supervisor import Supervisor

            options = service_options()
            self.data_dir = Path(options["data_dir"])
            config_dir = Path(options["config_dir"])
            children = service_children(Path(options["python"]), config_dir, self.data_dir)
            self.supervisor = Supervisor(children)

        def SvcDoRun(self) -> None:
            from risk_manager.daemon.logs import setup_logging

            setup_logging("INFO", self.data_dir / "logs" / "supervisor.log",
                          max_bytes=10_485_760, backups=5, stream=False)  # fmt: skip
            servicemanager.LogInfoMsg(f"{SERVICE_NAME}: started")
            self.supervisor.run()
            servicemanager.LogInfoMsg(f"{SERVICE_NAME}: stopped")

        def SvcStop(self) -> None:
            if not stop_allowed(self.data_dir, datetime.now(UTC)):
                message = f"{SERVICE_NAME}: stop refused: stop it with `risk-admin service stop` (password)"
                servicemanager.LogWarningMsg(message)
                log.warning(message)
                self.ReportServiceStatus(win32service.SERVICE_RUNNING)
                return
            consume_stop_token(self.data_dir)
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=20_000)
            self.supervisor.request_stop()

        def SvcShutdown(self) -> None:
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=20_000)
            self.supervisor.request_stop()


if __name__ == "__main__" and sys.platform == "win32":  # pragma: no cover
    win32serviceutil.HandleCommandLine(RiskManagerService)


__all__ = [
    "DISPLAY_NAME",
    "SERVICE_ACCOUNT",
    "SERVICE_NAME",
    "STOP_TOKEN",
    "STOP_TOKEN_MAX_AGE",
    "consume_stop_token",
    "icacls_commands",
    "install_service",
    "recovery_actions",
    "sc_command",
    "sc_config_command",
    "sc_description_command",
    "sc_failure_command",
    "sc_failureflag_command",
    "service_children",
    "stop_allowed",
    "stop_token_path",
    "write_stop_token",
]
