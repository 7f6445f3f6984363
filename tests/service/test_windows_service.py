"""What the Windows service code generates and decides, tested on any OS (pywin32 runs only on Windows)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path, PureWindowsPath

import pytest

from risk_manager.service import windows
from risk_manager.service.windows import (
    consume_stop_token,
    icacls_commands,
    recovery_actions,
    sc_config_command,
    sc_failure_command,
    sc_failureflag_command,
    stop_allowed,
    stop_token_path,
    write_stop_token,
)

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def test_recovery_restarts_after_1_2_then_10_seconds_reset_after_a_minute() -> None:
    assert recovery_actions() == "restart/1000/restart/2000/restart/10000"
    assert sc_failure_command() == ["sc.exe", "failure", "RiskManager", "reset=", "60", "actions=",
                                    "restart/1000/restart/2000/restart/10000"]  # fmt: skip
    assert sc_failureflag_command() == ["sc.exe", "failureflag", "RiskManager", "1"]


def test_automatic_start_as_the_virtual_service_account() -> None:
    assert sc_config_command() == ["sc.exe", "config", "RiskManager", "start=", "auto",
                                   "obj=", "NT SERVICE\\RiskManager"]  # fmt: skip


def test_acls_let_the_service_write_users_read_and_close_the_secrets() -> None:
    config = PureWindowsPath(r"C:\ProgramData\risk-manager")
    first, reset, secrets = icacls_commands(config, [config / "secrets.yaml"])
    assert first[:4] == ["icacls", str(config), "/inheritance:r", "/grant:r"]
    assert "NT SERVICE\\RiskManager:(OI)(CI)M" in first
    assert "*S-1-5-32-545:(OI)(CI)RX" in first  # Users: read and execute, no write
    assert reset == ["icacls", r"C:\ProgramData\risk-manager\*", "/reset", "/T", "/C", "/Q"]
    assert secrets[1] == r"C:\ProgramData\risk-manager\secrets.yaml"
    assert not any("S-1-5-32-545" in word for word in secrets)  # Users get nothing on the secrets


@pytest.mark.parametrize(
    ("written", "now", "allowed"),
    [
        pytest.param(NOW, NOW + timedelta(seconds=30), True, id="fresh"),
        pytest.param(NOW, NOW + timedelta(seconds=60), True, id="60s-edge"),
        pytest.param(NOW, NOW + timedelta(seconds=61), False, id="stale"),
        pytest.param(NOW + timedelta(minutes=5), NOW, False, id="from-the-future"),
    ],
)
def test_a_stop_needs_a_fresh_token(tmp_path: Path, written: datetime, now: datetime, allowed: bool) -> None:
    write_stop_token(tmp_path, written)
    assert stop_allowed(tmp_path, now) is allowed


def test_no_token_or_a_forged_one_refuses_and_a_used_one_is_gone(tmp_path: Path) -> None:
    assert not stop_allowed(tmp_path, NOW)
    stop_token_path(tmp_path).write_text("please stop\n")
    assert not stop_allowed(tmp_path, NOW)
    write_stop_token(tmp_path, NOW)
    assert stop_allowed(tmp_path, NOW)
    consume_stop_token(tmp_path)
    assert not stop_allowed(tmp_path, NOW)


@pytest.mark.skipif(sys.platform == "win32", reason="pywin32 may be installed there")
def test_the_module_imports_without_pywin32_and_has_no_service_class_here() -> None:
    assert windows.win32serviceutil is None
    assert not hasattr(windows, "RiskManagerService")
    with pytest.raises(RuntimeError, match="pip install pywin32"):
        windows.install_service()


def test_the_service_supervises_the_daemon_and_a_configured_watchdog_with_the_real_python(
    tmp_path: Path,
) -> None:
    from process_harness import write_config

    python = Path(r"C:\Program Files\Python312\python.exe")
    config, data = tmp_path / "config", tmp_path / "data"
    write_config(config, "http://127.0.0.1:9", [1], {})
    [daemon] = windows.service_children(python, config, data)
    assert daemon.primary and daemon.argv[:4] == (str(python), "-m", "risk_manager", "run")
    write_config(config, "http://127.0.0.1:9", [1], {}, general={"watchdog": {"stale_seconds": 20}})
    names = [(c.name, c.argv[3]) for c in windows.service_children(python, config, data)]
    assert names == [("daemon", "run"), ("watchdog", "watchdog")]
