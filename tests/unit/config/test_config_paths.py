"""Config and data dirs (SPEC §8): explicit argument > environment > platformdirs."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from risk_manager.config import AppPaths, resolve_paths

USER = AppPaths(
    Path(platformdirs.user_config_dir("risk-manager", appauthor=False)),
    Path(platformdirs.user_data_dir("risk-manager", appauthor=False)),
)
SITE = AppPaths(
    Path(platformdirs.site_config_dir("risk-manager", appauthor=False)),
    Path(platformdirs.site_data_dir("risk-manager", appauthor=False)),
)
ENV = {"RISK_MANAGER_CONFIG_DIR": "/env/config", "RISK_MANAGER_DATA_DIR": "/env/data"}


@pytest.mark.parametrize(
    ("config_dir", "data_dir", "env", "service", "expected"),
    [
        pytest.param(None, None, {}, False, USER, id="foreground-platformdirs"),
        pytest.param(None, None, {}, True, SITE, id="service-platformdirs"),
        pytest.param(None, None, ENV, False, AppPaths(Path("/env/config"), Path("/env/data")), id="env"),
        pytest.param(
            None, None, ENV, True, AppPaths(Path("/env/config"), Path("/env/data")), id="env-beats-service"
        ),
        pytest.param(
            Path("/arg/config"),
            Path("/arg/data"),
            ENV,
            False,
            AppPaths(Path("/arg/config"), Path("/arg/data")),
            id="arg",
        ),
        pytest.param(
            Path("/arg/config"),
            None,
            ENV,
            False,
            AppPaths(Path("/arg/config"), Path("/env/data")),
            id="mixed",
        ),
        pytest.param(
            None,
            None,
            {"RISK_MANAGER_CONFIG_DIR": "", "RISK_MANAGER_DATA_DIR": ""},
            False,
            USER,
            id="empty-env-is-unset",
        ),
    ],
)
def test_resolve_paths_precedence(
    config_dir: Path | None, data_dir: Path | None, env: dict[str, str], service: bool, expected: AppPaths
) -> None:
    assert resolve_paths(config_dir, data_dir, service=service, env=env) == expected


def test_resolve_paths_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RISK_MANAGER_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("RISK_MANAGER_DATA_DIR", str(tmp_path / "d"))
    assert resolve_paths(None, None) == AppPaths(tmp_path / "c", tmp_path / "d")


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_paths(Path("~/cfg"), None, env={"RISK_MANAGER_DATA_DIR": "~/data"}) == AppPaths(
        tmp_path / "cfg", tmp_path / "data"
    )


def test_config_file_names() -> None:
    paths = AppPaths(Path("/c"), Path("/d"))
    assert (paths.accounts_file, paths.risk_config_file, paths.holidays_file) == (
        Path("/c/accounts.yaml"),
        Path("/c/risk_config.yaml"),
        Path("/c/holidays.yaml"),
    )
