"""Where config and data live (SPEC §8): flag > environment > the OS convention.

A foreground run (demo, development) uses the user's directories; the service uses
machine-wide ones, owned by its service account, so the trader cannot edit them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "risk-manager"
ACCOUNTS_FILE = "accounts.yaml"
RISK_CONFIG_FILE = "risk_config.yaml"
HOLIDAYS_FILE = "holidays.yaml"
CONFIG_DIR_ENV = "RISK_MANAGER_CONFIG_DIR"
DATA_DIR_ENV = "RISK_MANAGER_DATA_DIR"


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The two directories a run uses, and the config files inside the first."""

    config_dir: Path
    data_dir: Path

    @property
    def accounts_file(self) -> Path:
        """accounts.yaml (required)."""
        return self.config_dir / ACCOUNTS_FILE

    @property
    def risk_config_file(self) -> Path:
        """risk_config.yaml (required)."""
        return self.config_dir / RISK_CONFIG_FILE

    @property
    def holidays_file(self) -> Path:
        """holidays.yaml (optional: without it the exchange calendars alone apply)."""
        return self.config_dir / HOLIDAYS_FILE


def _chosen(explicit: Path | None, env: Mapping[str, str], name: str) -> Path | None:
    if explicit is not None:
        return explicit.expanduser()
    value = env.get(name, "")
    return Path(value).expanduser() if value else None


def resolve_paths(
    config_dir: Path | None,
    data_dir: Path | None,
    *,
    service: bool = False,
    env: Mapping[str, str] | None = None,
) -> AppPaths:
    """Config and data dirs: explicit argument > ``RISK_MANAGER_CONFIG_DIR``/``_DATA_DIR`` > platformdirs.

    ``service`` picks the machine-wide platformdirs (``site_config_dir``/``site_data_dir``)
    instead of the per-user ones. An empty environment variable counts as unset.
    Nothing is created here; ``env`` replaces ``os.environ`` in tests.
    """
    environ = os.environ if env is None else env
    config = _chosen(config_dir, environ, CONFIG_DIR_ENV)
    data = _chosen(data_dir, environ, DATA_DIR_ENV)
    if config is None:
        finder = platformdirs.site_config_dir if service else platformdirs.user_config_dir
        config = Path(finder(APP_NAME, appauthor=False))
    if data is None:
        finder = platformdirs.site_data_dir if service else platformdirs.user_data_dir
        data = Path(finder(APP_NAME, appauthor=False))
    return AppPaths(config, data)


__all__ = [
    "ACCOUNTS_FILE",
    "APP_NAME",
    "CONFIG_DIR_ENV",
    "DATA_DIR_ENV",
    "HOLIDAYS_FILE",
    "RISK_CONFIG_FILE",
    "AppPaths",
    "resolve_paths",
]
