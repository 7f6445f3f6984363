"""The macOS service: a LaunchDaemon that runs the supervisor at boot, before anyone logs in (SPEC §7).

``KeepAlive {SuccessfulExit: false}`` is launchd's ``RestartPreventExitStatus=0``: the job
is started again after any exit but 0, which the supervisor returns only after an
authenticated stop. It runs as the hidden ``_riskmanager`` account (macOS names service
accounts with a leading underscore), created with ``dscl`` at install.
"""

from __future__ import annotations

import plistlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from risk_manager.service.supervisor import supervise_argv

LABEL = "com.riskmanager.supervisor"
PLIST_PATH = Path("/Library/LaunchDaemons") / f"{LABEL}.plist"
SERVICE_USER = "_riskmanager"
#: system accounts live below 500; we look for a free id from here up
FIRST_SERVICE_ID = 300
LAST_SERVICE_ID = 499


@dataclass(frozen=True, slots=True)
class PlistSpec:
    """What the job runs: ``python -m risk_manager supervise`` with machine-wide dirs."""

    python: Path
    config_dir: Path
    data_dir: Path
    user: str = SERVICE_USER
    group: str = SERVICE_USER
    max_backoff: float = 10.0


def plist(spec: PlistSpec) -> dict[str, object]:
    """The job as a dict (what :func:`render_plist` writes)."""
    logs = spec.data_dir / "logs"
    return {
        "Label": LABEL,
        "ProgramArguments": supervise_argv(spec.python, spec.config_dir, spec.data_dir, spec.max_backoff),
        "UserName": spec.user,
        "GroupName": spec.group,
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 1,  # launchd's default of 10 s would add to the supervisor's own back-off
        "ExitTimeOut": 20,  # SIGTERM, then SIGKILL after this; the supervisor gives the daemon 10 s
        "ProcessType": "Interactive",  # enforcement must not be throttled as background work
        "WorkingDirectory": str(spec.data_dir),
        "Umask": 0o022,
        "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
        "StandardOutPath": str(logs / "launchd.out.log"),
        "StandardErrorPath": str(logs / "launchd.err.log"),
    }


def render_plist(spec: PlistSpec) -> str:
    """The plist's XML (``/Library/LaunchDaemons/com.riskmanager.supervisor.plist``, root:wheel, 0644)."""
    return plistlib.dumps(plist(spec), sort_keys=False).decode("utf-8")


def free_service_id(taken: Iterable[int]) -> int:
    """The first uid/gid in 300..499 that no user or group has (from ``dscl . -list ... UniqueID``)."""
    used = set(taken)
    for candidate in range(FIRST_SERVICE_ID, LAST_SERVICE_ID + 1):
        if candidate not in used:
            return candidate
    raise RuntimeError(f"no free service account id in {FIRST_SERVICE_ID}..{LAST_SERVICE_ID}")


def parse_dscl_ids(output: str) -> list[int]:
    """Ids from ``dscl . -list /Users UniqueID`` (``name   id`` per line; junk lines skipped)."""
    ids = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[-1].lstrip("-").isdigit():
            ids.append(int(parts[-1]))
    return ids


def create_account_commands(user: str, account_id: int) -> list[list[str]]:
    """``dscl`` commands for a hidden service user and its group, both with ``account_id``."""
    group, home = f"/Groups/{user}", f"/Users/{user}"
    return [
        ["dscl", ".", "-create", group],
        ["dscl", ".", "-create", group, "PrimaryGroupID", str(account_id)],
        ["dscl", ".", "-create", group, "RealName", "Risk Manager service"],
        ["dscl", ".", "-create", home],
        ["dscl", ".", "-create", home, "UniqueID", str(account_id)],
        ["dscl", ".", "-create", home, "PrimaryGroupID", str(account_id)],
        ["dscl", ".", "-create", home, "UserShell", "/usr/bin/false"],
        ["dscl", ".", "-create", home, "NFSHomeDirectory", "/var/empty"],
        ["dscl", ".", "-create", home, "RealName", "Risk Manager service"],
        ["dscl", ".", "-create", home, "IsHidden", "1"],
    ]


def launchctl(*args: str) -> list[str]:
    return ["launchctl", *args]


def target() -> str:
    """The job in the system domain, as launchctl names it."""
    return f"system/{LABEL}"


def parse_print(output: str) -> tuple[str | None, int | None]:
    """``state`` and ``pid`` from ``launchctl print system/<label>`` (None when not shown)."""
    state: str | None = None
    pid: int | None = None
    for line in output.splitlines():
        key, _, value = line.strip().partition(" = ")
        if key == "state" and state is None:
            state = value.strip()
        elif key == "pid" and pid is None and value.strip().isdigit():
            pid = int(value)
    return state, pid


__all__ = [
    "LABEL",
    "PLIST_PATH",
    "SERVICE_USER",
    "PlistSpec",
    "create_account_commands",
    "free_service_id",
    "launchctl",
    "parse_dscl_ids",
    "parse_print",
    "plist",
    "render_plist",
    "target",
]
