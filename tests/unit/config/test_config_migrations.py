"""Versions (SPEC §8): missing = 1, higher = error, version 0 (roadmap format) migrates to 1."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from config_testkit import FIXTURES, MINIMAL_ACCOUNTS, MINIMAL_RISK, problems, write_config

from risk_manager.config import CURRENT_VERSION, load_config_set, migrate
from risk_manager.config.migrations import remap_lines

V0 = FIXTURES / "v0"


def test_version_zero_fixture_set_loads_as_version_one() -> None:
    loaded = load_config_set(V0, env={})
    assert loaded.accounts.gateway.firm == "topstepx"
    assert loaded.accounts.gateway.username == "trader@example.com"
    assert loaded.accounts.gateway.api_key.get_secret_value() == "v0-key"
    assert [entry.ref for entry in loaded.accounts.accounts] == [123, "PRAC-V2-1"]
    reset = loaded.risk.general.daily_reset
    assert (reset.time, reset.timezone) == (dt.time(18, 0), "America/Chicago")
    rules = loaded.risk.rules
    assert rules.max_contracts is not None and rules.max_contracts.limit == 3
    assert rules.daily_realized_loss is not None and rules.daily_realized_loss.limit == Decimal(-750)
    assert rules.symbol_blocks is not None and rules.symbol_blocks.blocked_symbols == ["RTY"]
    assert loaded.holidays is not None
    assert list(loaded.holidays.holiday_dates()) == [dt.date(2025, 12, 25), dt.date(2026, 1, 1)]
    assert loaded.holidays.early_close_times() == {
        dt.date(2025, 11, 28): dt.time(13),
        dt.date(2025, 12, 24): dt.time(13),
    }
    assert (loaded.accounts.version, loaded.risk.version, loaded.holidays.version) == (1, 1, 1)


@pytest.mark.parametrize(
    ("kind", "old", "new"),
    [
        pytest.param(
            "risk",
            {"version": 0, "reset_time": "18:00", "max_contracts": {"enabled": True, "limit": 3}},
            {
                "version": 1,
                "general": {"daily_reset": {"time": "18:00"}},
                "rules": {"max_contracts": {"enabled": True, "limit": 3}},
            },
            id="risk",
        ),
        pytest.param(
            "accounts",
            {"version": 0, "projectx": {"username": "u", "api_key": "k"}, "accounts": [{"id": 1}]},
            {
                "version": 1,
                "gateway": {"firm": "topstepx", "username": "u", "api_key": "k"},
                "accounts": [{"id": 1}],
            },
            id="accounts",
        ),
        pytest.param(
            "holidays",
            {"version": 0, "holidays": ["2025-12-25"], "early_closes": {"2025-11-28": "13:00"}},
            {
                "version": 1,
                "holidays": [{"date": "2025-12-25"}],
                "early_closes": [{"date": "2025-11-28", "close_time": "13:00"}],
            },
            id="holidays",
        ),
    ],
)
def test_each_kind_has_a_zero_to_one_step(kind: str, old: dict[str, object], new: dict[str, object]) -> None:
    migrated = migrate(kind, old)  # type: ignore[arg-type]
    assert (migrated.data, migrated.issues, migrated.from_version) == (new, [], 0)


@pytest.mark.parametrize("kind", ["risk", "accounts", "holidays"])
def test_missing_version_is_current_and_untouched(kind: str) -> None:
    migrated = migrate(kind, {"anything": 1})  # type: ignore[arg-type]
    assert migrated.data == {"anything": 1, "version": CURRENT_VERSION}
    assert (migrated.moves, migrated.issues) == ([], [])


def test_moves_keep_the_original_lines() -> None:
    migrated = migrate("risk", {"version": 0, "reset_time": "x", "max_contracts": {"limit": 1}})
    lines = remap_lines(
        {("reset_time",): 3, ("max_contracts",): 5, ("max_contracts", "limit"): 6}, migrated.moves
    )
    assert lines[("general", "daily_reset", "time")] == 3
    assert lines[("rules", "max_contracts", "limit")] == 6


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        pytest.param(
            "risk_config.yaml",
            "version: 0\nreset_time: '25:00'\nmax_contracts:\n  enabled: true\n  limit: 0\n",
            [
                "config/risk_config.yaml:2: general.daily_reset.time: "
                "must be a time HH:MM (00:00..23:59), e.g. 17:00 (got '25:00')",
                "config/risk_config.yaml:5: rules.max_contracts.limit: must be 1..1000 (got 0), e.g. 5",
            ],
            id="risk-problems-at-written-lines",
        ),
        pytest.param(
            "risk_config.yaml",
            "version: 0\nreset_time: '18:00'\ngeneral:\n  daily_reset: {time: '17:00'}\n",
            [
                "config/risk_config.yaml:2: reset_time: version 0 sets reset_time/timezone: remove "
                "general.daily_reset"
            ],
            id="risk-old-and-new-reset",
        ),
        pytest.param(
            "accounts.yaml",
            "version: 0\nprojectx:\n  username: u\n  api_key: k\n  password: p\naccounts: [{id: 1}]\n",
            [
                "config/accounts.yaml:5: gateway.password: unknown key; allowed: "
                "firm, api_url, user_hub_url, market_hub_url, username, api_key"
            ],
            id="accounts-problem-at-written-line",
        ),
        pytest.param(
            "accounts.yaml",
            "version: 0\nprojectx: {username: u}\ngateway: {firm: simulator}\naccounts: [{id: 1}]\n",
            ["config/accounts.yaml:2: projectx: set projectx (version 0) or gateway, not both"],
            id="accounts-old-and-new",
        ),
        pytest.param(
            "holidays.yaml",
            "version: 0\nholidays:\n  - 2025-12-25\n  - 2025-02-30\n",
            [
                "config/holidays.yaml:4: holidays[1].date: "
                "must be a date YYYY-MM-DD, e.g. 2025-12-25 (got '2025-02-30')"
            ],
            id="holidays-problem-at-written-line",
        ),
    ],
)
def test_problems_in_old_files_point_at_the_lines_written(
    tmp_path: Path, file: str, text: str, expected: list[str]
) -> None:
    files = {"accounts": MINIMAL_ACCOUNTS, "risk": MINIMAL_RISK, "holidays": None}
    files[{"risk_config.yaml": "risk", "accounts.yaml": "accounts", "holidays.yaml": "holidays"}[file]] = text
    write_config(tmp_path / "config", **files)
    assert problems(lambda: load_config_set(tmp_path / "config", env={}, cwd=tmp_path)) == expected


@pytest.mark.parametrize(
    ("file", "kind"),
    [("accounts.yaml", "accounts"), ("risk_config.yaml", "risk"), ("holidays.yaml", "holidays")],
)
def test_a_newer_version_is_refused_naming_the_supported_one(tmp_path: Path, file: str, kind: str) -> None:
    files = {"accounts": MINIMAL_ACCOUNTS, "risk": MINIMAL_RISK, "holidays": None}
    files[kind] = "# future\nversion: 2\nsomething_new: true\n"
    write_config(tmp_path / "config", **files)
    assert problems(lambda: load_config_set(tmp_path / "config", env={}, cwd=tmp_path)) == [
        f"config/{file}:2: version: version 2 is newer than this risk manager supports (1); upgrade "
        "risk-manager"
    ]


@pytest.mark.parametrize(
    ("version", "shown"), [("'1'", "'1'"), ("-1", "-1"), ("true", "true"), ("1.0", "1.0")]
)
def test_a_malformed_version_is_an_error(tmp_path: Path, version: str, shown: str) -> None:
    write_config(tmp_path / "config", risk=f"version: {version}\n")
    assert problems(lambda: load_config_set(tmp_path / "config", env={}, cwd=tmp_path)) == [
        f"config/risk_config.yaml:1: version: must be an integer 0..1 (got {shown})"
    ]
