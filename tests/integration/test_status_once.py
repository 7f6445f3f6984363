"""``risk_manager status --once/--json``: one frame from the database, with the daemon down too."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from risk_manager.cli.main import app

ROOT = Path(__file__).resolve().parents[2]

#: Both accounts lose canTrade at the broker: RULE-010 locks with no expiry, "until canTrade".
BROKER_LOCKS = {
    "start": "2026-03-10T14:00:00Z",
    "accounts": [
        {"id": 301, "name": "PRAC-301", "balance": 50000.0, "canTrade": True},
        {"id": 302, "name": "PRAC-302", "balance": 50000.0, "canTrade": True},
    ],
    "rules": {"auth_loss_guard": {"enabled": True}},
    "events": [
        {"at": "2026-03-10T14:00:05Z", "type": "GatewayUserAccount",
         "data": {"id": account, "name": f"PRAC-{account}", "balance": 50000.0, "canTrade": False}}
        for account in (301, 302)
    ],
}  # fmt: skip


def test_no_database_says_not_running_and_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "NOT RUNNING" in result.output and "python -m risk_manager run" in result.output


def test_locks_stay_visible_when_the_daemon_is_down(tmp_path: Path) -> None:
    runner = CliRunner()
    scenario = tmp_path / "broker_locks.yaml"
    scenario.write_text(yaml.safe_dump(BROKER_LOCKS))
    data = ["--data-dir", str(tmp_path / "data")]
    assert runner.invoke(app, ["replay", str(scenario), *data]).exit_code == 0
    result = runner.invoke(app, ["status", "--json", *data])
    assert result.exit_code == 1  # no daemon heartbeat: NOT RUNNING, last known state still shown
    frame = json.loads(result.stdout)
    assert frame["daemon"] == "NOT RUNNING"
    assert sorted(lock["account_id"] for lock in frame["locks"]) == [301, 302]
    assert {(lock["rule"], lock["kind"], lock["until"]) for lock in frame["locks"]} == {
        ("RULE-010", "broker", None)
    }
    assert [a["mode"] for a in frame["accounts"]] == ["LOCKED", "LOCKED"]
    assert frame["last_actions"] and {row["rule"] for row in frame["last_actions"]} == {"RULE-010"}
    text = runner.invoke(app, ["status", "--once", *data]).output
    assert "RULE-010" in text and "NOT RUNNING" in text and "until canTrade" in text


def test_a_lock_that_expired_while_the_daemon_was_down_is_over(tmp_path: Path) -> None:
    """RULE-003 locks end at the reset; the database still has them uncleared (the daemon clears
    them with ``expiry`` when it next starts), but they no longer hold, so none is shown."""
    runner = CliRunner()
    scenario = ROOT / "tests" / "scenarios" / "rule_003_unrealized_and_fees.yaml"  # a day in March 2026
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["replay", str(scenario), *data]).exit_code == 0
    frame = json.loads(runner.invoke(app, ["status", "--json", *data]).stdout)
    assert frame["locks"] == []
    assert frame["last_actions"]  # what happened is still there
    assert "LOCKED" not in runner.invoke(app, ["status", "--once", *data]).output
