"""The package's public surface is its ``__all__``; a test fails if it drifts (httpx habit)."""

from __future__ import annotations

import risk_manager.config as config


def test_every_exported_name_exists() -> None:
    missing = [name for name in config.__all__ if not hasattr(config, name)]
    assert missing == []


def test_exports_are_unique_and_include_what_other_packages_use() -> None:
    assert len(config.__all__) == len(set(config.__all__))
    used_elsewhere = {
        "load_config_set",
        "ConfigSet",
        "ConfigError",
        "ConfigProblem",
        "parse_model",
        "load_yaml",
        "resolve_paths",
        "RiskConfig",
        "RulesConfig",
        "GeneralConfig",
        "HolidaysConfig",
        "AccountsConfig",
        "RULE_IDS",
    }
    assert used_elsewhere <= set(config.__all__)
