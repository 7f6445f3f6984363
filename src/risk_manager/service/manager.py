"""Install and control the OS service: one facade over systemd, launchd and Windows (SPEC §7).

``risk-admin service install|uninstall|start|stop|restart|status`` call these after the
admin password was checked (install and uninstall need OS administrator rights too).
Each action is first a plan, a list of :class:`Step`; ``dry_run`` prints the plan and
does nothing, otherwise each step is printed and carried out in order, and the first
failure raises :class:`ServiceError` naming the step.

Linux (systemd): ``install`` creates the ``riskmanager`` system account if missing, the
config and data dirs, hands them to it (owner may write; everyone may read, so the
trader's account can read but not write; secrets.yaml and the password hash 0600),
writes ``/etc/systemd/system/risk-manager.service`` and runs ``systemctl daemon-reload``
and ``systemctl enable --now``. ``uninstall`` disables and removes the unit; the account,
config and data (locks, journal) are kept. macOS (launchd) and Windows do the same with
their own tools (see :mod:`.launchd` and :mod:`.windows`).

``stop`` asks the OS service manager to stop. To stop enforcing for good, the admin CLI
first makes the authenticated stop through the daemon's control API (the daemon exits 0,
so no one restarts it); on Windows that stop's token is what lets ``stop`` through.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Literal, Protocol

from risk_manager.config.paths import resolve_paths
from risk_manager.service import launchd, systemd, windows

Platform = Literal["linux", "darwin", "win32"]
Echo = Callable[[str], object]


class ServiceError(Exception):
    """A step failed: which one, and what the tool said."""


class Runner(Protocol):
    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]: ...


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output; a missing tool is exit 127 (the step says which)."""
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=120)
    except FileNotFoundError as exc:
        return subprocess.CompletedProcess(list(argv), 127, "", str(exc))


# -- steps -------------------------------------------------------------------------------------


class Step(Protocol):
    def describe(self) -> str:
        """One line, shell-like: what a dry run prints."""
        ...

    def apply(self, runner: Runner) -> None: ...


@dataclass(frozen=True, slots=True)
class Command:
    argv: tuple[str, ...]
    allowed: frozenset[int] = frozenset({0})
    """Exit codes that count as success (``useradd`` of an existing account is not an error)."""

    def describe(self) -> str:
        return subprocess.list2cmdline(self.argv) if os.name == "nt" else shlex.join(self.argv)

    def apply(self, runner: Runner) -> None:
        result = runner(self.argv)
        if result.returncode not in self.allowed:
            detail = (result.stderr or result.stdout or "").strip()
            raise ServiceError(f"`{self.describe()}` failed (exit {result.returncode}): {detail}")


@dataclass(frozen=True, slots=True)
class WriteFile:
    path: Path
    text: str
    mode: int = 0o644

    def describe(self) -> str:
        return f"write {self.path} (mode {self.mode:o}, {len(self.text.splitlines())} lines)"

    def apply(self, runner: Runner) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(self.text, encoding="utf-8")
        os.chmod(temporary, self.mode)
        os.replace(temporary, self.path)


@dataclass(frozen=True, slots=True)
class RemoveFile:
    path: Path

    def describe(self) -> str:
        return f"remove {self.path}"

    def apply(self, runner: Runner) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class HandOver:
    """``chown -R user:group`` a dir, directories 0755, files 0644, private files 0600 (POSIX)."""

    path: Path
    user: str
    group: str
    private: tuple[str, ...] = windows.PRIVATE_FILES

    def describe(self) -> str:
        return (f"mkdir -p {self.path}; chown -R {self.user}:{self.group} {self.path}; "
                f"dirs 755, files 644, {', '.join(self.private)} 600")  # fmt: skip

    def apply(self, runner: Runner) -> None:
        import grp  # POSIX only
        import pwd

        uid, gid = pwd.getpwnam(self.user).pw_uid, grp.getgrnam(self.group).gr_gid
        self.path.mkdir(parents=True, exist_ok=True)
        for entry in [self.path, *self.path.rglob("*")]:
            if entry.is_symlink():
                continue  # never follow a link out of the tree
            os.chown(entry, uid, gid)
            mode = 0o755 if entry.is_dir() else 0o600 if entry.name in self.private else 0o644
            os.chmod(entry, mode)


@dataclass(frozen=True, slots=True)
class Call:
    """A Python call (pywin32's service registration): described, run only on its OS."""

    description: str
    function: Callable[[], object]

    def describe(self) -> str:
        return self.description

    def apply(self, runner: Runner) -> None:
        self.function()


# -- the facade --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """What the OS says. ``state``: running | not installed | not loaded | the tool's own word."""

    installed: bool
    running: bool
    state: str
    pid: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the service runs and with what: resolved once, used by every plan."""

    config_dir: Path
    data_dir: Path
    python: Path
    platform: Platform
    user_exists: Callable[[str], bool] = field(default=lambda name: _account_exists(name))


def target(
    config_dir: Path | None = None,
    data_dir: Path | None = None,
    python: Path | None = None,
    platform: str | None = None,
) -> Target:
    """Machine-wide dirs by default (``resolve_paths(service=True)``), this interpreter by default."""
    paths = resolve_paths(config_dir, data_dir, service=True)
    return Target(
        config_dir=paths.config_dir.absolute(),
        data_dir=paths.data_dir.absolute(),
        python=(python or Path(sys.executable)).absolute(),
        platform=_platform(platform or sys.platform),
    )


def install(
    config_dir: Path | None = None,
    data_dir: Path | None = None,
    python: Path | None = None,
    dry_run: bool = False,
    *,
    echo: Echo = print,
    runner: Runner = run_command,
    platform: str | None = None,
) -> list[Step]:
    """Install the service, start at boot, and start it now. Returns the plan (carried out unless dry_run)."""
    where = target(config_dir, data_dir, python, platform)
    return carry_out(plan_install(where), dry_run, echo, runner)


def uninstall(dry_run: bool = False, *, echo: Echo = print, runner: Runner = run_command,
              platform: str | None = None) -> list[Step]:  # fmt: skip
    """Stop and remove the service; the account, config and data are kept."""
    return carry_out(plan_control("uninstall", _platform(platform or sys.platform)), dry_run, echo, runner)


def start(dry_run: bool = False, *, echo: Echo = print, runner: Runner = run_command,
          platform: str | None = None) -> list[Step]:  # fmt: skip
    return carry_out(plan_control("start", _platform(platform or sys.platform)), dry_run, echo, runner)


def stop(dry_run: bool = False, *, echo: Echo = print, runner: Runner = run_command,
         platform: str | None = None) -> list[Step]:  # fmt: skip
    """Ask the OS to stop the service (after the daemon's authenticated stop: see the module doc)."""
    return carry_out(plan_control("stop", _platform(platform or sys.platform)), dry_run, echo, runner)


def restart(dry_run: bool = False, *, echo: Echo = print, runner: Runner = run_command,
            platform: str | None = None) -> list[Step]:  # fmt: skip
    return carry_out(plan_control("restart", _platform(platform or sys.platform)), dry_run, echo, runner)


def status(*, runner: Runner = run_command, platform: str | None = None) -> ServiceStatus:
    """Installed? Running? With which pid? Read-only; needs no administrator rights."""
    chosen = _platform(platform or sys.platform)
    if chosen == "linux":
        return _systemd_status(runner)
    if chosen == "darwin":
        return _launchd_status(runner)
    return _windows_status(runner)


# -- plans -------------------------------------------------------------------------------------


def plan_install(where: Target) -> list[Step]:
    if where.platform == "linux":
        return _systemd_install(where)
    if where.platform == "darwin":
        return _launchd_install(where)
    return _windows_install(where)


Action = Literal["uninstall", "start", "stop", "restart"]


def plan_control(action: Action, platform: Platform) -> list[Step]:
    """The steps of uninstall/start/stop/restart on ``platform``."""
    unit = systemd.UNIT_NAME
    plans: dict[Platform, dict[Action, list[Step]]] = {
        "linux": {
            "uninstall": [Command(("systemctl", "disable", "--now", unit), frozenset({0, 1, 5})),
                          RemoveFile(systemd.UNIT_PATH), Command(("systemctl", "daemon-reload"))],
            "start": [Command(("systemctl", "start", unit))],
            "stop": [Command(("systemctl", "stop", unit))],
            "restart": [Command(("systemctl", "restart", unit))],
        },
        "darwin": {
            "uninstall": [Command(("launchctl", "bootout", launchd.target()), frozenset({0, 3, 5, 36, 113})),
                          RemoveFile(launchd.PLIST_PATH)],
            "start": [Command(("launchctl", "kickstart", launchd.target()))],
            # SIGTERM: the supervisor exits 0, and KeepAlive {SuccessfulExit: false} leaves it down
            "stop": [Command(("launchctl", "kill", "SIGTERM", launchd.target()))],
            "restart": [Command(("launchctl", "kickstart", "-k", launchd.target()))],
        },
        "win32": {
            "uninstall": [Command(tuple(windows.sc_command("stop")), frozenset({0, 1062})),
                          Command(tuple(windows.sc_command("delete")))],
            "start": [Command(tuple(windows.sc_command("start")))],
            "stop": [Command(tuple(windows.sc_command("stop")))],
            "restart": [Command(tuple(windows.sc_command("stop"))),
                        Command(tuple(windows.sc_command("start")))],
        },
    }  # fmt: skip
    return plans[platform][action]


def _systemd_install(where: Target) -> list[Step]:
    user = systemd.SERVICE_USER
    spec = systemd.UnitSpec(where.python, where.config_dir, where.data_dir)
    steps: list[Step] = []
    if not where.user_exists(user):
        steps.append(Command(("useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                              "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
                              "Risk Manager service", user)))  # fmt: skip
    return [
        *steps,
        HandOver(where.config_dir, user, user),
        HandOver(where.data_dir, user, user),
        WriteFile(systemd.UNIT_PATH, systemd.render_unit(spec)),
        Command(("systemctl", "daemon-reload")),
        Command(("systemctl", "enable", "--now", systemd.UNIT_NAME)),
    ]


def _launchd_install(where: Target) -> list[Step]:
    user = launchd.SERVICE_USER
    spec = launchd.PlistSpec(where.python, where.config_dir, where.data_dir)
    steps: list[Step] = []
    if not where.user_exists(user):
        steps.append(Call(f"create the hidden service account {user} (dscl, a free id in 300..499)",
                          lambda: _create_macos_account(user)))  # fmt: skip
    return [
        *steps,
        HandOver(where.config_dir, user, user),
        HandOver(where.data_dir, user, user),
        WriteFile(launchd.PLIST_PATH, launchd.render_plist(spec)),
        Command(("launchctl", "bootstrap", "system", str(launchd.PLIST_PATH))),
        Command(("launchctl", "enable", launchd.target())),
    ]


def _windows_install(where: Target) -> list[Step]:
    options = {
        "python": str(where.python),
        "config_dir": str(where.config_dir),
        "data_dir": str(where.data_dir),
    }
    steps: list[Step] = [
        Call(
            f"register the service {windows.SERVICE_NAME} ({windows.PYTHON_CLASS})", windows.install_service
        ),
        Call(f"store its options in the registry: {options}", lambda: windows.service_options(options)),
        Command(tuple(windows.sc_config_command())),
        Command(tuple(windows.sc_description_command())),
        Command(tuple(windows.sc_failure_command())),
        Command(tuple(windows.sc_failureflag_command())),
    ]
    for directory in (where.config_dir, where.data_dir):
        private = [
            PureWindowsPath(directory / name) for name in windows.PRIVATE_FILES if (directory / name).exists()
        ]
        steps.append(Call(f"mkdir {directory}", _mkdir(directory)))
        steps += [Command(tuple(c)) for c in windows.icacls_commands(PureWindowsPath(directory), private)]
    return [*steps, Command(tuple(windows.sc_command("start")))]


# -- status ------------------------------------------------------------------------------------


def _systemd_status(runner: Runner) -> ServiceStatus:
    keys = "LoadState,ActiveState,SubState,MainPID,ExecMainStatus"
    result = runner(["systemctl", "show", systemd.UNIT_NAME, f"--property={keys}"])
    values = dict(line.partition("=")[::2] for line in result.stdout.splitlines() if "=" in line)
    installed = values.get("LoadState") == "loaded"
    active = values.get("ActiveState", "unknown")
    pid = int(values.get("MainPID") or 0) or None
    state = "not installed" if not installed else "running" if active == "active" else active
    detail = f"{active}/{values.get('SubState', '?')}, last exit {values.get('ExecMainStatus', '?')}"
    return ServiceStatus(installed, installed and active == "active", state, pid, detail)


def _launchd_status(runner: Runner) -> ServiceStatus:
    result = runner(["launchctl", "print", launchd.target()])
    if result.returncode != 0:
        return ServiceStatus(launchd.PLIST_PATH.exists(), False, "not loaded", None, result.stderr.strip())
    state, pid = launchd.parse_print(result.stdout)
    return ServiceStatus(True, state == "running", state or "unknown", pid)


def _windows_status(runner: Runner) -> ServiceStatus:
    result = runner(windows.sc_command("queryex"))
    if result.returncode == 1060:  # ERROR_SERVICE_DOES_NOT_EXIST
        return ServiceStatus(False, False, "not installed")
    words = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in result.stdout.splitlines())}
    state = words.get("STATE", "unknown").split()[-1].lower()
    pid = int(words.get("PID", "0") or 0) or None
    return ServiceStatus(True, state == "running", state, pid)


# -- helpers -----------------------------------------------------------------------------------


def carry_out(
    steps: list[Step], dry_run: bool, echo: Echo = print, runner: Runner = run_command
) -> list[Step]:
    """Print each step (``would: `` first on a dry run) and, unless dry_run, do it; a failure raises."""
    for step in steps:
        echo(("would: " if dry_run else "") + step.describe())
        if not dry_run:
            step.apply(runner)
    return steps


def _platform(name: str) -> Platform:
    if name.startswith("linux"):
        return "linux"
    if name in ("darwin", "win32"):
        return name  # type: ignore[return-value]
    raise ServiceError(
        f"no OS service for platform {name!r}: run `risk_manager supervise` from your own init"
    )


def _mkdir(directory: Path) -> Callable[[], None]:
    return lambda: directory.mkdir(parents=True, exist_ok=True)


def _account_exists(name: str) -> bool:
    import pwd  # POSIX only; Windows uses a virtual account and never asks

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _create_macos_account(user: str) -> None:  # pragma: no cover - macOS only
    listed = [run_command(["dscl", ".", "-list", kind, key]).stdout
              for kind, key in (("/Users", "UniqueID"), ("/Groups", "PrimaryGroupID"))]  # fmt: skip
    account_id = launchd.free_service_id(id for text in listed for id in launchd.parse_dscl_ids(text))
    for argv in launchd.create_account_commands(user, account_id):
        Command(tuple(argv)).apply(run_command)


__all__ = [
    "Call",
    "Command",
    "HandOver",
    "RemoveFile",
    "Runner",
    "ServiceError",
    "ServiceStatus",
    "Step",
    "Target",
    "WriteFile",
    "carry_out",
    "install",
    "plan_control",
    "plan_install",
    "restart",
    "run_command",
    "start",
    "status",
    "stop",
    "target",
    "uninstall",
]
