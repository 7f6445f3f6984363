"""Each rule has its page, and each page's worked example is a real, replayable scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from risk_manager.cli.main import app
from risk_manager.config.risk import RULE_IDS
from risk_manager.docs.pages import (
    PLACEHOLDER,
    GenerationError,
    expand,
    render_rule_scenarios,
    run_replay,
    scenario_rule,
    scenarios_in,
)

ROOT = Path(__file__).resolve().parents[2]
RULES = sorted(RULE_IDS.items(), key=lambda item: item[1])
NAV = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("key", "rule_id"), RULES, ids=[rule_id for _, rule_id in RULES])
def test_each_rule_has_a_page_with_its_keys_and_a_scenario_of_its_own(key: str, rule_id: str) -> None:
    page = ROOT / "docs" / "rules" / f"{key}.md"
    assert page.is_file(), f"{rule_id}: docs/rules/{key}.md is missing"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {rule_id} ")
    assert f"rules/{key}.md" in NAV, f"{rule_id} is not in mkdocs.yml's nav"
    assert f"<!-- generated: keys rules.{key} -->" in text
    scenarios = scenarios_in(text)
    assert scenarios, f"{rule_id}: no worked example"
    for scenario in scenarios:
        assert (ROOT / scenario).is_file(), scenario
        assert scenario_rule(scenario) == rule_id, f"{scenario} is not a {rule_id} scenario"
        assert (ROOT / scenario).with_suffix("").with_suffix(".expected.jsonl").is_file()
    for section in ("## When it is checked", "## What it does", "## What you see on the status screen"):
        assert section in text, f"{rule_id}: {section} missing"


def test_every_placeholder_in_the_manual_expands() -> None:
    """A cheap build: every page filled, with replays stubbed (the real ones run in mkdocs build)."""
    pages = [p for p in (ROOT / "docs").rglob("*.md") if "hooks" not in p.parts]
    stub = {s: "(replay output)" for p in pages for s in scenarios_in(p.read_text(encoding="utf-8"))}
    for page in pages:
        out = expand(page.read_text(encoding="utf-8"), ROOT, stub)
        assert not PLACEHOLDER.search(out), page


def test_the_embedded_output_is_what_replay_prints_for_the_stored_actions() -> None:
    scenario = "tests/scenarios/rule_003_lock_restart_reset.yaml"
    shown = run_replay(scenario, ROOT)
    expected = [json.loads(line) for line in (ROOT / scenario).with_suffix("").with_suffix(".expected.jsonl")
                .read_text().splitlines() if line.strip()]  # fmt: skip
    lines = [line for line in shown.splitlines() if line.startswith("2026-")]
    assert len(lines) == len(expected)
    for line, action in zip(lines, expected, strict=True):
        assert action["action"].upper().replace("_", " ") in line
        assert action["reason"] in line
    assert "\x1b[" not in shown  # no colour codes on the page
    page = expand(f"<!-- generated: scenario {scenario} -->", ROOT, {scenario: shown})
    assert f"$ python -m risk_manager replay {scenario}" in page and shown in page
    assert "daily_realized_loss: {enabled: true, limit: -500.0" in page  # the file itself, folded


def test_a_missing_scenario_or_unknown_placeholder_stops_the_build() -> None:
    with pytest.raises(GenerationError, match="scenario not found"):
        expand("<!-- generated: scenario tests/scenarios/nope.yaml -->", ROOT, {})
    with pytest.raises(GenerationError, match="unknown placeholder"):
        expand("<!-- generated: nonsense -->", ROOT, {})
    with pytest.raises(GenerationError, match="no scenario for RULE-099"):
        render_rule_scenarios("RULE-099", ROOT)


def test_a_failing_replay_stops_the_build(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("start: 2026-03-10T14:00:00Z\naccounts: []\n")
    assert CliRunner().invoke(app, ["replay", str(bad)]).exit_code == 4
    with pytest.raises(GenerationError, match="exited 4"):
        run_replay(str(bad), ROOT)
