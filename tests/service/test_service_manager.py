"""The service manager facade: the plans per OS, dry runs, real file steps in tmp_path, status parsing.

Commands that need root and a booted systemd (useradd, systemctl) are not run here: the
runner records them. File steps (the unit, the hand-over of the dirs) run for real.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from risk_manager.service import manager
from risk_manager.service.manager import (
    Command,
    HandOver,
    ServiceError,
    Target,
    WriteFile,
    carry_out,
    plan_control,
    plan_install,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")


class Recorder:
    """Answers each command with the next scripted (exit code, stdout) and records what ran."""

    def __init__(self, *answers: tuple[int, str]) -> None:
        self.answers = list(answers)
        self.ran: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.ran.append(list(argv))
        code, out = self.answers.pop(0) if self.answers else (0, "")
        return subprocess.CompletedProcess(list(argv), code, out, "boom" if code else "")


def linux_target(tmp_path: Path, user_exists: bool) -> Target:
    return Target(tmp_path / "etc", tmp_path / "data", Path(sys.executable), "linux", lambda _: user_exists)


def commands(steps: list[manager.Step]) -> list[list[str]]:
    return [list(step.argv) for step in steps if isinstance(step, Command)]


def test_linux_install_creates_the_account_hands_over_the_dirs_and_enables_the_unit(tmp_path: Path) -> None:
    steps = plan_install(linux_target(tmp_path, user_exists=False))
    argv = commands(steps)
    assert argv[0][:2] == ["useradd", "--system"] and argv[0][-1] == "riskmanager"
    enable = ["systemctl", "enable", "--now", "risk-manager.service"]
    assert argv[1:] == [["systemctl", "daemon-reload"], enable]
    handed = [step.path for step in steps if isinstance(step, HandOver)]
    assert handed == [tmp_path / "etc", tmp_path / "data"]
    [unit] = [step for step in steps if isinstance(step, WriteFile)]
    assert unit.path == Path("/etc/systemd/system/risk-manager.service")
    assert "RestartPreventExitStatus=0" in unit.text and f"--data-dir {tmp_path / 'data'}" in unit.text


def test_an_existing_account_is_not_created_again(tmp_path: Path) -> None:
    argv = commands(plan_install(linux_target(tmp_path, user_exists=True)))
    assert not any(a[0] == "useradd" for a in argv)


def test_a_dry_run_prints_every_step_and_runs_nothing(tmp_path: Path) -> None:
    printed: list[str] = []
    runner = Recorder()
    steps = carry_out(plan_install(linux_target(tmp_path, False)), True, printed.append, runner)
    assert len(printed) == len(steps) and all(line.startswith("would: ") for line in printed)
    assert "would: systemctl enable --now risk-manager.service" in printed
    assert runner.ran == [] and not (tmp_path / "etc").exists()


def test_the_facade_dry_run_uses_machine_wide_dirs_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RISK_MANAGER_CONFIG_DIR", raising=False)
    monkeypatch.delenv("RISK_MANAGER_DATA_DIR", raising=False)
    printed: list[str] = []
    manager.install(dry_run=True, echo=printed.append, runner=Recorder(), platform="linux")
    from risk_manager.config.paths import resolve_paths

    site = resolve_paths(None, None, service=True)
    assert any(f"mkdir -p {site.config_dir};" in line for line in printed)


def test_the_first_failing_step_stops_the_plan_and_says_which(tmp_path: Path) -> None:
    runner = Recorder((0, ""), (5, ""))
    steps = [Command(("true",)), Command(("systemctl", "start", "x")), Command(("never",))]
    with pytest.raises(ServiceError, match=r"`systemctl start x` failed \(exit 5\): boom"):
        carry_out(steps, False, lambda _: None, runner)
    assert runner.ran == [["true"], ["systemctl", "start", "x"]]


def test_write_file_is_atomic_with_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "risk-manager.service"
    WriteFile(target, "[Unit]\n", 0o644).apply(Recorder())
    assert target.read_text() == "[Unit]\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["risk-manager.service"]


@posix_only
def test_hand_over_lets_others_read_not_write_and_closes_the_secrets(tmp_path: Path) -> None:
    import grp
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    config = tmp_path / "config"
    (config / "sub").mkdir(parents=True)
    for name in ("accounts.yaml", "secrets.yaml", "admin_password.hash", "sub/x.yaml"):
        (config / name).write_text("x")
        os.chmod(config / name, 0o666)
    HandOver(config, me, group).apply(Recorder())
    modes = {p.relative_to(config).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in config.rglob("*")}
    assert modes == {"sub": 0o755, "accounts.yaml": 0o644, "secrets.yaml": 0o600,
                     "admin_password.hash": 0o600, "sub/x.yaml": 0o644}  # fmt: skip
    assert stat.S_IMODE(config.stat().st_mode) == 0o755


@pytest.mark.parametrize(
    ("platform", "action", "first"),
    [
        ("linux", "stop", ["systemctl", "stop", "risk-manager.service"]),
        ("linux", "uninstall", ["systemctl", "disable", "--now", "risk-manager.service"]),
        ("darwin", "stop", ["launchctl", "kill", "SIGTERM", "system/com.riskmanager.supervisor"]),
        ("darwin", "restart", ["launchctl", "kickstart", "-k", "system/com.riskmanager.supervisor"]),
        ("win32", "start", ["sc.exe", "start", "RiskManager"]),
        ("win32", "uninstall", ["sc.exe", "stop", "RiskManager"]),
    ],
)
def test_control_plans(platform: manager.Platform, action: manager.Action, first: list[str]) -> None:
    assert commands(plan_control(action, platform))[0] == first


def test_macos_and_windows_install_plans(tmp_path: Path) -> None:
    python = Path("/usr/bin/python3")
    mac = plan_install(Target(tmp_path / "c", tmp_path / "d", python, "darwin", lambda _: True))
    assert commands(mac)[-2:] == [
        ["launchctl", "bootstrap", "system", "/Library/LaunchDaemons/com.riskmanager.supervisor.plist"],
        ["launchctl", "enable", "system/com.riskmanager.supervisor"],
    ]
    win = commands(plan_install(Target(tmp_path / "c", tmp_path / "d", Path("python.exe"), "win32")))
    assert ["sc.exe", "failureflag", "RiskManager", "1"] in win
    assert win[-1] == ["sc.exe", "start", "RiskManager"]
    assert sum(a[0] == "icacls" for a in win) == 4  # two per dir


SHOW_ACTIVE = "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4711\nExecMainStatus=0\n"
SHOW_MISSING = "LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\nExecMainStatus=0\n"
SHOW_FAILED = "LoadState=loaded\nActiveState=failed\nSubState=failed\nMainPID=0\nExecMainStatus=1\n"
SC_RUNNING = """
SERVICE_NAME: RiskManager
        TYPE               : 10  WIN32_OWN_PROCESS
        STATE              : 4  RUNNING
        PID                : 5120
"""


@pytest.mark.parametrize(
    ("platform", "answer", "expected"),
    [
        ("linux", (0, SHOW_ACTIVE), (True, True, "running", 4711)),
        ("linux", (0, SHOW_MISSING), (False, False, "not installed", None)),
        ("linux", (0, SHOW_FAILED), (True, False, "failed", None)),
        ("win32", (0, SC_RUNNING), (True, True, "running", 5120)),
        ("win32", (1060, ""), (False, False, "not installed", None)),
        ("darwin", (0, "x = {\n\tstate = running\n\tpid = 77\n}"), (True, True, "running", 77)),
    ],
)
def test_status(platform: str, answer: tuple[int, str], expected: tuple[object, ...]) -> None:
    found = manager.status(runner=Recorder(answer), platform=platform)
    assert (found.installed, found.running, found.state, found.pid) == expected


def test_an_unknown_platform_says_what_to_do() -> None:
    with pytest.raises(ServiceError, match="risk_manager supervise"):
        manager.start(platform="freebsd14")
