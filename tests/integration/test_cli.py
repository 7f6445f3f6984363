"""The command line as a user meets it (SPEC §6, §8; ARCHITECTURE.md "Scenario and replay format").

Commands run in-process through typer's runner (stdout and stderr kept apart), and once
as a real ``python -m risk_manager`` process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from risk_manager import __version__
from risk_manager.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = ROOT / "examples" / "config"
DEMO = ROOT / "examples" / "scenarios" / "demo.yaml"
#: Subcommands this version ships (SPEC §6 lists more: status, admin, run, supervise, gateway, init).
SUBCOMMANDS = ("replay", "validate", "paths", "journal")
#: The form of every config and scenario problem (SPEC §8).
PROBLEM = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<key>[\w.\[\]]+): (?P<message>.+)$")


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


# -- help, version, usage ---------------------------------------------------------------------


@pytest.mark.slow
def test_python_dash_m_help_exits_0_and_lists_the_subcommands() -> None:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.run(
        [sys.executable, "-m", "risk_manager", "--help"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    assert "Usage: python -m risk_manager [OPTIONS] COMMAND [ARGS]..." in proc.stdout
    for name in SUBCOMMANDS:
        assert re.search(rf"^\W*{name}\s+\w", proc.stdout, re.MULTILINE), f"{name} not listed"
    assert "--version" in proc.stdout


def test_version_prints_the_package_version() -> None:
    result = invoke("--version")

    assert result.exit_code == 0
    assert result.stdout == f"risk-manager {__version__}\n"


@pytest.mark.parametrize("args", [["bogus"], ["journal", "bogus"]], ids=["top-level", "journal"])
def test_an_unknown_subcommand_exits_2_with_usage_on_stderr(args: list[str]) -> None:
    result = invoke(*args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: ")
    assert "No such command 'bogus'" in result.stderr


# -- validate ---------------------------------------------------------------------------------


def test_validate_accepts_the_example_config() -> None:
    result = invoke("validate", "--config-dir", str(EXAMPLE_CONFIG))

    assert result.exit_code == 0, result.output
    assert result.stdout == f"config OK: {EXAMPLE_CONFIG}\n"


def break_line(path: Path, old: str, new: str) -> int:
    """Replace ``old`` on the one line holding it; return that line's number (1-based)."""
    lines = path.read_text().splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if old in line]
    lines[index] = lines[index].replace(old, new)
    path.write_text("".join(lines))
    return index + 1


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "message"),
    [
        pytest.param(
            "risk_config.yaml", "limit: -500.0", "limit: 500",
            "rules.daily_realized_loss.limit", "must be -1000000..-1 (got 500)", id="RULE-003-positive-limit",
        ),
        pytest.param(
            "risk_config.yaml", "count_type: gross", "count_type: sideways",
            "rules.max_contracts.count_type", "must be one of gross, net (got 'sideways')", id="bad-enum",
        ),
        pytest.param(
            "risk_config.yaml", "grace_period_seconds: 10", "grace_period_seconds: 0",
            "rules.no_stop_loss_grace.grace_period_seconds", "must be 1..3600 (got 0)", id="out-of-range",
        ),
        pytest.param(
            "risk_config.yaml", "level: INFO", "level: LOUD",
            "general.logging.level", "(got 'LOUD')", id="general",
        ),
        pytest.param(
            "accounts.yaml", "- id: 1", "- id: 0", "accounts[0].id", "must be > 0 (got 0)", id="accounts",
        ),
    ],
)  # fmt: skip
def test_a_broken_config_exits_4_naming_file_line_and_key(
    tmp_path: Path, file: str, old: str, new: str, key: str, message: str
) -> None:
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE_CONFIG, config)
    line = break_line(config / file, old, new)

    result = invoke("validate", "--config-dir", str(config))

    assert result.exit_code == 4, result.output
    assert "config OK" not in result.stdout
    problem = PROBLEM.match(result.stderr.splitlines()[0])
    assert problem is not None, result.stderr
    assert (problem["path"], int(problem["line"]), problem["key"]) == (str(config / file), line, key)
    assert message in problem["message"]


def test_every_config_problem_is_reported_one_per_line(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE_CONFIG, config)
    limit = break_line(config / "risk_config.yaml", "limit: -500.0", "limit: 500")
    grace = break_line(config / "risk_config.yaml", "grace_period_seconds: 10", "grace_period_seconds: 0")

    result = invoke("validate", "--config-dir", str(config))

    assert result.exit_code == 4
    problems = [PROBLEM.match(line) for line in result.stderr.splitlines()]
    assert all(problems), result.stderr
    assert sorted((int(p["line"]), p["key"]) for p in problems if p) == [
        (limit, "rules.daily_realized_loss.limit"),
        (grace, "rules.no_stop_loss_grace.grace_period_seconds"),
    ]


# -- paths ------------------------------------------------------------------------------------


def test_paths_prints_the_directories_given(tmp_path: Path) -> None:
    result = invoke("paths", "--config-dir", str(tmp_path / "c"), "--data-dir", str(tmp_path / "d"))

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"config dir: {tmp_path / 'c'}", f"data dir:   {tmp_path / 'd'}"]


def test_paths_honours_the_environment_and_flags_win(tmp_path: Path) -> None:
    env = {
        "RISK_MANAGER_CONFIG_DIR": str(tmp_path / "env-c"),
        "RISK_MANAGER_DATA_DIR": str(tmp_path / "env-d"),
    }

    from_env = invoke("paths", env=env)
    flag_wins = invoke("paths", "--data-dir", str(tmp_path / "flag-d"), env=env)

    assert from_env.exit_code == flag_wins.exit_code == 0
    assert from_env.stdout.splitlines() == [
        f"config dir: {tmp_path / 'env-c'}",
        f"data dir:   {tmp_path / 'env-d'}",
    ]
    assert flag_wins.stdout.splitlines() == [
        f"config dir: {tmp_path / 'env-c'}",
        f"data dir:   {tmp_path / 'flag-d'}",
    ]


# -- replay -----------------------------------------------------------------------------------

SCENARIO_HEAD = """\
start: 2026-03-10T14:00:00Z
accounts:
  - {id: 101, name: PRAC-101}
events:
  - {at: 2026-03-10T14:00:01Z, type: GatewayQuote, contractId: CON.F.US.MNQ.H26, data: {lastPrice: 1.0}}
"""
#: The line of the event after SCENARIO_HEAD's quote.
NEXT_EVENT = 6


def replay_broken(tmp_path: Path, body: str) -> tuple[Any, Path, re.Match[str]]:
    path = tmp_path / "broken.yaml"
    path.write_text(SCENARIO_HEAD + body)
    result = invoke("replay", str(path), "--json")
    assert result.exit_code == 4, result.output
    assert result.stdout == ""
    where = re.match(rf"^{re.escape(str(path))}:(\d+):", result.stderr)
    assert where is not None, result.stderr
    return result, path, where


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            "  - {at: 2026-03-10T14:00:02Z, type: GatewayQuote}}\n",
            "YAML syntax error: expected <block end>, but found '}'", id="bad-yaml",
        ),
        pytest.param(
            "  - {at: 2026-03-10T14:00:02Z, type: GatewayFill, data: {id: 1}}\n",
            "events[1].type: must be one of GatewayUserAccount", id="unknown-event-type",
        ),
        pytest.param(
            "  - type: GatewayUserOrder\n    data: {id: 1}\n",
            "events[1].at: required", id="event-without-at",
        ),
    ],
)  # fmt: skip
def test_replay_of_a_malformed_scenario_exits_4_naming_file_and_line(
    tmp_path: Path, body: str, message: str
) -> None:
    result, _, where = replay_broken(tmp_path, body)

    assert int(where[1]) == NEXT_EVENT, result.stderr
    assert message in result.stderr.splitlines()[0]


def test_an_event_out_of_time_order_is_reported_at_its_own_line(tmp_path: Path) -> None:
    body = "  - {at: 2026-03-10T13:00:00Z, type: GatewayQuote, contractId: CON.F.US.MNQ.H26, data: {}}\n"

    result, _, where = replay_broken(tmp_path, body)

    assert "events[1]" in result.stderr
    assert int(where[1]) == NEXT_EVENT, result.stderr


def test_replay_of_a_missing_file_exits_4(tmp_path: Path) -> None:
    result = invoke("replay", str(tmp_path / "nowhere.yaml"))

    assert result.exit_code == 4
    assert str(tmp_path / "nowhere.yaml") in result.stderr


def test_replay_json_prints_only_json_lines_on_stdout() -> None:
    result = invoke("replay", str(DEMO), "--json")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines, "the demo takes actions"
    records = [json.loads(line) for line in lines]  # any other line would not parse
    assert all(isinstance(r, dict) and {"at", "account_id", "action", "reason"} <= r.keys() for r in records)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", r["at"]) for r in records)
    assert all(("rule" in r) == (r["action"] != "reset") for r in records)


def test_the_readable_replay_of_the_demo_tells_what_happened_and_why() -> None:
    result = invoke("replay", str(DEMO))

    assert result.exit_code == 0, result.output
    text = result.stdout
    assert re.search(r"RULE-001\s+REDUCE .*gross contracts 6 > 5", text)
    daily_loss = r"daily P&L -\d+\.\d\d <= -500\.00"  # SPEC §2: the reason carries the numbers
    assert re.search(rf"RULE-003\s+LOCKOUT .*until=2026-03-10T21:00:00Z.*{daily_loss}", text)
    assert re.search(rf"RULE-003\s+CANCEL ALL .*{daily_loss}", text)
    assert re.search(rf"RULE-003\s+CLOSE ALL .*{daily_loss}", text)
    assert re.search(r"RULE-003\s+CANCEL ORDER .*order 3 placed while locked by RULE-003", text)
    assert re.search(r"RESET .*daily reset: trading day 2026-03-11", text)
    assert "RULE-003 lock cleared by reset" in text
    assert text.rstrip().endswith("7 records: 1 locks, 4 enforcement actions.")
