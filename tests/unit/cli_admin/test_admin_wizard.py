"""The rule wizard's questions, driven through CliRunner with typed input.

Each answer is checked at once against the rule's model: a bad one prints the loader's
message and is asked again; the block the admin leaves is returned.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from pydantic import BaseModel
from typer.testing import CliRunner, Result

from risk_manager.cli.admin.wizard import Wizard, key_facts, yaml_text
from risk_manager.config.risk import (
    BreakevenConfig,
    DailyRealizedLossConfig,
    MaxContractsConfig,
    SymbolBlocksConfig,
    TradeFrequencyLimitConfig,
    TradeManagementConfig,
)


def ask(model: type[BaseModel], current: dict[str, Any] | None, answers: list[str]) -> tuple[Result, Any]:
    app = typer.Typer()

    @app.command()
    def wizard() -> None:
        typer.echo("RESULT " + json.dumps(Wizard(model, current).run()))

    result = CliRunner().invoke(app, [], input="".join(f"{a}\n" for a in answers))
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("RESULT "))
    return result, json.loads(line.removeprefix("RESULT "))


def test_each_key_shows_value_type_range_and_default() -> None:
    result, block = ask(MaxContractsConfig, {"enabled": True, "limit": 5}, ["", "", "", ""])
    assert "limit: integer 1..1000; default required; now 5" in result.output
    assert "count_type: one of gross, net; default gross; now absent (default gross)" in result.output
    assert "enforcement: one of reduce_to_limit, close_all; default reduce_to_limit" in result.output
    assert block == {"enabled": True, "limit": 5}  # Enter keeps, absent stays absent


def test_a_bad_answer_is_explained_and_asked_again() -> None:
    result, block = ask(
        DailyRealizedLossConfig, {"enabled": True, "limit": -500.0}, ["", "500", "abc", "-400", "false"]
    )
    assert "limit: must be -1000000..-1 (got 500)" in result.output
    assert "limit: must be a number -1000000..-1 (got 'abc')" in result.output
    assert block == {"enabled": True, "limit": -400, "include_unrealized": False}


def test_strict_types_as_in_the_files() -> None:
    result, block = ask(
        DailyRealizedLossConfig, {"enabled": True, "limit": -500.0}, ["", "-500.0", "yes", "'true'", "true"]
    )
    assert "must be true or false (got 'yes')" in result.output
    assert "must be true or false (got 'true')" in result.output
    assert block["include_unrealized"] is True


def test_a_new_rule_needs_its_required_keys() -> None:
    result, block = ask(MaxContractsConfig, None, ["true", "", "3", "net", ""])
    assert "required: give a value" in result.output
    assert block == {"enabled": True, "limit": 3, "count_type": "net"}


def test_disabling_asks_nothing_else() -> None:
    result, block = ask(MaxContractsConfig, {"enabled": True, "limit": 5}, ["false"])
    assert block == {"enabled": False, "limit": 5}
    assert "limit:" not in result.output


def test_cross_key_check_bites_at_the_later_key() -> None:
    current = {"enabled": True, "breakeven": {"enabled": True, "trigger_ticks": 20, "offset_ticks": 1}}
    answers = ["", "n", "n", "", "", "20", "5", "n"]  # sl, tp offered; breakeven keys; offset 20 refused
    result, block = ask(TradeManagementConfig, current, answers)
    assert "breakeven.offset_ticks: must be < trigger_ticks (20) (got 20)" in result.output
    assert block["breakeven"] == {"enabled": True, "trigger_ticks": 20, "offset_ticks": 5}
    assert "auto_stop_loss" not in block and "trailing_stop" not in block


def test_an_absent_sub_block_is_offered_then_asked_key_by_key() -> None:
    answers = ["true", "y", "true", "40", "n", "n", "n"]
    result, block = ask(TradeManagementConfig, None, answers)
    assert "set up auto_stop_loss (absent now)" in result.output
    assert "auto_stop_loss.ticks: integer 1..10000" in result.output
    assert block == {"enabled": True, "auto_stop_loss": {"enabled": True, "ticks": 40}}


def test_nested_required_model_and_window_order() -> None:
    current = {"enabled": True, "limits": {"per_minute": 3, "per_hour": 10}}
    # enabled, per_minute kept, per_hour 2 (< per_minute 3: refused) then kept, the rest left as is
    result, block = ask(TradeFrequencyLimitConfig, current, ["", "", "2", "", "", "", "", ""])
    assert "limits.per_hour: must be >= per_minute (3) (got 2)" in result.output
    assert block["limits"] == {"per_minute": 3, "per_hour": 10}


def test_lists_are_typed_as_yaml() -> None:
    result, block = ask(
        SymbolBlocksConfig, {"enabled": True, "blocked_symbols": ["RTY"]}, ["", "[RTY, 'M2K', '*ES']"]
    )
    assert "now [RTY]" in result.output
    assert block["blocked_symbols"] == ["RTY", "M2K", "*ES"]


def test_facts_of_a_key() -> None:
    info = BreakevenConfig.model_fields["offset_ticks"]
    facts = key_facts(TradeManagementConfig, ("breakeven", "offset_ticks"), info)
    assert (facts.type, facts.range, facts.default) == ("integer", "0..10000", "0")
    assert yaml_text({"per_minute": 3}) == "{per_minute: 3}"
