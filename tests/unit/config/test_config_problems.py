"""ConfigProblem and ConfigError print SPEC §8's one-line forms."""

from __future__ import annotations

import pytest

from risk_manager.config import ConfigError, ConfigProblem, format_key


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        pytest.param(
            ConfigProblem(
                "config/risk_config.yaml",
                14,
                "rules.daily_realized_loss.limit",
                "must be -1000000..-1 (got 500.0), e.g. -500.0",
            ),
            "config/risk_config.yaml:14: rules.daily_realized_loss.limit: must be -1000000..-1 (got "
            "500.0), e.g. -500.0",
            id="key-problem",
        ),
        pytest.param(
            ConfigProblem.syntax("config/accounts.yaml", 3, 7, "mapping values are not allowed here"),
            "config/accounts.yaml:3:7: YAML syntax error: mapping values are not allowed here",
            id="syntax",
        ),
        pytest.param(
            ConfigProblem("config/accounts.yaml", None, "", "file not found"),
            "config/accounts.yaml: file not found",
            id="no-line-no-key",
        ),
        pytest.param(
            ConfigProblem("environment", None, "RISK_MANAGER_LOG_LEVEL", "must be one of DEBUG"),
            "environment: RISK_MANAGER_LOG_LEVEL: must be one of DEBUG",
            id="environment",
        ),
    ],
)
def test_problem_prints_in_spec_form(problem: ConfigProblem, text: str) -> None:
    assert str(problem) == text


def test_config_error_prints_one_problem_per_line_and_keeps_them() -> None:
    first = ConfigProblem("a.yaml", 1, "x", "bad")
    second = ConfigProblem("b.yaml", 2, "y.z", "worse")
    error = ConfigError([first, second])
    assert str(error) == "a.yaml:1: x: bad\nb.yaml:2: y.z: worse"
    assert error.problems == [first, second]


@pytest.mark.parametrize(
    ("path", "key"),
    [
        pytest.param(("rules", "max_contracts", "limit"), "rules.max_contracts.limit", id="dotted"),
        pytest.param(("accounts", 1, "id"), "accounts[1].id", id="list-index"),
        pytest.param(
            ("rules", "cooldown_after_loss", "tiers", 0),
            "rules.cooldown_after_loss.tiers[0]",
            id="last-index",
        ),
        pytest.param((), "", id="root"),
    ],
)
def test_format_key(path: tuple[str | int, ...], key: str) -> None:
    assert format_key(path) == key
