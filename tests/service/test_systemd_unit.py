"""The generated systemd unit: checked by ``systemd-analyze verify`` where it exists, and parsed always."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from risk_manager.service.supervisor import supervise_argv
from risk_manager.service.systemd import UnitSpec, home_protection, quote, render_unit


def unit(tmp_path: Path, config: str = "etc/risk-manager", data: str = "var/lib/risk-manager") -> UnitSpec:
    return UnitSpec(Path(sys.executable), tmp_path / config, tmp_path / data)


def parsed(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(text)
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("data", ["var/lib/risk-manager", "data dir with spaces 100%"])
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path, data: str) -> None:
    path = tmp_path / "risk-manager.service"
    path.write_text(render_unit(unit(tmp_path, data=data)))
    result = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # unknown keys and bad values are only warnings: none may name our file
    assert [line for line in result.stderr.splitlines() if str(path) in line] == []


def test_the_unit_restarts_all_but_exit_0_runs_at_boot_as_the_service_account(tmp_path: Path) -> None:
    spec = unit(tmp_path)
    sections = parsed(render_unit(spec))
    service = sections["Service"]
    assert service["Restart"] == "always"
    assert service["RestartPreventExitStatus"] == "0"
    assert (service["User"], service["Group"]) == ("riskmanager", "riskmanager")
    assert shlex.split(service["ExecStart"]) == supervise_argv(
        Path(sys.executable), spec.config_dir, spec.data_dir, 10.0
    )
    assert sections["Install"]["WantedBy"] == "multi-user.target"
    assert sections["Unit"]["StartLimitIntervalSec"] == "0"  # systemd never gives up
    assert service["KillMode"] == "mixed"  # SIGTERM to the supervisor only: it stops the daemon
    assert int(service["TimeoutStopSec"]) > 10  # more than the supervisor's 10 s grace for the daemon


def test_the_service_may_write_only_its_two_dirs(tmp_path: Path) -> None:
    spec = unit(tmp_path)
    service = parsed(render_unit(spec))["Service"]
    assert service["ProtectSystem"] == "strict"
    assert shlex.split(service["ReadWritePaths"]) == [str(spec.config_dir), str(spec.data_dir)]
    assert service["NoNewPrivileges"] == "yes"
    assert service["CapabilityBoundingSet"] == ""


@pytest.mark.parametrize(
    ("word", "quoted"),
    [
        ("/usr/bin/python3", "/usr/bin/python3"),
        ("/srv/risk manager", '"/srv/risk manager"'),
        ("/srv/100%", "/srv/100%%"),
        ("/srv/$HOME", "/srv/$$HOME"),
        ('/srv/a"b', '"/srv/a\\"b"'),
    ],
)
def test_exec_start_words_are_quoted_for_systemd(word: str, quoted: str) -> None:
    assert quote(word) == quoted


@pytest.mark.parametrize(
    ("paths", "value"),
    [
        (["/usr/bin/python3", "/etc/xdg/risk-manager", "/var/lib/risk-manager"], "yes"),
        (["/home/admin/venv/bin/python", "/etc/risk-manager", "/var/lib/risk-manager"], "read-only"),
        (["/usr/bin/python3", "/root/config", "/var/lib/risk-manager"], "read-only"),
        (["/usr/bin/python3", "/homework", "/var/lib/x"], "yes"),
    ],
)
def test_home_stays_hidden_unless_the_service_runs_from_there(paths: list[str], value: str) -> None:
    assert home_protection([Path(p) for p in paths]) == value
