"""The config set as one: every file's problems at once, env overrides, per-account effective rules."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from config_testkit import EXAMPLES, MINIMAL_ACCOUNTS, MINIMAL_RISK, problems, write_config

from risk_manager.config import (
    ConfigSet,
    RiskConfig,
    deep_merge,
    display_path,
    load_config_set,
)

BASE_RISK = """\
version: 1
general:
  mark_price: last
  logging: {level: INFO}
rules:
  daily_realized_loss: {enabled: true, limit: -500.0}
  trade_frequency_limit:
    enabled: true
    limits: {per_minute: 3, per_hour: 10}
  cooldown_after_loss:
    enabled: true
    tiers:
      - {loss_amount: -100.0, duration: 5m}
      - {loss_amount: -200.0, duration: 15m}
  symbol_blocks: {enabled: true, blocked_symbols: [RTY, M2K]}
"""


def load(directory: Path, env: dict[str, str] | None = None) -> ConfigSet:
    return load_config_set(directory, env={} if env is None else env, cwd=directory.parent)


# --------------------------------------------------------------------------- the shipped example


def test_shipped_example_config_is_valid() -> None:
    loaded = load_config_set(EXAMPLES, env={})
    assert loaded.warnings == []
    assert loaded.accounts.gateway.firm == "simulator"
    assert (loaded.accounts.gateway.username, loaded.accounts.gateway.api_key.get_secret_value()) == (
        "demo",
        "demo",
    )
    assert [entry.id for entry in loaded.accounts.accounts] == [1, 2]
    assert len(loaded.risk.rules.enabled_rules()) == 13
    assert loaded.holidays is not None and dt.date(2025, 12, 25) in loaded.holidays.holiday_dates()


def test_shipped_example_gives_account_two_its_tighter_loss_limit() -> None:
    loaded = load_config_set(EXAMPLES, env={})
    limits = [loaded.effective_risk(ref).rules.daily_realized_loss for ref in (1, 2)]
    assert [limit.limit if limit else None for limit in limits] == [Decimal("-500.0"), Decimal("-400.0")]


# --------------------------------------------------------------------------- all problems at once


def test_problems_of_every_file_are_reported_together_in_file_order(tmp_path: Path) -> None:
    directory = write_config(
        tmp_path / "config",
        accounts="gateway: {firm: simulator}\naccounts:\n  - id: -1\n",
        risk="rules:\n  max_contracts: {enabled: true, limit: 0}\n",
        holidays="holidays:\n  - {date: 2025-12-25}\n  - {date: 2025-12-25}\n",
    )
    assert problems(lambda: load(directory)) == [
        "config/accounts.yaml:3: accounts[0].id: must be > 0 (got -1), e.g. 9876543",
        "config/risk_config.yaml:2: rules.max_contracts.limit: must be 1..1000 (got 0), e.g. 5",
        "config/holidays.yaml:3: holidays[1].date: duplicate of holidays[0] (2025-12-25)",
    ]


def test_a_syntax_error_does_not_hide_the_other_files(tmp_path: Path) -> None:
    directory = write_config(
        tmp_path / "config",
        accounts=MINIMAL_ACCOUNTS + "  - id: 2\n   label: x\n",
        risk="rules:\n  max_contracts: {enabled: true}\n",
    )
    found = problems(lambda: load(directory))
    assert found[0].startswith("config/accounts.yaml:9:4: YAML syntax error: ")
    assert found[1:] == [
        "config/risk_config.yaml:2: rules.max_contracts.limit: required: an integer 1..1000, e.g. 5"
    ]


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        pytest.param("accounts", "config/accounts.yaml: file not found", id="accounts"),
        pytest.param("risk", "config/risk_config.yaml: file not found", id="risk"),
    ],
)
def test_required_files_must_exist(tmp_path: Path, missing: str, expected: str) -> None:
    directory = write_config(tmp_path / "config", **{missing: None})
    assert problems(lambda: load(directory)) == [expected]


def test_holidays_file_is_optional(tmp_path: Path) -> None:
    loaded = load(write_config(tmp_path / "config"))
    assert loaded.holidays is None
    assert [path.name for path in loaded.files] == ["accounts.yaml", "risk_config.yaml"]


def test_missing_config_dir(tmp_path: Path) -> None:
    found = problems(lambda: load_config_set(tmp_path / "nope", env={}, cwd=tmp_path))
    assert found == ["nope: config dir not found; `risk_manager init` writes a working simulator config"]


def test_an_empty_file_says_what_it_should_hold(tmp_path: Path) -> None:
    directory = write_config(tmp_path / "config", risk="")
    assert problems(lambda: load(directory)) == [
        "config/risk_config.yaml:1: must be a mapping with keys version, general, rules (got null)"
    ]


def test_a_yaml_problem_is_not_reported_twice_by_validation(tmp_path: Path) -> None:
    accounts = "gateway: {firm: simulator}\naccounts:\n  - id: ${ACCOUNT_ID_RM_TEST}\n"
    directory = write_config(tmp_path / "config", accounts=accounts)
    assert problems(lambda: load(directory)) == [
        "config/accounts.yaml:3: accounts[0].id: environment variable ACCOUNT_ID_RM_TEST is not set "
        "(use ${ACCOUNT_ID_RM_TEST:-default})"
    ]


def test_duplicate_keys_fail_the_set(tmp_path: Path) -> None:
    directory = write_config(tmp_path / "config", risk=MINIMAL_RISK + "version: 1\n")
    assert problems(lambda: load(directory)) == [
        "config/risk_config.yaml:4: version: duplicate key (first at line 1)"
    ]


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize(
    ("env", "username", "api_key"),
    [
        pytest.param({}, "file-user", "file-key", id="file-values"),
        pytest.param({"PROJECT_X_USERNAME": "env-user"}, "env-user", "file-key", id="username-env"),
        pytest.param({"PROJECT_X_API_KEY": "env-key"}, "file-user", "env-key", id="api-key-env"),
        pytest.param(
            {"PROJECT_X_USERNAME": "", "PROJECT_X_API_KEY": ""}, "file-user", "file-key", id="empty-ignored"
        ),
    ],
)
def test_credential_env_vars_always_override_the_file(
    tmp_path: Path, env: dict[str, str], username: str, api_key: str
) -> None:
    accounts = (
        "gateway:\n  firm: simulator\n  username: file-user\n  api_key: file-key\naccounts: [{id: 1}]\n"
    )
    gateway = load(write_config(tmp_path / "config", accounts=accounts), env).accounts.gateway
    assert (gateway.username, gateway.api_key.get_secret_value()) == (username, api_key)


def test_credentials_interpolated_from_env(tmp_path: Path) -> None:
    accounts = "gateway:\n  firm: simulator\n  username: ${RM_USER:-}\naccounts: [{id: 1}]\n"
    directory = write_config(tmp_path / "config", accounts=accounts)
    assert load(directory, {"RM_USER": "carol"}).accounts.gateway.username == "carol"
    assert load(directory).accounts.gateway.username == ""


@pytest.mark.parametrize(("value", "level"), [("debug", "DEBUG"), ("ERROR", "ERROR"), ("", "INFO")])
def test_log_level_env_overrides_general_logging_level(tmp_path: Path, value: str, level: str) -> None:
    accounts = MINIMAL_ACCOUNTS + "    overrides: {rules: {daily_realized_loss: {limit: -400}}}\n"
    loaded = load(
        write_config(tmp_path / "config", accounts=accounts, risk=BASE_RISK),
        {"RISK_MANAGER_LOG_LEVEL": value},
    )
    assert loaded.risk.general.logging.level == level
    assert loaded.effective_risk(1).general.logging.level == level


def test_a_bad_log_level_env_var_is_a_problem(tmp_path: Path) -> None:
    directory = write_config(tmp_path / "config")
    assert problems(lambda: load(directory, {"RISK_MANAGER_LOG_LEVEL": "loud"})) == [
        "environment: RISK_MANAGER_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR (got 'loud')"
    ]


# --------------------------------------------------------------------------- per-account configs


@pytest.mark.parametrize(
    ("base", "override", "merged"),
    [
        pytest.param({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}, {"a": {"b": 3, "c": 2}}, id="dicts-merge"),
        pytest.param({"a": [1, 2, 3]}, {"a": [4]}, {"a": [4]}, id="lists-replace"),
        pytest.param({"a": {"b": 1}}, {"a": None}, {"a": None}, id="null-replaces"),
        pytest.param({"a": 1}, {"b": {"c": 2}}, {"a": 1, "b": {"c": 2}}, id="new-keys-added"),
        pytest.param({"a": 1}, {"a": {"b": 2}}, {"a": {"b": 2}}, id="scalar-replaced-by-dict"),
    ],
)
def test_deep_merge(base: dict[str, Any], override: dict[str, Any], merged: dict[str, Any]) -> None:
    before = repr(base)
    assert deep_merge(base, override) == merged
    assert repr(base) == before


def test_overrides_deep_merge_over_the_base(tmp_path: Path) -> None:
    accounts = MINIMAL_ACCOUNTS + (
        "  - id: 2\n"
        "    overrides:\n"
        "      rules:\n"
        "        trade_frequency_limit: {limits: {per_minute: 2}}\n"
        "        cooldown_after_loss: {tiers: [{loss_amount: -50, duration: 1h}]}\n"
        "        symbol_blocks: null\n"
    )
    loaded = load(write_config(tmp_path / "config", accounts=accounts, risk=BASE_RISK))
    base, mine = loaded.effective_risk(1), loaded.effective_risk(2)
    assert base is loaded.risk
    assert mine.rules.trade_frequency_limit is not None and base.rules.trade_frequency_limit is not None
    assert (
        mine.rules.trade_frequency_limit.limits.per_minute,
        mine.rules.trade_frequency_limit.limits.per_hour,
    ) == (2, 10)
    assert mine.rules.cooldown_after_loss is not None
    assert [tier.loss_amount for tier in mine.rules.cooldown_after_loss.tiers] == [Decimal(-50)]
    assert mine.rules.symbol_blocks is None
    assert mine.rules.daily_realized_loss == base.rules.daily_realized_loss
    assert base.rules.trade_frequency_limit.limits.per_minute == 3


def test_override_problems_point_into_accounts_yaml(tmp_path: Path) -> None:
    accounts = MINIMAL_ACCOUNTS + (
        "  - id: 2\n"
        "    overrides:\n"
        "      rules:\n"
        "        daily_realized_loss: {limit: 400}\n"
        "        max_contracts: {enabled: true}\n"
        "        trade_frequency_limit: {limits: {per_minute: 20}}\n"
        "      extra: 1\n"
    )
    directory = write_config(tmp_path / "config", accounts=accounts, risk=BASE_RISK)
    assert problems(lambda: load(directory)) == [
        "config/accounts.yaml:11: accounts[1].overrides.rules.daily_realized_loss.limit: "
        "must be -1000000..-1 (got 400), e.g. -500.0",
        "config/accounts.yaml:12: accounts[1].overrides.rules.max_contracts.limit: required: "
        "an integer 1..1000, e.g. 5",
        "config/accounts.yaml:14: accounts[1].overrides.extra: unknown key; allowed: version, general, rules",
        "config/risk_config.yaml:9: rules.trade_frequency_limit.limits.per_hour: must be >= per_minute "
        "(20) (got 10)"
        " (in the effective config of account 2)",
    ]


def test_overrides_cannot_change_daemon_wide_settings(tmp_path: Path) -> None:
    accounts = (
        MINIMAL_ACCOUNTS + "    overrides: {general: {daily_reset: {time: '16:00'}, mark_price: mid}}\n"
    )
    directory = write_config(tmp_path / "config", accounts=accounts, risk=BASE_RISK)
    assert problems(lambda: load(directory)) == [
        "config/accounts.yaml:8: accounts[0].overrides.general.daily_reset: "
        "daemon-wide setting: set it in risk_config.yaml, not per account"
    ]


def test_per_account_general_keys_are_allowed(tmp_path: Path) -> None:
    accounts = MINIMAL_ACCOUNTS + "    overrides: {general: {mark_price: mid, pnl_includes_fees: false}}\n"
    loaded = load(write_config(tmp_path / "config", accounts=accounts, risk=BASE_RISK))
    general = loaded.effective_risk(1).general
    assert (general.mark_price, general.pnl_includes_fees) == ("mid", False)
    assert loaded.risk.general.mark_price == "last"


OWN_FILE = """\
general:
  mark_price: mid
rules:
  max_contracts: {enabled: true, limit: 2}
"""


def test_risk_config_file_replaces_the_rules_and_merges_general(tmp_path: Path) -> None:
    accounts = MINIMAL_ACCOUNTS + "  - id: 2\n    risk_config_file: combine.yaml\n"
    loaded = load(
        write_config(tmp_path / "config", accounts=accounts, risk=BASE_RISK, combine__yaml=OWN_FILE)
    )
    own = loaded.effective_risk(2)
    assert own.rules.max_contracts is not None and own.rules.max_contracts.limit == 2
    assert own.rules.daily_realized_loss is None
    assert own.general.mark_price == "mid"
    assert own.general.daily_reset == loaded.risk.general.daily_reset
    assert tmp_path / "config" / "combine.yaml" in loaded.files


def test_risk_config_file_problems_name_that_file(tmp_path: Path) -> None:
    accounts = MINIMAL_ACCOUNTS + "    risk_config_file: combine.yaml\n"
    own = "general:\n  control: {port: 9000}\nrules:\n  max_contracts: {enabled: true, limit: 0}\n"
    directory = write_config(tmp_path / "config", accounts=accounts, combine__yaml=own)
    assert problems(lambda: load(directory)) == [
        "config/combine.yaml:4: rules.max_contracts.limit: must be 1..1000 (got 0), e.g. 5"
    ]
    (directory / "combine.yaml").write_text(own.replace("limit: 0", "limit: 1"), encoding="utf-8")
    assert problems(lambda: load(directory)) == [
        "config/combine.yaml:2: general.control: daemon-wide setting: set it in risk_config.yaml, not "
        "per account"
    ]


def test_risk_config_file_must_exist_and_excludes_overrides(tmp_path: Path) -> None:
    accounts = (
        MINIMAL_ACCOUNTS
        + "    risk_config_file: missing.yaml\n  - id: 2\n    overrides: {}\n    risk_config_file: x\n"
    )
    directory = write_config(tmp_path / "config", accounts=accounts)
    assert problems(lambda: load(directory)) == [
        f"config/accounts.yaml:8: accounts[0].risk_config_file: file not found: {directory / 'missing.yaml'}",
        "config/accounts.yaml:11: accounts[1].risk_config_file: use either overrides or "
        "risk_config_file, not both",
        f"config/accounts.yaml:11: accounts[1].risk_config_file: file not found: {directory / 'x'}",
    ]


def test_effective_risk_by_entry_id_name_or_unlisted(tmp_path: Path) -> None:
    accounts = (
        MINIMAL_ACCOUNTS + "  - name: PRAC-1\n    overrides: {rules: {daily_realized_loss: {limit: -100}}}\n"
    )
    loaded = load(write_config(tmp_path / "config", accounts=accounts))
    entry = loaded.accounts.accounts[1]
    assert loaded.effective_risk(entry) is loaded.effective_risk("PRAC-1")
    assert loaded.effective_risk("PRAC-1") is not loaded.risk
    assert loaded.effective_risk(1) is loaded.risk
    assert loaded.effective_risk(424242) is loaded.risk


# --------------------------------------------------------------------------- warnings and paths


def test_rule_004_beyond_rule_003_is_a_warning_not_an_error(tmp_path: Path) -> None:
    risk = MINIMAL_RISK + "  daily_unrealized_loss: {enabled: true, limit: -600}\n"
    loaded = load(write_config(tmp_path / "config", risk=risk))
    assert [str(warning) for warning in loaded.warnings] == [
        "config/risk_config.yaml:4: rules.daily_unrealized_loss.limit: -600 <= "
        "rules.daily_realized_loss.limit "
        "(-500.0): the daily loss lock usually comes first, so this per-position limit may never act"
    ]


def test_problem_paths_are_relative_to_the_cwd_when_inside_it(tmp_path: Path) -> None:
    directory = write_config(tmp_path / "config", risk="rules: 5\n")
    found = problems(lambda: load_config_set(directory.absolute(), env={}, cwd=tmp_path))
    assert found[0].startswith("config/risk_config.yaml:1: rules: must be a mapping")
    outside = problems(lambda: load_config_set(directory.absolute(), env={}, cwd=tmp_path / "elsewhere"))
    assert outside[0].startswith(f"{directory.absolute()}/risk_config.yaml:1: rules: ")


@pytest.mark.parametrize(
    ("path", "cwd", "shown"),
    [
        pytest.param(
            "config/risk_config.yaml", "/srv/app", "config/risk_config.yaml", id="relative-as-given"
        ),
        pytest.param("/srv/app/config/a.yaml", "/srv/app", "config/a.yaml", id="absolute-inside"),
        pytest.param(
            "/etc/risk-manager/a.yaml", "/srv/app", "/etc/risk-manager/a.yaml", id="absolute-outside"
        ),
        pytest.param("../other/a.yaml", "/srv/app", "../other/a.yaml", id="relative-outside"),
    ],
)
def test_display_path(path: str, cwd: str, shown: str) -> None:
    assert display_path(Path(path), Path(cwd)) == shown


def test_display_path_defaults_to_the_process_cwd() -> None:
    assert display_path(Path.cwd() / "config" / "a.yaml") == os.path.join("config", "a.yaml")


def test_config_set_values_are_risk_configs(tmp_path: Path) -> None:
    loaded = load(write_config(tmp_path / "config"))
    assert isinstance(loaded.risk, RiskConfig)
    assert loaded.config_dir == tmp_path / "config"


def test_problems_group_by_file_even_when_found_later(tmp_path: Path) -> None:
    accounts = MINIMAL_ACCOUNTS + "    overrides: {rules: {max_contracts: {enabled: true}}}\n"
    risk = MINIMAL_RISK + "  symbol_blocks: {enabled: true}\nhelo: 1\n"
    directory = write_config(tmp_path / "config", accounts=accounts, risk=risk)
    found = problems(lambda: load(directory))
    assert [line.split(":")[0] for line in found] == ["config/risk_config.yaml"]
    directory = write_config(
        tmp_path / "config", accounts=accounts, risk=MINIMAL_RISK, holidays="holidays: 1\n"
    )
    found = problems(lambda: load(directory))
    assert [line.split(":")[0] for line in found] == ["config/accounts.yaml", "config/holidays.yaml"]
