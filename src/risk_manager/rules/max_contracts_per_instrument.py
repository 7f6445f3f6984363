"""RULE-002 Max Contracts per Instrument: cap the contracts held per symbol (SPEC §3, trade-by-trade)."""

from __future__ import annotations

from datetime import datetime

from risk_manager.config.risk import MaxContractsPerInstrumentConfig
from risk_manager.domain import Decision, Evaluate, Event, PositionUpdated, close
from risk_manager.ledger import AccountState
from risk_manager.rules.cuts import cut_excess

RULE_ID = "RULE-002"


def triggers(config: MaxContractsPerInstrumentConfig) -> frozenset[type]:
    """SPEC: position opened/updated, startup, reload."""
    return frozenset({PositionUpdated, Evaluate})


def evaluate(
    config: MaxContractsPerInstrumentConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    """One decision per symbol over its limit.

    A position event checks its own symbol (the only one it can have pushed over);
    startup and reload check every symbol held.
    """
    by_symbol: dict[str, dict[str, int]] = {}
    for contract_id, position in state.positions.items():
        by_symbol.setdefault(state.catalog.symbol(contract_id), {})[contract_id] = position.size
    trigger = event.position.contract_id if isinstance(event, PositionUpdated) else None
    if trigger is not None:
        symbol = state.catalog.symbol(trigger)
        by_symbol = {symbol: by_symbol[symbol]} if symbol in by_symbol else {}
    decisions = []
    for symbol in sorted(by_symbol):
        decision = _check(config, state, symbol, by_symbol[symbol], trigger)
        if decision is not None:
            decisions.append(decision)
    return decisions


def _check(
    config: MaxContractsPerInstrumentConfig,
    state: AccountState,
    symbol: str,
    sizes: dict[str, int],
    trigger: str | None,
) -> Decision | None:
    limit = config.limit_for(symbol)
    held = sum(abs(size) for size in sizes.values())  # roll months add up
    if limit is None or held <= limit:
        return None  # None: unlisted and unknown_symbol_action allow = unlimited
    if symbol in config.limits:
        source, reason = "limits", f"{symbol} contracts {held} > {limit}"
    elif config.default_limit is not None:
        source, reason = "default_limit", f"{symbol} contracts {held} > {limit} (default_limit)"
    else:
        source, reason = "unlisted", f"{symbol} unlisted (limit 0)"
    seen = {"symbol": symbol, "held": str(held), "limit": str(limit), "limit_from": source}
    if config.enforcement == "close_all":
        # The symbol only, one close per contract: not an account flatten.
        order = sorted(sizes, key=lambda cid: (cid != trigger, -abs(sizes[cid]), cid))
        actions = tuple(close(cid, abs(sizes[cid])) for cid in order)
    else:
        actions = cut_excess(sizes, held - limit, trigger)
    return Decision(state.account_id, RULE_ID, reason, actions, None, seen)


__all__ = ["RULE_ID", "evaluate", "triggers"]
