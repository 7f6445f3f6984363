"""risk_config.yaml models: SPEC §8 general defaults, every SPEC §3 rule's keys, ranges and checks."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from config_testkit import parse, problems
from pydantic import ValidationError

from risk_manager.config import (
    RULE_IDS,
    RULE_KEYS,
    DailyRealizedLossConfig,
    GeneralConfig,
    MaxContractsConfig,
    RiskConfig,
    RulesConfig,
    parse_model,
    rule_key,
)
from risk_manager.domain import TickSpec

#: The smallest valid block of every rule (only required keys), by YAML key.
MINIMAL: dict[str, dict[str, Any]] = {
    "max_contracts": {"enabled": True, "limit": 5},
    "max_contracts_per_instrument": {"enabled": True},
    "daily_realized_loss": {"enabled": True, "limit": -500.0},
    "daily_unrealized_loss": {"enabled": True, "limit": -300.0},
    "max_unrealized_profit": {"enabled": True, "target": 500.0},
    "trade_frequency_limit": {"enabled": True, "limits": {"per_minute": 3}},
    "cooldown_after_loss": {"enabled": True, "tiers": [{"loss_amount": -100.0, "duration": "5m"}]},
    "no_stop_loss_grace": {"enabled": True},
    "session_block_outside": {"enabled": True, "session": {"start": "09:30", "end": "16:00"}},
    "auth_loss_guard": {"enabled": True},
    "symbol_blocks": {"enabled": True},
    "trade_management": {"enabled": True},
    "daily_realized_profit": {"enabled": True, "target": 1000.0},
}


def rules_of(**blocks: dict[str, Any]) -> RulesConfig:
    return parse_model(RulesConfig, blocks, {}, "x", ("rules",))


def with_value(key: str, path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """The minimal block of a rule with one (possibly nested) key set."""
    block = copy.deepcopy(MINIMAL[key])
    target: Any = block
    for part in path[:-1]:
        target = target.setdefault(part, {}) if isinstance(part, str) else target[part]
    target[path[-1]] = value
    return block


def attribute(obj: object, path: str) -> object:
    for part in path.split("."):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize(
    ("path", "default"),
    [
        ("daily_reset.time", dt.time(17, 0)),
        ("daily_reset.timezone", "America/New_York"),
        ("pnl_includes_fees", True),
        ("mark_price", "last"),
        ("allow_admin_unlock", True),
        ("instruments", {}),
        ("symbol_aliases", {}),
        ("logging.level", "INFO"),
        ("logging.retention_days", 30),
        ("logging.max_bytes", 10_485_760),
        ("logging.backups", 5),
        ("protect_unlisted_accounts", True),
        ("control.host", "127.0.0.1"),
        ("control.port", 8766),
        ("metrics.enabled", False),
        ("metrics.port", 9108),
        ("watchdog.stale_seconds", 15),
        ("watchdog.flatten_on_stale", False),
        ("backups.keep", 7),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_general_defaults(path: str, default: object) -> None:
    assert attribute(GeneralConfig.model_validate({}), path) == default


@pytest.mark.parametrize(
    ("key", "path", "default"),
    [
        pytest.param("max_contracts", "count_type", "gross", id="RULE-001.count_type"),
        pytest.param("max_contracts", "enforcement", "reduce_to_limit", id="RULE-001.enforcement"),
        pytest.param("max_contracts_per_instrument", "limits", {}, id="RULE-002.limits"),
        pytest.param("max_contracts_per_instrument", "default_limit", None, id="RULE-002.default_limit"),
        pytest.param("max_contracts_per_instrument", "unknown_symbol_action", "block", id="RULE-002.unknown"),
        pytest.param(
            "max_contracts_per_instrument", "enforcement", "reduce_to_limit", id="RULE-002.enforcement"
        ),
        pytest.param("daily_realized_loss", "include_unrealized", True, id="RULE-003.include_unrealized"),
        pytest.param("trade_frequency_limit", "limits.per_hour", None, id="RULE-006.limit-off"),
        pytest.param(
            "trade_frequency_limit", "cooldowns.per_minute", dt.timedelta(seconds=60), id="RULE-006.cd-min"
        ),
        pytest.param(
            "trade_frequency_limit", "cooldowns.per_hour", dt.timedelta(minutes=30), id="RULE-006.cd-hour"
        ),
        pytest.param(
            "trade_frequency_limit", "cooldowns.per_session", dt.timedelta(hours=1), id="RULE-006.cd-sess"
        ),
        pytest.param("no_stop_loss_grace", "grace_period_seconds", 10, id="RULE-008.grace"),
        pytest.param("session_block_outside", "session.timezone", "America/New_York", id="RULE-009.timezone"),
        pytest.param(
            "session_block_outside", "session.days", ["mon", "tue", "wed", "thu", "fri"], id="RULE-009.days"
        ),
        pytest.param("session_block_outside", "per_instrument", {}, id="RULE-009.per_instrument"),
        pytest.param("session_block_outside", "respect_holidays", True, id="RULE-009.respect_holidays"),
        pytest.param("session_block_outside", "close_at_session_end", True, id="RULE-009.close_at_end"),
        pytest.param("auth_loss_guard", "poll_interval_seconds", 30, id="RULE-010.poll"),
        pytest.param("symbol_blocks", "blocked_symbols", [], id="RULE-011.blocked"),
        pytest.param("trade_management", "auto_stop_loss", None, id="RULE-012.stop-off"),
        pytest.param("trade_management", "auto_take_profit", None, id="RULE-012.target-off"),
        pytest.param("trade_management", "breakeven", None, id="RULE-012.breakeven-off"),
        pytest.param("trade_management", "trailing_stop", None, id="RULE-012.trailing-off"),
        pytest.param("daily_realized_profit", "include_unrealized", True, id="RULE-013.include_unrealized"),
        pytest.param("daily_realized_profit", "message", None, id="RULE-013.message"),
    ],
)
def test_rule_defaults(key: str, path: str, default: object) -> None:
    rules = rules_of(**{key: MINIMAL[key]})
    assert attribute(getattr(rules, key), path) == default


def test_breakeven_offset_defaults_to_zero() -> None:
    rules = rules_of(trade_management={"enabled": True, "breakeven": {"enabled": True, "trigger_ticks": 20}})
    assert rules.trade_management is not None and rules.trade_management.breakeven is not None
    assert rules.trade_management.breakeven.offset_ticks == 0


def test_absent_rules_are_none_and_risk_config_defaults() -> None:
    risk = RiskConfig.model_validate({})
    assert risk.version == 1
    assert all(getattr(risk.rules, key) is None for key in RULE_IDS)
    assert risk.rules.enabled_rules() == {}


@pytest.mark.parametrize("key", list(MINIMAL))
def test_enabled_is_required_in_every_rule(key: str) -> None:
    block = {k: v for k, v in MINIMAL[key].items() if k != "enabled"}
    assert problems(lambda: rules_of(**{key: block})) == [f"x: rules.{key}.enabled: required: true or false"]


@pytest.mark.parametrize(
    ("key", "field", "hint"),
    [
        pytest.param("max_contracts", "limit", "an integer 1..1000, e.g. 5", id="RULE-001"),
        pytest.param("daily_realized_loss", "limit", "a number -1000000..-1, e.g. -500.0", id="RULE-003"),
        pytest.param("daily_unrealized_loss", "limit", "a number < 0, e.g. -300.0", id="RULE-004"),
        pytest.param("max_unrealized_profit", "target", "a number > 0, e.g. 500.0", id="RULE-005"),
        pytest.param("trade_frequency_limit", "limits", "a mapping", id="RULE-006"),
        pytest.param("cooldown_after_loss", "tiers", "a list", id="RULE-007"),
        pytest.param("session_block_outside", "session", "a mapping", id="RULE-009"),
        pytest.param("daily_realized_profit", "target", "a number > 0, e.g. 1000.0", id="RULE-013"),
    ],
)
def test_required_keys_say_what_they_need(key: str, field: str, hint: str) -> None:
    block = {k: v for k, v in MINIMAL[key].items() if k != field}
    assert problems(lambda: rules_of(**{key: block})) == [f"x: rules.{key}.{field}: required: {hint}"]


# --------------------------------------------------------------------------- ranges


EDGES = [
    # (rule key, key path in block, value at the bound (ok), value one past (fails))
    ("max_contracts", ("limit",), 1, 0),
    ("max_contracts", ("limit",), 1000, 1001),
    ("max_contracts_per_instrument", ("limits", "MNQ"), 0, -1),
    ("max_contracts_per_instrument", ("limits", "MNQ"), 1000, 1001),
    ("max_contracts_per_instrument", ("default_limit",), 1, 0),
    ("max_contracts_per_instrument", ("default_limit",), 1000, 1001),
    ("daily_realized_loss", ("limit",), -1, -0.99),
    ("daily_realized_loss", ("limit",), -1_000_000, -1_000_000.01),
    ("daily_unrealized_loss", ("limit",), -0.01, 0),
    ("max_unrealized_profit", ("target",), 0.01, 0),
    ("trade_frequency_limit", ("limits", "per_minute"), 1, 0),
    ("trade_frequency_limit", ("limits", "per_minute"), 1000, 1001),
    ("trade_frequency_limit", ("cooldowns", "per_minute"), 1, 0),
    ("trade_frequency_limit", ("cooldowns", "per_hour"), "1s", "0s"),
    ("trade_frequency_limit", ("cooldowns", "per_session"), "24h", "25h"),
    ("trade_frequency_limit", ("cooldowns", "per_session"), "1440m", "1441m"),
    ("trade_frequency_limit", ("cooldowns", "per_session"), 86_400, 86_401),
    ("cooldown_after_loss", ("tiers", 0, "loss_amount"), -0.01, 0),
    ("cooldown_after_loss", ("tiers", 0, "duration"), "24h", "86401s"),
    ("no_stop_loss_grace", ("grace_period_seconds",), 1, 0),
    ("no_stop_loss_grace", ("grace_period_seconds",), 3600, 3601),
    ("auth_loss_guard", ("poll_interval_seconds",), 10, 9),
    ("auth_loss_guard", ("poll_interval_seconds",), 300, 301),
    ("trade_management", ("auto_stop_loss",), {"enabled": True, "ticks": 1}, {"enabled": True, "ticks": 0}),
    (
        "trade_management",
        ("auto_take_profit",),
        {"enabled": True, "ticks": 10_000},
        {"enabled": True, "ticks": 10_001},
    ),
    (
        "trade_management",
        ("breakeven",),
        {"enabled": True, "trigger_ticks": 20, "offset_ticks": 19},
        {"enabled": True, "trigger_ticks": 20, "offset_ticks": 20},
    ),
    (
        "trade_management",
        ("breakeven",),
        {"enabled": True, "trigger_ticks": 1, "offset_ticks": 0},
        {"enabled": True, "trigger_ticks": 1, "offset_ticks": -1},
    ),
    (
        "trade_management",
        ("trailing_stop",),
        {"enabled": True, "activation_ticks": 1, "trail_ticks": 10_000},
        {"enabled": True, "activation_ticks": 1, "trail_ticks": 10_001},
    ),
    ("daily_realized_profit", ("target",), 0.01, 0),
    ("daily_realized_profit", ("message",), "x" * 200, "x" * 201),
]


def _edge_id(edge: tuple[str, tuple[str | int, ...], object, object]) -> str:
    key, path, ok, _ = edge
    return f"{RULE_IDS[key]}.{'.'.join(map(str, path))}={str(ok)[:12]}"


@pytest.mark.parametrize(("key", "path", "ok", "bad"), EDGES, ids=[_edge_id(edge) for edge in EDGES])
def test_rule_range_edges(key: str, path: tuple[str | int, ...], ok: object, bad: object) -> None:
    rules_of(**{key: with_value(key, path, ok)})
    found = problems(lambda: rules_of(**{key: with_value(key, path, bad)}))
    assert len(found) == 1
    assert found[0].startswith(f"x: rules.{key}.{'.'.join(map(str, path))}".replace(".0.", "[0]."))


GENERAL_EDGES = [
    (("logging", "retention_days"), 1, 0),
    (("logging", "retention_days"), 365, 366),
    (("control", "port"), 1, 0),
    (("control", "port"), 65535, 65536),
    (("metrics", "port"), 65535, 65536),
    (("watchdog", "stale_seconds"), 5, 4),
    (("watchdog", "stale_seconds"), 3600, 3601),
    (("backups", "keep"), 1, 0),
    (("backups", "keep"), 365, 366),
    (("logging", "backups"), 0, -1),
    (("instruments", "MNQ", "tick_size"), 0.01, 0),
]


@pytest.mark.parametrize(
    ("path", "ok", "bad"), GENERAL_EDGES, ids=lambda v: ".".join(v) if isinstance(v, tuple) else str(v)
)
def test_general_range_edges(path: tuple[str, ...], ok: object, bad: object) -> None:
    def block(value: object) -> dict[str, Any]:
        data: dict[str, Any] = {path[0]: {}}
        target = data[path[0]]
        for part in path[1:-1]:
            target = target.setdefault(part, {"tick_size": 0.25, "tick_value": 0.5})
        target[path[-1]] = value
        return data

    GeneralConfig.model_validate(block(ok))
    found = problems(lambda: parse_model(GeneralConfig, block(bad), {}, "x", ("general",)))
    assert len(found) == 1
    assert found[0].startswith(f"x: general.{'.'.join(path)}: must be ")


# --------------------------------------------------------------------------- exact messages


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            rules:
              daily_realized_loss:
                enabled: true
                limit: 500.0
            """,
            "config/risk_config.yaml:4: rules.daily_realized_loss.limit: must be -1000000..-1 (got "
            "500.0), e.g. -500.0",
            id="RULE-003.limit-positive",
        ),
        pytest.param(
            "rules:\n  daily_unrealized_loss: {enabled: true, limit: 500}\n",
            "config/risk_config.yaml:2: rules.daily_unrealized_loss.limit: must be < 0 (got 500), e.g. "
            "-300.0",
            id="RULE-004.limit-positive",
        ),
        pytest.param(
            "rules:\n  max_contracts:\n    enabled: true\n    limit: '500'\n",
            "config/risk_config.yaml:4: rules.max_contracts.limit: must be an integer 1..1000 (got "
            "'500'), e.g. 5",
            id="RULE-001.limit-text",
        ),
        pytest.param(
            "rules:\n  max_contracts:\n    enabled: yes\n    limit: 5\n",
            "config/risk_config.yaml:3: rules.max_contracts.enabled: must be true or false (got 'yes')",
            id="RULE-001.enabled-yes",
        ),
        pytest.param(
            "rules:\n  max_contracts: {enabled: true, limit: 5, count_type: both}\n",
            "config/risk_config.yaml:2: rules.max_contracts.count_type: must be one of gross, net (got "
            "'both')",
            id="RULE-001.count_type",
        ),
        pytest.param(
            "rules:\n  max_contracts:\n    enabled: true\n",
            "config/risk_config.yaml:2: rules.max_contracts.limit: required: an integer 1..1000, e.g. 5",
            id="RULE-001.limit-missing-points-at-block",
        ),
        pytest.param(
            "rules:\n  max_contracts: {enabled: true, limit: 5.0}\n",
            "config/risk_config.yaml:2: rules.max_contracts.limit: must be an integer 1..1000 (got "
            "5.0), e.g. 5",
            id="RULE-001.limit-float",
        ),
        pytest.param(
            "rules:\n  daily_realized_loss: {enabled: true, limit: '-500'}\n",
            "config/risk_config.yaml:2: rules.daily_realized_loss.limit: "
            "must be a number -1000000..-1 (got '-500'), e.g. -500.0",
            id="RULE-003.limit-text",
        ),
        pytest.param(
            "rules:\n  max_contract:\n    enabled: true\n",
            "config/risk_config.yaml:2: rules.max_contract: unknown key (did you mean max_contracts?); "
            "allowed: " + ", ".join(RULE_IDS),
            id="unknown-rule",
        ),
        pytest.param(
            "rules:\n  trade_frequency_limit:\n    enabled: true\n    limits: {per_minute: 5, per_hour: 3}\n",
            "config/risk_config.yaml:4: rules.trade_frequency_limit.limits.per_hour: must be >= "
            "per_minute (5) (got 3)",
            id="RULE-006.order",
        ),
        pytest.param(
            "rules:\n  trade_frequency_limit:\n    enabled: true\n    limits: {per_minute: null}\n",
            "config/risk_config.yaml:4: rules.trade_frequency_limit.limits: "
            "set at least one of per_minute, per_hour, per_session (1..1000, null = off)",
            id="RULE-006.none-set",
        ),
        pytest.param(
            "rules:\n  cooldown_after_loss:\n    enabled: true\n    tiers:\n"
            "      - {loss_amount: -100, duration: 5m}\n      - {loss_amount: -100.0, duration: 10m}\n",
            "config/risk_config.yaml:6: rules.cooldown_after_loss.tiers[1].loss_amount: duplicate of "
            "tiers[0] (-100.00)",
            id="RULE-007.duplicate-tier",
        ),
        pytest.param(
            "rules:\n  cooldown_after_loss:\n    enabled: true\n    tiers: []\n",
            "config/risk_config.yaml:4: rules.cooldown_after_loss.tiers: must have 1..10 entries (got 0)",
            id="RULE-007.no-tiers",
        ),
        pytest.param(
            "rules:\n  cooldown_after_loss:\n    enabled: true\n    tiers:\n      - {loss_amount: -1, "
            "duration: 5 min}\n",
            "config/risk_config.yaml:5: rules.cooldown_after_loss.tiers[0].duration: "
            "must be a duration: seconds or <n>s, <n>m, <n>h, e.g. 5m (got '5 min')",
            id="RULE-007.duration-form",
        ),
        pytest.param(
            "rules:\n  session_block_outside:\n    enabled: true\n    session: {start: '09:30', end: "
            "'09:30'}\n",
            "config/risk_config.yaml:4: rules.session_block_outside.session.end: "
            "must differ from start (09:30); end < start wraps midnight",
            id="RULE-009.start-equals-end",
        ),
        pytest.param(
            "rules:\n  session_block_outside:\n    enabled: true\n    session:\n"
            "      start: '09:30'\n      end: '16:00'\n      days: []\n",
            "config/risk_config.yaml:7: rules.session_block_outside.session.days: must have at least 1 "
            "entry (got 0)",
            id="RULE-009.no-days",
        ),
        pytest.param(
            "rules:\n  session_block_outside:\n    enabled: true\n    session:\n"
            "      start: '09:30'\n      end: '16:00'\n      days: [mon, Funday]\n",
            "config/risk_config.yaml:7: rules.session_block_outside.session.days[1]: "
            "must be one of mon, tue, wed, thu, fri, sat, sun (got 'Funday')",
            id="RULE-009.bad-day",
        ),
        pytest.param(
            "rules:\n  session_block_outside:\n    enabled: true\n    session: {start: '09:30', end: "
            "'16:00'}\n"
            "    per_instrument:\n      CL: {start: '18:00', end: '17:00', timezone: America/Chicgo}\n",
            "config/risk_config.yaml:6: rules.session_block_outside.per_instrument.CL.timezone: "
            "unknown time zone 'America/Chicgo'; use an IANA name, e.g. America/New_York",
            id="RULE-009.per-instrument-zone",
        ),
        pytest.param(
            "rules:\n  session_block_outside:\n    enabled: true\n    session: {start: 9:30, end: '16:00'}\n",
            "config/risk_config.yaml:4: rules.session_block_outside.session.start: "
            "must be a time HH:MM (00:00..23:59), e.g. 17:00 (got '9:30')",
            id="RULE-009.time-form",
        ),
        pytest.param(
            "rules:\n  trade_management:\n    enabled: true\n"
            "    breakeven: {enabled: true, trigger_ticks: 20, offset_ticks: 20}\n",
            "config/risk_config.yaml:4: rules.trade_management.breakeven.offset_ticks: "
            "must be < trigger_ticks (20) (got 20)",
            id="RULE-012.offset",
        ),
        pytest.param(
            "rules:\n  daily_realized_profit:\n    enabled: true\n    target: 1000\n    message: "
            + "x" * 201
            + "\n",
            "config/risk_config.yaml:5: rules.daily_realized_profit.message: must have at most 200 "
            "characters (got 201)",
            id="RULE-013.message",
        ),
        pytest.param(
            "general:\n  control: {host: 0.0.0.0}\n",
            "config/risk_config.yaml:2: general.control.host: "
            "must be a loopback host: 127.0.0.1, ::1 or localhost (got '0.0.0.0')",
            id="control-loopback",
        ),
        pytest.param(
            "general:\n  metrics: {enabled: true, port: 8766}\n",
            "config/risk_config.yaml:2: general.metrics.port: must differ from control.port (8766)",
            id="metrics-port-clash",
        ),
        pytest.param(
            "general:\n  instruments: {MNQ: {tick_size: 0.25, tick_value: 0.5}, mnq: {tick_size: 1, "
            "tick_value: 1}}\n",
            "config/risk_config.yaml:2: general.instruments: MNQ and mnq are the same symbol (symbols "
            "ignore case)",
            id="symbol-case-clash",
        ),
        pytest.param(
            "version: 1\nrules: []\n",
            "config/risk_config.yaml:2: rules: must be a mapping with keys "
            + ", ".join(RULE_IDS)
            + " (got a list)",
            id="rules-not-mapping",
        ),
    ],
)
def test_exact_problem_lines(text: str, expected: str) -> None:
    assert problems(lambda: parse(RiskConfig, text)) == [expected]


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = """\
    general:
      mark_price: bid
    rules:
      max_contracts: {enabled: true, limit: 0}
      daily_realized_loss: {enabled: true, limit: 10}
      symbol_blocks: {enabled: maybe}
    """
    found = problems(lambda: parse(RiskConfig, text))
    assert [line.split(": ")[0] for line in found] == [
        "config/risk_config.yaml:2",
        "config/risk_config.yaml:4",
        "config/risk_config.yaml:5",
        "config/risk_config.yaml:6",
    ]


# --------------------------------------------------------------------------- strict types


@pytest.mark.parametrize(
    ("block", "accepted"),
    [
        pytest.param({"enabled": "yes", "limit": 5}, False, id="bool-yes"),
        pytest.param({"enabled": "true", "limit": 5}, False, id="bool-text"),
        pytest.param({"enabled": 1, "limit": 5}, False, id="bool-int"),
        pytest.param({"enabled": True, "limit": "5"}, False, id="int-text"),
        pytest.param({"enabled": True, "limit": 5.0}, False, id="int-float"),
        pytest.param({"enabled": True, "limit": True}, False, id="int-bool"),
        pytest.param({"enabled": True, "limit": 5}, True, id="int"),
    ],
)
def test_strict_bool_and_int(block: dict[str, object], accepted: bool) -> None:
    if accepted:
        assert MaxContractsConfig.model_validate(block).limit == 5
    else:
        with pytest.raises(ValidationError):
            MaxContractsConfig.model_validate(block)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param(-500, Decimal("-500"), id="int-accepted"),
        pytest.param(-500.5, Decimal("-500.5"), id="float"),
        pytest.param(-0.1 - 0.2 - 100, Decimal(repr(-0.1 - 0.2 - 100)), id="float-via-repr"),
        pytest.param("-500", None, id="text-rejected"),
        pytest.param(True, None, id="bool-rejected"),
        pytest.param(float("-inf"), None, id="infinity-rejected"),
    ],
)
def test_money_is_decimal_from_numbers_only(limit: object, expected: Decimal | None) -> None:
    if expected is None:
        with pytest.raises(ValidationError):
            DailyRealizedLossConfig.model_validate({"enabled": True, "limit": limit})
    else:
        parsed = DailyRealizedLossConfig.model_validate({"enabled": True, "limit": limit})
        assert parsed.limit == expected
        assert isinstance(parsed.limit, Decimal)


def test_models_are_frozen() -> None:
    config = MaxContractsConfig.model_validate({"enabled": True, "limit": 5})
    with pytest.raises(ValidationError):
        config.limit = 6


# --------------------------------------------------------------------------- parsed values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(45, dt.timedelta(seconds=45), id="int-seconds"),
        pytest.param("90s", dt.timedelta(seconds=90), id="seconds"),
        pytest.param("15m", dt.timedelta(minutes=15), id="minutes"),
        pytest.param("2h", dt.timedelta(hours=2), id="hours"),
    ],
)
def test_durations_parse_to_timedelta(text: object, expected: dt.timedelta) -> None:
    rules = rules_of(cooldown_after_loss={"enabled": True, "tiers": [{"loss_amount": -1, "duration": text}]})
    assert rules.cooldown_after_loss is not None
    assert rules.cooldown_after_loss.tiers[0].duration == expected


def test_durations_dump_in_their_short_form() -> None:
    rules = rules_of(trade_frequency_limit=MINIMAL["trade_frequency_limit"])
    dumped = rules.model_dump(mode="json", exclude_none=True)
    assert dumped["trade_frequency_limit"]["cooldowns"] == {
        "per_minute": "1m",
        "per_hour": "30m",
        "per_session": "1h",
    }


def test_example_file_round_trips_through_json_dump() -> None:
    from config_testkit import EXAMPLES

    risk = parse(RiskConfig, (EXAMPLES / "risk_config.yaml").read_text(encoding="utf-8"))
    assert RiskConfig.model_validate(risk.model_dump(mode="json")) == risk


def test_daily_reset_and_session_zones_are_zoneinfo() -> None:
    general = GeneralConfig.model_validate({"daily_reset": {"time": "16:00", "timezone": "Europe/London"}})
    assert general.daily_reset.time == dt.time(16, 0)
    assert general.daily_reset.zone.key == "Europe/London"


def test_session_window_days_and_case() -> None:
    rules = rules_of(
        session_block_outside={
            "enabled": True,
            "session": {"start": "09:30", "end": "16:00", "days": ["MON", "Wed"]},
            "per_instrument": {"cl": {"start": "17:00", "end": "16:00", "timezone": "America/Chicago"}},
        }
    )
    block = rules.session_block_outside
    assert block is not None
    assert block.session.weekdays == frozenset({0, 2})
    assert block.window_for("CL").start == dt.time(17, 0)
    assert block.window_for("CL").zone.key == "America/Chicago"
    assert block.window_for("MNQ") is block.session


def test_symbol_blocks_match_wildcards_case_insensitively() -> None:
    rules = rules_of(symbol_blocks={"enabled": True, "blocked_symbols": ["rty", "*ES"]})
    assert rules.symbol_blocks is not None
    assert rules.symbol_blocks.blocked_symbols == ["RTY", "*ES"]
    assert [rules.symbol_blocks.is_blocked(s) for s in ("RTY", "mes", "ES", "MNQ")] == [
        True,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("block", "symbol", "limit"),
    [
        pytest.param({"limits": {"mnq": 4}}, "MNQ", 4, id="listed-any-case"),
        pytest.param({"limits": {"ES": 0}}, "ES", 0, id="zero-never-hold"),
        pytest.param({}, "RTY", 0, id="unlisted-blocked"),
        pytest.param({"unknown_symbol_action": "allow"}, "RTY", None, id="unlisted-allowed"),
        pytest.param({"default_limit": 2}, "RTY", 2, id="default-limit"),
    ],
)
def test_per_instrument_limit_lookup(block: dict[str, Any], symbol: str, limit: int | None) -> None:
    rules = rules_of(max_contracts_per_instrument={"enabled": True, **block})
    assert rules.max_contracts_per_instrument is not None
    assert rules.max_contracts_per_instrument.limit_for(symbol) == limit


def test_instruments_become_tick_specs() -> None:
    general = GeneralConfig.model_validate({"instruments": {"mnq": {"tick_size": 0.25, "tick_value": 0.5}}})
    assert general.tick_specs() == {"MNQ": TickSpec(Decimal("0.25"), Decimal("0.5"))}


# --------------------------------------------------------------------------- rule ids and warnings


def test_rule_ids_cover_every_rules_key_in_spec_order() -> None:
    assert list(RULE_IDS) == list(RulesConfig.model_fields)
    assert list(RULE_IDS.values()) == [f"RULE-{n:03d}" for n in range(1, 14)]
    assert RULE_KEYS["RULE-003"] == "daily_realized_loss"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("RULE-003", "daily_realized_loss"),
        ("rule-003", "daily_realized_loss"),
        ("max_contracts", "max_contracts"),
    ],
)
def test_rule_lookup_by_id_or_key(name: str, key: str) -> None:
    assert rule_key(name) == key
    rules = rules_of(
        daily_realized_loss=MINIMAL["daily_realized_loss"], max_contracts=MINIMAL["max_contracts"]
    )
    assert rules.get(name) is getattr(rules, key)


def test_unknown_rule_lookup_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown rule 'RULE-014'"):
        rule_key("RULE-014")


def test_enabled_rules_skips_disabled_blocks() -> None:
    rules = rules_of(
        max_contracts={"enabled": False, "limit": 5}, daily_realized_loss=MINIMAL["daily_realized_loss"]
    )
    assert list(rules.enabled_rules()) == ["RULE-003"]


@pytest.mark.parametrize(
    ("unrealized", "warned"),
    [
        pytest.param(-499.99, False, id="above-daily-limit"),
        pytest.param(-500, True, id="equal"),
        pytest.param(-600, True, id="below"),
    ],
)
def test_rule_004_at_or_below_rule_003_only_warns(unrealized: float, warned: bool) -> None:
    risk = RiskConfig.model_validate(
        {
            "rules": {
                "daily_realized_loss": {"enabled": True, "limit": -500},
                "daily_unrealized_loss": {"enabled": True, "limit": unrealized},
            }
        }
    )
    keys = [key for key, _ in risk.warnings()]
    assert (("rules", "daily_unrealized_loss", "limit") in keys) is warned


def test_no_enabled_rule_warns() -> None:
    assert RiskConfig.model_validate({}).warnings() == [
        (("rules",), "no rule is enabled: the account is watched but not protected")
    ]
