"""Every scenario under tests/scenarios/ replays to exactly its stored actions.

The expected output of ``X.yaml`` is ``X.expected.jsonl`` (ARCHITECTURE.md). The replay
runs through the real command (``risk_manager replay --json``) in-process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from risk_manager.cli.main import app

HERE = Path(__file__).parent
SCENARIOS = sorted(HERE.glob("*.yaml"))


def replay_json(path: Path, *extra: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["replay", str(path), "--json", *extra])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_replays_to_its_expected_actions(path: Path) -> None:
    expected_file = path.with_suffix("").with_suffix(".expected.jsonl")
    assert expected_file.exists(), f"{expected_file.name} is missing"
    expected = [json.loads(line) for line in expected_file.read_text().splitlines() if line.strip()]
    assert replay_json(path) == expected


def test_every_scenario_has_an_expected_file_and_the_demo_runs() -> None:
    assert len(SCENARIOS) >= 4
    demo = HERE.parent.parent / "examples" / "scenarios" / "demo.yaml"
    actions = [a["action"] for a in replay_json(demo)]
    assert actions == ["reduce", "lockout", "cancel_all", "close_all", "cancel_order", "reset", "unlock"]
