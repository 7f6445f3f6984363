"""Command-line words -> control-API edits: value parsing, key paths, rules, accounts, diffs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from risk_manager.cli.admin.edits import (
    EditError,
    diff_edits,
    key_path,
    parse_accounts_text,
    parse_value,
    rule_edit,
    rule_id,
)
from risk_manager.control.protocol import Edit, mask

ACCOUNTS = yaml.safe_load("""
accounts:
  - {id: 1}
  - {id: 2, overrides: {rules: {}}}
  - {name: PRAC-V2-1}
  - {id: 4, risk_config_file: own.yaml}
""")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("-400", -400, id="int"),
        pytest.param("-400.5", -400.5, id="float"),
        pytest.param("true", True, id="bool"),
        pytest.param("yes", "yes", id="yes-is-text-as-in-the-loader"),
        pytest.param("17:00", "17:00", id="time-stays-text-not-sexagesimal"),
        pytest.param("5m", "5m", id="duration"),
        pytest.param("[RTY, M2K]", ["RTY", "M2K"], id="list"),
        pytest.param("{MNQ: 4, ES: 1}", {"MNQ": 4, "ES": 1}, id="mapping"),
        pytest.param("null", None, id="null"),
        pytest.param("", None, id="empty-is-null"),
        pytest.param("${LIMIT:-5}", "${LIMIT:-5}", id="env-reference-kept-for-the-loader"),
        pytest.param("'500'", "500", id="quoted-is-text"),
    ],
)
def test_parse_value(text: str, value: Any) -> None:
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


def test_parse_value_syntax_error_says_so() -> None:
    with pytest.raises(EditError, match="cannot read the value"):
        parse_value("[RTY, M2K")


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("limit", ["limit"]),
        ("breakeven.enabled", ["breakeven", "enabled"]),
        ("tiers.0.duration", ["tiers", 0, "duration"]),
        ("tiers[1].loss_amount", ["tiers", 1, "loss_amount"]),
        ("limits.MNQ", ["limits", "MNQ"]),
    ],
)
def test_key_path(key: str, path: list[object]) -> None:
    assert key_path(key) == path


def test_key_path_rejects_empty_parts() -> None:
    with pytest.raises(EditError, match="empty part"):
        key_path("breakeven..enabled")


@pytest.mark.parametrize("rule", ["RULE-003", "rule-003", "daily_realized_loss"])
def test_rule_edit_in_risk_config(rule: str) -> None:
    assert rule_edit(rule, "limit", -400) == Edit(
        file="risk_config.yaml", path=["rules", "daily_realized_loss", "limit"], value=-400
    )
    assert rule_id(rule) == "RULE-003"


def test_rule_edit_nested_key() -> None:
    edit = rule_edit("RULE-012", "breakeven.enabled", False)
    assert edit.path == ["rules", "trade_management", "breakeven", "enabled"] and edit.value is False


@pytest.mark.parametrize(("account", "index"), [("1", 0), ("2", 1), ("PRAC-V2-1", 2)])
def test_rule_edit_in_an_accounts_overrides(account: str, index: int) -> None:
    edit = rule_edit("max_contracts", "limit", 2, account=account, accounts_data=ACCOUNTS)
    assert edit == Edit(
        file="accounts.yaml",
        path=["accounts", index, "overrides", "rules", "max_contracts", "limit"],
        value=2,
    )


def test_rule_edit_refuses_an_account_with_its_own_rules_file() -> None:
    with pytest.raises(EditError, match=r"takes its rules from own\.yaml"):
        rule_edit("max_contracts", "limit", 2, account="4", accounts_data=ACCOUNTS)


def test_rule_edit_unknown_account_and_rule() -> None:
    with pytest.raises(EditError, match=r"account 9 is not in accounts\.yaml"):
        rule_edit("max_contracts", "limit", 2, account="9", accounts_data=ACCOUNTS)
    with pytest.raises(EditError, match="unknown rule 'RULE-099'"):
        rule_edit("RULE-099", "limit", 2)


def test_diff_edits_key_by_key_lists_whole_deletes_for_gone_keys() -> None:
    old = {"enabled": True, "limits": {"MNQ": 4, "ES": 1}, "blocked": ["RTY"], "default_limit": 2}
    new = {"enabled": True, "limits": {"MNQ": 3, "NQ": 1}, "blocked": ["RTY", "M2K"], "default_limit": 2}
    edits = diff_edits(old, new, ["rules", "x"])
    assert edits == [
        Edit(file="risk_config.yaml", path=["rules", "x", "limits", "MNQ"], value=3),
        Edit(file="risk_config.yaml", path=["rules", "x", "limits", "NQ"], value=1),
        Edit(file="risk_config.yaml", path=["rules", "x", "limits", "ES"], delete=True),
        Edit(file="risk_config.yaml", path=["rules", "x", "blocked"], value=["RTY", "M2K"]),
    ]


def test_diff_edits_sees_a_type_change() -> None:
    # 5 -> 5.0 is the same number; true -> 1 is not the same value in YAML
    assert diff_edits({"a": 5}, {"a": 5}, []) == []
    assert diff_edits({"a": True}, {"a": 1}, ["r"]) == [
        Edit(file="risk_config.yaml", path=["r", "a"], value=1)
    ]


@pytest.mark.parametrize(
    ("secret", "shown"),
    [("abcdefghijklmnop", "****mnop"), ("12345678", "****"), ("short", "****"), ("123456789", "****6789")],
)
def test_mask_shows_at_most_the_last_four(secret: str, shown: str) -> None:
    assert mask(secret) == shown


def test_accounts_text_with_bare_masks_still_parses() -> None:
    # the daemon's view masks in place; a bare * would start a YAML alias
    text = "gateway:\n  username: ****\n  api_key: ****abcd\naccounts:\n- id: 2\n  label: two\n"
    assert parse_accounts_text(text) == {
        "gateway": {"username": "****", "api_key": "****abcd"},
        "accounts": [{"id": 2, "label": "two"}],
    }
