"""classify: which config changes tighten (apply now) and which loosen (wait for the reset), SPEC §4.7.

Each case edits the shipped example set and is classified both ways: forward (example ->
edited) and back (edited -> example), since undoing a tightening is a loosening.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import pytest
from config_testkit import EXAMPLES
from pydantic import BaseModel

from risk_manager.config import AccountsConfig, ConfigSet, HolidaysConfig, RiskConfig
from risk_manager.config.change_plan import validate_texts
from risk_manager.config.direction import KEYS, classify
from risk_manager.config.edits import apply_edits
from risk_manager.config.risk import RULE_IDS
from risk_manager.control.protocol import Edit

FILES = ("accounts.yaml", "risk_config.yaml", "holidays.yaml")
R, A, H = "risk_config.yaml", "accounts.yaml", "holidays.yaml"
T, L, N = "tighten", "loosen", "neutral"


@pytest.fixture(scope="module")
def example_texts() -> dict[str, str]:
    return {name: (EXAMPLES / name).read_text(encoding="utf-8") for name in FILES}


@pytest.fixture(scope="module")
def example_set(example_texts: dict[str, str]) -> ConfigSet:
    return validate_texts(EXAMPLES, example_texts, env={})


def e(file: str, *path: str | int, value: Any = None, delete: bool = False) -> Edit:
    return Edit(file=file, path=list(path), value=value, delete=delete)  # type: ignore[arg-type]


def rule(*path: str | int, value: Any = None, delete: bool = False) -> Edit:
    return e(R, "rules", *path, value=value, delete=delete)


def general(*path: str | int, value: Any = None) -> Edit:
    return e(R, "general", *path, value=value)


def case(
    name: str, *edits: Edit, fwd: str, back: str, keys: list[str | tuple[str, str]] | None = None
) -> Any:
    """One table row: edits on the example set, the changed keys (default: the one edit's
    path; an account's as (key, account)), the direction forward and back."""
    if keys is None:
        keys = [".".join(_dotted(list(edits[0].path)))]
    return pytest.param(list(edits), keys, fwd, back, id=name)


def _dotted(path: list[str | int]) -> list[str]:
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
        else:
            parts.append(part)
    return parts


MC, MCI, TM = "max_contracts", "max_contracts_per_instrument", "trade_management"
TFL, CAL, SBO = "trade_frequency_limit", "cooldown_after_loss", "session_block_outside"
DRL, DRP = "daily_realized_loss", "daily_realized_profit"
TIER_KEY = [f"rules.{CAL}.tiers"]
REORDERED_TIERS = [
    {"loss_amount": -300.0, "duration": "30m"},
    {"loss_amount": -100.0, "duration": "5m"},
    {"loss_amount": -200.0, "duration": "15m"},
]

CASES = [
    # RULE-001
    case("001-limit-up", rule(MC, "limit", value=8), fwd=L, back=T),
    case("001-gross-to-net", rule(MC, "count_type", value="net"), fwd=L, back=T),
    case("001-close-all", rule(MC, "enforcement", value="close_all"), fwd=T, back=L),
    case("001-disabled", rule(MC, "enabled", value=False), keys=[f"rules.{MC}"], fwd=L, back=T),
    case("001-block-removed", rule(MC, delete=True), fwd=L, back=T),
    # RULE-002: what each symbol may hold, through limits -> default_limit -> block/allow
    case("002-symbol-limit-up", rule(MCI, "limits", "MNQ", value=6), fwd=L, back=T),
    case("002-symbol-limit-added-over-block", rule(MCI, "limits", "RTY", value=1), fwd=L, back=T),
    case("002-symbol-limit-removed-falls-to-block", rule(MCI, "limits", "MNQ", delete=True), fwd=T, back=L),
    case(
        "002-symbol-limit-removed-falls-to-higher-default",
        rule(MCI, "default_limit", value=10),
        rule(MCI, "limits", "MNQ", delete=True),
        keys=[f"rules.{MCI}.limits.MNQ", f"rules.{MCI}.default_limit"],
        fwd=L,
        back=T,
    ),
    case("002-default-limit", rule(MCI, "default_limit", value=2), fwd=L, back=T),
    case("002-allow-unlisted", rule(MCI, "unknown_symbol_action", value="allow"), fwd=L, back=T),
    case("002-close-all", rule(MCI, "enforcement", value="close_all"), fwd=T, back=L),
    # RULE-003
    case("003-limit-more-negative", rule(DRL, "limit", value=-600.0), fwd=L, back=T),
    case("003-include-unrealized", rule(DRL, "include_unrealized", value=False), fwd=L, back=L),
    case("003-disabled", rule(DRL, "enabled", value=False), keys=[f"rules.{DRL}"], fwd=L, back=T),
    # RULE-004, RULE-005
    case("004-limit", rule("daily_unrealized_loss", "limit", value=-350.0), fwd=L, back=T),
    case("005-target-up", rule("max_unrealized_profit", "target", value=600.0), fwd=L, back=T),
    # RULE-006
    case("006-limit-up", rule(TFL, "limits", "per_minute", value=5), fwd=L, back=T),
    case("006-window-off", rule(TFL, "limits", "per_minute", value=None), fwd=L, back=T),
    case("006-cooldown-shorter", rule(TFL, "cooldowns", "per_hour", value="10m"), fwd=L, back=T),
    # RULE-007: the cooldown every loss gets
    case("007-tier-shorter", rule(CAL, "tiers", 0, "duration", value="2m"), keys=TIER_KEY, fwd=L, back=T),
    case("007-deepest-tier-removed", rule(CAL, "tiers", 2, delete=True), keys=TIER_KEY, fwd=L, back=T),
    case(
        "007-first-tier-deeper",
        rule(CAL, "tiers", 0, "loss_amount", value=-150.0),
        keys=TIER_KEY,
        fwd=L,
        back=T,
    ),
    case(
        "007-deeper-tier-added",
        rule(CAL, "tiers", 3, value={"loss_amount": -500.0, "duration": "2h"}),
        keys=TIER_KEY,
        fwd=T,
        back=L,
    ),
    case("007-reordered", rule(CAL, "tiers", value=REORDERED_TIERS), fwd=N, back=N),
    # RULE-008
    case("008-grace-longer", rule("no_stop_loss_grace", "grace_period_seconds", value=20), fwd=L, back=T),
    # RULE-009: any window or zone change waits
    case("009-window", rule(SBO, "session", "start", value="09:00"), fwd=L, back=L),
    case("009-timezone", rule(SBO, "session", "timezone", value="America/Chicago"), fwd=L, back=L),
    case("009-days", rule(SBO, "session", "days", value=["mon", "tue"]), fwd=L, back=L),
    case("009-per-instrument", rule(SBO, "per_instrument", "CL", delete=True), fwd=L, back=L),
    case("009-holidays-ignored", rule(SBO, "respect_holidays", value=False), fwd=L, back=T),
    case("009-no-close-at-end", rule(SBO, "close_at_session_end", value=False), fwd=L, back=T),
    # RULE-010
    case("010-slower-poll", rule("auth_loss_guard", "poll_interval_seconds", value=60), fwd=L, back=T),
    case(
        "010-disabled",
        rule("auth_loss_guard", "enabled", value=False),
        keys=["rules.auth_loss_guard"],
        fwd=L,
        back=T,
    ),
    # RULE-011
    case("011-symbol-unblocked", rule("symbol_blocks", "blocked_symbols", value=["RTY"]), fwd=L, back=T),
    case("011-symbol-swapped", rule("symbol_blocks", "blocked_symbols", value=["RTY", "CL"]), fwd=L, back=L),
    case("011-reordered", rule("symbol_blocks", "blocked_symbols", value=["M2K", "RTY"]), fwd=N, back=N),
    # RULE-012
    case("012-wider-stop", rule(TM, "auto_stop_loss", "ticks", value=60), fwd=L, back=T),
    case(
        "012-stop-off",
        rule(TM, "auto_stop_loss", "enabled", value=False),
        keys=[f"rules.{TM}.auto_stop_loss"],
        fwd=L,
        back=T,
    ),
    case("012-stop-removed", rule(TM, "auto_stop_loss", delete=True), fwd=L, back=T),
    case(
        "012-target-on",
        rule(TM, "auto_take_profit", "enabled", value=True),
        keys=[f"rules.{TM}.auto_take_profit"],
        fwd=T,
        back=L,
    ),
    case("012-target-while-off", rule(TM, "auto_take_profit", "ticks", value=120), fwd=N, back=N),
    case("012-breakeven-later", rule(TM, "breakeven", "trigger_ticks", value=30), fwd=L, back=T),
    case("012-breakeven-offset", rule(TM, "breakeven", "offset_ticks", value=0), fwd=L, back=T),
    case("012-trail-wider", rule(TM, "trailing_stop", "trail_ticks", value=30), fwd=L, back=T),
    case("012-trail-later", rule(TM, "trailing_stop", "activation_ticks", value=60), fwd=L, back=T),
    case("012-disabled", rule(TM, "enabled", value=False), keys=[f"rules.{TM}"], fwd=L, back=T),
    # RULE-013
    case("013-target-up", rule(DRP, "target", value=1500.0), fwd=L, back=T),
    case("013-include-unrealized", rule(DRP, "include_unrealized", value=False), fwd=L, back=L),
    case("013-message", rule(DRP, "message", value="Done."), fwd=N, back=N),
    case("013-disabled", rule(DRP, "enabled", value=False), keys=[f"rules.{DRP}"], fwd=L, back=T),
    # general
    case("reset-time", general("daily_reset", "time", value="18:00"), fwd=L, back=L),
    case("reset-timezone", general("daily_reset", "timezone", value="America/Chicago"), fwd=L, back=L),
    case("gross-pnl", general("pnl_includes_fees", value=False), fwd=L, back=T),
    case("mark-price", general("mark_price", value="mid"), fwd=L, back=L),
    case("admin-unlock-off", general("allow_admin_unlock", value=False), fwd=T, back=L),
    case(
        "tick-spec",
        general("instruments", "MNQ", "tick_value", value=0.25),
        keys=["general.instruments.MNQ"],
        fwd=L,
        back=L,
    ),
    case(
        "alias",
        general("symbol_aliases", value={"XYZ": "RTY"}),
        keys=["general.symbol_aliases.XYZ"],
        fwd=L,
        back=L,
    ),
    case("unlisted-unprotected", general("protect_unlisted_accounts", value=False), fwd=L, back=T),
    case("watchdog-flattens", general("watchdog", "flatten_on_stale", value=True), fwd=T, back=L),
    case("watchdog-slower", general("watchdog", "stale_seconds", value=30), fwd=L, back=T),
    case("logging", general("logging", "level", value="DEBUG"), fwd=N, back=N),
    case("control-port", general("control", "port", value=8800), fwd=N, back=N),
    case("metrics", general("metrics", "enabled", value=True), fwd=N, back=N),
    case("backups", general("backups", "keep", value=3), fwd=N, back=N),
    # accounts
    case("account-removed", e(A, "accounts", 1, delete=True), keys=[("accounts[1]", "2")], fwd=L, back=T),
    case(
        "account-disabled",
        e(A, "accounts", 1, "enabled", value=False),
        keys=[("accounts[1].enabled", "2")],
        fwd=L,
        back=T,
    ),
    case(
        "account-label",
        e(A, "accounts", 0, "label", value="Main"),
        keys=[("accounts[0].label", "1")],
        fwd=N,
        back=N,
    ),
    case(
        "account-override",
        e(A, "accounts", 1, "overrides", "rules", DRL, "limit", value=-450.0),
        keys=[(f"accounts[1].overrides.rules.{DRL}.limit", "2")],
        fwd=L,
        back=T,
    ),
    case("gateway", e(A, "gateway", "api_url", value="http://127.0.0.1:9000"), fwd=L, back=L),
    # holidays
    case("holiday-removed", e(H, "holidays", 0, delete=True), fwd=L, back=T),
    case(
        "holiday-added",
        e(H, "holidays", 2, value={"date": "2026-07-03", "name": "Independence Day"}),
        fwd=T,
        back=L,
    ),
    case("holiday-renamed", e(H, "holidays", 0, "name", value="Xmas"), keys=["holidays[0]"], fwd=N, back=N),
    case(
        "early-close-later",
        e(H, "early_closes", 0, "close_time", value="14:00"),
        keys=["early_closes[0]"],
        fwd=L,
        back=T,
    ),
    case("early-close-removed", e(H, "early_closes", 1, delete=True), fwd=L, back=T),
    case("holidays-timezone", e(H, "timezone", value="America/Chicago"), fwd=L, back=L),
]


def changed(old: ConfigSet, new: ConfigSet) -> tuple[list[tuple[str, str | None]], set[str]]:
    """The changes as (dotted key, account) and the set of their directions."""
    changes = classify(old, new)
    keys = [(".".join(_dotted(change.path)), change.account) for change in changes]
    return keys, {change.direction for change in changes}


@pytest.mark.parametrize(("edits", "keys", "forward", "back"), CASES)
def test_classify(
    example_texts: dict[str, str],
    example_set: ConfigSet,
    edits: list[Edit],
    keys: list[str | tuple[str, str]],
    forward: str,
    back: str,
) -> None:
    edited = validate_texts(EXAMPLES, apply_edits(example_texts, edits), env={})
    expected = sorted((key, None) if isinstance(key, str) else key for key in keys)
    there, directions = changed(example_set, edited)
    assert (sorted(there), directions) == (expected, {forward})
    back_keys, back_directions = changed(edited, example_set)
    assert back_directions == {back}
    assert len(back_keys) == len(expected)


def test_the_texts_say_what_changed_and_which_way(
    example_texts: dict[str, str], example_set: ConfigSet
) -> None:
    edits = [
        rule("max_contracts", "limit", value=8),
        rule("trade_frequency_limit", "cooldowns", "per_hour", value="10m"),
        rule("max_contracts_per_instrument", "default_limit", value=2),
        rule("cooldown_after_loss", "tiers", 2, delete=True),
        e(A, "accounts", 1, "overrides", "rules", "daily_realized_loss", "limit", value=-300.0),
        e(H, "early_closes", 0, "close_time", value="12:00"),
    ]
    edited = validate_texts(EXAMPLES, apply_edits(example_texts, edits), env={})
    assert [change.text for change in classify(example_set, edited)] == [
        "rules.max_contracts.limit 5 -> 8 (looser)",
        "rules.max_contracts_per_instrument.default_limit null (unlisted symbols: blocked) -> 2 "
        "(unlisted symbols: 2) (looser)",
        "rules.trade_frequency_limit.cooldowns.per_hour 30m -> 10m (looser)",
        "rules.cooldown_after_loss.tiers [-100.0: 5m, -200.0: 15m, -300.0: 30m] -> "
        "[-100.0: 5m, -200.0: 15m] (looser)",
        "rules.daily_realized_loss.limit -400.0 -> -300.0 (tighter) for account 2",
        "early_closes[0] 2025-11-28 13:00 (Day after Thanksgiving) -> "
        "2025-11-28 12:00 (Day after Thanksgiving) (tighter)",
    ]


def test_a_base_change_an_account_overrides_is_reported_once(
    example_texts: dict[str, str], example_set: ConfigSet
) -> None:
    edited = validate_texts(
        EXAMPLES, apply_edits(example_texts, [rule("daily_realized_loss", "limit", value=-450.0)]), env={}
    )
    changes = classify(example_set, edited)
    assert [(change.text, change.file, change.account) for change in changes] == [
        ("rules.daily_realized_loss.limit -500.0 -> -450.0 (tighter)", "risk_config.yaml", None)
    ]


def test_an_added_account_is_tighter(example_texts: dict[str, str], example_set: ConfigSet) -> None:
    edited = validate_texts(
        EXAMPLES, apply_edits(example_texts, [e(A, "accounts", 2, value={"id": 7, "label": "New"})]), env={}
    )
    assert [(c.text, c.direction, c.account) for c in classify(example_set, edited)] == [
        ("account New (7) added (tighter)", "tighten", "7")
    ]


def test_a_holidays_file_created_is_compared_with_none(example_texts: dict[str, str], tmp_path: Path) -> None:
    without = {name: text for name, text in example_texts.items() if name != H}
    old = validate_texts(EXAMPLES, without, env={})
    new = validate_texts(EXAMPLES, example_texts, env={})
    assert {change.direction for change in classify(old, new)} == {"tighten"}
    assert {change.direction for change in classify(new, old)} == {"loosen"}


def test_every_rule_has_a_case() -> None:
    touched = {
        edit.path[1]
        for case in CASES
        for edit in case.values[0]
        if edit.file == R and edit.path[0] == "rules"
    }
    assert touched == set(RULE_IDS)


# --------------------------------------------------------------------------- the table cannot drift


def _models(annotation: Any) -> list[type[BaseModel]]:
    """Config models inside a field's type (through Optional, list, dict, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        args = args[:1]
    elif isinstance(annotation, types.UnionType):
        args = typing.get_args(annotation)
    return [model for arg in args for model in _models(arg)]


def reachable(*roots: type[BaseModel]) -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    todo = list(roots)
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for info in model.model_fields.values():
            todo += _models(info.annotation)
    return seen


def test_every_field_of_every_config_model_is_in_the_table() -> None:
    models = reachable(RiskConfig, AccountsConfig, HolidaysConfig)
    assert len(models) > 30  # the walk itself works
    missing = {
        f"{model.__name__}.{name}"
        for model in models
        for name in model.model_fields
        if name not in KEYS.get(model, {})
    }
    stale = {
        f"{model.__name__}.{name}"
        for model, keys in KEYS.items()
        for name in keys
        if name not in model.model_fields
    }
    assert (missing, stale) == (set(), set())
