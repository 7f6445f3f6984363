"""``risk_manager status --once/--json``: one frame from the database, with the daemon down too."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from risk_manager.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def test_no_database_says_not_running_and_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "NOT RUNNING" in result.output and "python -m risk_manager run" in result.output


def test_locks_stay_visible_when_the_daemon_is_down(tmp_path: Path) -> None:
    runner = CliRunner()
    scenario = ROOT / "tests" / "scenarios" / "rule_003_unrealized_and_fees.yaml"
    assert runner.invoke(app, ["replay", str(scenario), "--data-dir", str(tmp_path)]).exit_code == 0
    result = runner.invoke(app, ["status", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1  # no daemon heartbeat: NOT RUNNING, last known state still shown
    frame = json.loads(result.stdout)
    assert frame["daemon"] == "NOT RUNNING"
    assert sorted(lock["account_id"] for lock in frame["locks"]) == [301, 302]
    assert {lock["rule"] for lock in frame["locks"]} == {"RULE-003"}
    assert frame["last_actions"] and all(row["rule"] == "RULE-003" for row in frame["last_actions"])
    text = runner.invoke(app, ["status", "--data-dir", str(tmp_path)]).output
    assert "RULE-003" in text and "NOT RUNNING" in text
