"""The rules in evaluation order (SPEC §4.1) and how to find each one's config."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from risk_manager.config.risk import RulesConfig
from risk_manager.domain import Decision, Event
from risk_manager.ledger import AccountState
from risk_manager.rules import (
    auth_loss_guard,
    cooldown_after_loss,
    daily_realized_loss,
    daily_realized_profit,
    daily_unrealized_loss,
    max_contracts,
    max_contracts_per_instrument,
    max_unrealized_profit,
    no_stop_loss_grace,
    session_block_outside,
    symbol_blocks,
    trade_frequency_limit,
    trade_management,
)
from risk_manager.rules.bands import Bands

Evaluator = Callable[[Any, AccountState, Event, datetime], list[Decision]]
Triggers = Callable[[Any], frozenset[type]]
#: how much the account's P&L may move before the rule could fire on a quote; None = it cannot
Headroom = Callable[[Any, AccountState], Decimal | None]
#: the next instant the rule needs a Tick on its own (a session edge); None = never
Wakeup = Callable[[Any, AccountState, datetime], datetime | None]
#: symbols the rule's account-wide locks leave alone (RULE-009: per-instrument windows)
Exempt = Callable[[Any], frozenset[str]]
#: False when the rule's locks let held positions stay (RULE-009 without close_at_session_end)
Flattens = Callable[[Any], bool]
#: per held contract, the marks its quotes may reach before the rule could act (``rules/bands.py``)
QuoteBands = Callable[[Any, AccountState], Bands]

#: SPEC §4.1: 010, 009, 011, 003, 013, 007, 006, 001, 002, 004, 005, 008, 012.
EVALUATION_ORDER = (
    "RULE-010",
    "RULE-009",
    "RULE-011",
    "RULE-003",
    "RULE-013",
    "RULE-007",
    "RULE-006",
    "RULE-001",
    "RULE-002",
    "RULE-004",
    "RULE-005",
    "RULE-008",
    "RULE-012",
)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule: its id, its YAML key under ``rules:``, its pure evaluate function, and the
    event types that can make it fire (SPEC's "Trigger:" line), given its config."""

    id: str
    key: str
    evaluate: Evaluator
    triggers: Triggers
    #: optional; a rule that reacts to quotes without one is shown every quote
    headroom: Headroom | None = None
    #: optional; for rules driven by the clock at times of their own (replay jumps there)
    wakeup: Wakeup | None = None
    #: optional; None = the rule's account locks cover every symbol
    exempt: Exempt | None = None
    #: optional; None = the rule's account locks hold nothing (the reconciler re-flattens under them)
    flattens: Flattens | None = None
    #: the rule reads ``state.best_marks`` (kept on every quote only for accounts that need it)
    tracks_best_marks: bool = False
    #: optional; finer than ``headroom`` for rules that act on one position per quote (used instead)
    quote_bands: QuoteBands | None = None


REGISTRY: dict[str, RuleSpec] = {
    module.RULE_ID: RuleSpec(
        module.RULE_ID,
        key,
        module.evaluate,
        module.triggers,
        getattr(module, "headroom", None),
        getattr(module, "wakeup", None),
        getattr(module, "exempt", None),
        getattr(module, "flattens", None),
        getattr(module, "TRACKS_BEST_MARKS", False),
        getattr(module, "quote_bands", None),
    )
    for key, module in (
        ("max_contracts", max_contracts),
        ("max_contracts_per_instrument", max_contracts_per_instrument),
        ("daily_realized_loss", daily_realized_loss),
        ("daily_unrealized_loss", daily_unrealized_loss),
        ("max_unrealized_profit", max_unrealized_profit),
        ("symbol_blocks", symbol_blocks),
        ("daily_realized_profit", daily_realized_profit),
        ("cooldown_after_loss", cooldown_after_loss),
        ("trade_frequency_limit", trade_frequency_limit),
        ("session_block_outside", session_block_outside),
        ("auth_loss_guard", auth_loss_guard),
        ("no_stop_loss_grace", no_stop_loss_grace),
        ("trade_management", trade_management),
    )
}


@dataclass(frozen=True, slots=True)
class ActiveRule:
    spec: RuleSpec
    config: Any
    triggers: frozenset[type]


def active_rules(rules: RulesConfig) -> Sequence[ActiveRule]:
    """The enabled, implemented rules of a config, in evaluation order."""
    active: list[ActiveRule] = []
    for rule_id in EVALUATION_ORDER:
        spec = REGISTRY.get(rule_id)
        if spec is None:
            continue
        config = getattr(rules, spec.key, None)
        if config is not None and config.enabled:
            active.append(ActiveRule(spec, config, spec.triggers(config)))
    return tuple(active)


def dispatch_table(rules: Sequence[ActiveRule]) -> dict[type, tuple[ActiveRule, ...]]:
    """Per event type, the rules it can trigger, in evaluation order (the engine's fast path)."""
    kinds = {kind for rule in rules for kind in rule.triggers}
    return {kind: tuple(rule for rule in rules if kind in rule.triggers) for kind in kinds}


def rule_id_of(name: str) -> str | None:
    """``RULE-003``, ``rule-3`` or the YAML key ``daily_realized_loss`` -> ``RULE-003``; None if unknown."""
    wanted = name.strip().upper()
    if wanted.startswith("RULE-") and wanted[5:].isdigit():
        wanted = f"RULE-{int(wanted[5:]):03d}"
    for spec in REGISTRY.values():
        if wanted == spec.id or name.strip().lower() == spec.key:
            return spec.id
    return None


def rank(rule_id: str | None) -> int:
    """Position of a rule in evaluation order (unknown and system entries last)."""
    try:
        return EVALUATION_ORDER.index(rule_id or "")
    except ValueError:
        return len(EVALUATION_ORDER)


__all__ = [
    "EVALUATION_ORDER",
    "REGISTRY",
    "ActiveRule",
    "RuleSpec",
    "active_rules",
    "dispatch_table",
    "rank",
    "rule_id_of",
]
