"""The thirteen rules of SPEC §3: one module each, pure functions of (config, state, event, now)."""

from risk_manager.rules.registry import (
    EVALUATION_ORDER,
    REGISTRY,
    ActiveRule,
    RuleSpec,
    active_rules,
    dispatch_table,
    rank,
    rule_id_of,
)

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
