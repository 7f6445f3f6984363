"""How close each enabled rule is to biting: the figures of the status screen's rule list (SPEC §6).

Pure: (rules, account state, now) -> one :class:`Usage` per shown figure, in SPEC §3 order.
The daemon computes them (it holds the live state) and writes them into the meta snapshot
every second; the status screen only draws them, so its numbers are the engine's numbers.

Levels follow SPEC §6: ``ok`` (green) below 80 % of the limit, ``warn`` (yellow) from 80 %,
``breached`` (red) when the rule's condition is true or it holds a lock. Money limits are
inclusive (-500.00 on a -500.00 limit is breached); counts are strict (5 of 5 is a warning,
6 of 5 a breach), as the rules themselves judge them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from risk_manager.config.risk import (
    AuthLossGuardConfig,
    CooldownAfterLossConfig,
    DailyRealizedLossConfig,
    DailyRealizedProfitConfig,
    DailyUnrealizedLossConfig,
    MaxContractsConfig,
    MaxContractsPerInstrumentConfig,
    MaxUnrealizedProfitConfig,
    NoStopLossGraceConfig,
    RiskConfig,
    RuleConfig,
    SessionBlockOutsideConfig,
    SymbolBlocksConfig,
    TradeFrequencyLimitConfig,
    TradeManagementConfig,
)
from risk_manager.domain import ACCOUNT_SCOPE, ZERO, cents
from risk_manager.ledger import AccountState
from risk_manager.rules.trade_frequency_limit import count_windows

Level = Literal["ok", "warn", "breached"]

#: From this share of a limit a figure turns yellow (SPEC §6).
WARN_AT = Decimal("0.8")

_WINDOW_LABELS = {"per_minute": "Trades/min", "per_hour": "Trades/hour", "per_session": "Trades/session"}


@dataclass(frozen=True, slots=True)
class Usage:
    """One figure: ``current`` against ``limit`` (money as strings of cents, counts as ints).

    ``ratio`` is how much of the limit is used (0 = none, 1 = at the limit; None when the
    rule has no such measure, e.g. the session); ``text`` is what the screen prints.
    """

    rule: str
    label: str
    current: str | int | None
    limit: str | int | None
    text: str
    ratio: float | None
    level: Level

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def level_of(ratio: Decimal | None, breached: bool) -> Level:
    """``breached`` wins; otherwise ``warn`` from :data:`WARN_AT` of the limit, else ``ok``."""
    if breached:
        return "breached"
    if ratio is not None and ratio >= WARN_AT:
        return "warn"
    return "ok"


def rule_usage(config: RiskConfig, state: AccountState, now: datetime) -> list[Usage]:
    """Every enabled rule's figures for one account at ``now`` (UTC), SPEC §3 order."""
    usages: list[Usage] = []
    for rule_id, block in config.rules.enabled_rules().items():
        usages.extend(_FIGURES[rule_id](block, state, now))
    return usages


# --------------------------------------------------------------------------- helpers


def _share(current: Decimal, limit: Decimal) -> Decimal:
    """How much of ``limit`` is used, both of the same sign; 0 when pointing the other way."""
    if limit == 0:
        return Decimal(1) if current else ZERO
    return max(current / limit, ZERO)


def _float(ratio: Decimal) -> float:
    return float(round(ratio, 4))


def _usage(
    rule: str,
    label: str,
    current: str | int | None,
    limit: str | int | None,
    text: str,
    ratio: Decimal | None,
    breached: bool,
) -> Usage:
    shown = None if ratio is None else _float(ratio)
    return Usage(rule, label, current, limit, text, shown, level_of(ratio, breached))


def _money(value: Decimal) -> str:
    return f"{cents(value):.2f}"


def _locked(state: AccountState, rule: str) -> bool:
    """True if the rule holds any lock on the account (account or symbol scope)."""
    return any(held == rule for held, _ in state.held_locks)


def _count(rule: str, label: str, current: int, limit: int, locked: bool, text: str = "") -> Usage:
    ratio = _share(Decimal(current), Decimal(limit))
    shown = text or f"{current}/{limit}"
    return _usage(rule, label, current, limit, shown, ratio, locked or current > limit)


# --------------------------------------------------------------------------- one per rule


def _max_contracts(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    assert isinstance(block, MaxContractsConfig)
    sizes = [p.size for p in state.positions.values()]
    count = abs(sum(sizes)) if block.count_type == "net" else sum(abs(s) for s in sizes)
    label = "Max contracts" if block.count_type == "gross" else "Max contracts (net)"
    yield _count("RULE-001", label, count, block.limit, _locked(state, "RULE-001"))


def _per_instrument(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    """The symbol nearest its limit (unlimited symbols are left out)."""
    assert isinstance(block, MaxContractsPerInstrumentConfig)
    held: dict[str, int] = {}
    for contract_id, position in state.positions.items():
        symbol = state.catalog.symbol(contract_id)
        held[symbol] = held.get(symbol, 0) + abs(position.size)
    figures = [
        _count("RULE-002", "Per instrument", count, limit, False, f"{symbol} {count}/{limit}")
        for symbol, count in sorted(held.items())
        if (limit := block.limit_for(symbol)) is not None
    ]
    if not figures:
        yield _usage("RULE-002", "Per instrument", 0, None, "none held", ZERO, False)
        return
    order = {"ok": 0, "warn": 1, "breached": 2}
    yield max(figures, key=lambda u: (order[u.level], u.ratio or 0.0))


def _daily_loss(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    assert isinstance(block, DailyRealizedLossConfig)
    value = cents(state.realized_pnl + (state.unrealized_pnl if block.include_unrealized else ZERO))
    limit = block.limit
    text = f"{value:.2f} / {limit:.2f}"
    breached = value <= limit or _locked(state, "RULE-003")
    yield _usage("RULE-003", "Daily loss", _money(value), _money(limit), text, _share(value, limit), breached)


def _profit_target(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    assert isinstance(block, DailyRealizedProfitConfig)
    value = cents(state.realized_pnl + (state.unrealized_pnl if block.include_unrealized else ZERO))
    target = block.target
    text = f"{value:.2f} / {target:.2f}"
    breached = value >= target or _locked(state, "RULE-013")
    yield _usage(
        "RULE-013", "Profit target", _money(value), _money(target), text, _share(value, target), breached
    )


def _position_extreme(state: AccountState, worst: bool) -> tuple[str, Decimal] | None:
    """(symbol, unrealized) of the position with the lowest (``worst``) or highest known P&L."""
    known = [
        (state.catalog.symbol(cid), cents(u))
        for cid in sorted(state.positions)
        if (u := state.position_unrealized(cid)) is not None
    ]
    if not known:
        return None
    return (min if worst else max)(known, key=lambda item: item[1])


def _position_loss(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    assert isinstance(block, DailyUnrealizedLossConfig)
    yield _position_figure("RULE-004", "Position loss", state, block.limit, worst=True)


def _position_profit(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    assert isinstance(block, MaxUnrealizedProfitConfig)
    yield _position_figure("RULE-005", "Position profit", state, block.target, worst=False)


def _position_figure(rule: str, label: str, state: AccountState, limit: Decimal, *, worst: bool) -> Usage:
    extreme = _position_extreme(state, worst)
    if extreme is None:
        return _usage(rule, label, None, _money(limit), f"— / {limit:.2f}", ZERO, False)
    symbol, value = extreme
    breached = value <= limit if worst else value >= limit
    text = f"{symbol} {value:.2f} / {limit:.2f}"
    return _usage(rule, label, _money(value), _money(limit), text, _share(value, limit), breached)


def _frequency(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    """One figure per enabled window, counted over windows ending now."""
    assert isinstance(block, TradeFrequencyLimitConfig)
    locked = _locked(state, "RULE-006")
    for window in count_windows(block, state.trades.values(), now):
        yield _count("RULE-006", _WINDOW_LABELS[window.key], window.count, window.limit, locked)


def _loss_cooldown(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    """Today's worst closing order against the shallowest tier (the first loss that forces a break)."""
    assert isinstance(block, CooldownAfterLossConfig)
    first = max(block.tiers, key=lambda tier: tier.loss_amount)
    by_order: dict[int, Decimal] = {}
    for fill in state.fills.values():
        if fill.pnl is not None and not fill.voided:
            fees = fill.fees if state.includes_fees else ZERO
            by_order[fill.order_id] = by_order.get(fill.order_id, ZERO) + fill.pnl - fees
    worst = cents(min(by_order.values(), default=ZERO))
    text = f"worst exit {worst:.2f} / {first.loss_amount:.2f}"
    ratio = _share(worst, first.loss_amount)
    yield _usage(
        "RULE-007", "Loss cooldown", _money(worst), _money(first.loss_amount), text, ratio,
        _locked(state, "RULE-007"),
    )  # fmt: skip


def _grace(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    """Positions without a full stop (each runs a grace timer); any is a warning."""
    assert isinstance(block, NoStopLossGraceConfig)
    bare = sum(1 for cid, p in state.positions.items() if state.protected_quantity(cid) < abs(p.size))
    grace = block.grace_period_seconds
    text = "all protected" if not bare else f"{bare} unprotected ({grace}s grace)"
    level: Level = "warn" if bare else "ok"
    yield Usage("RULE-008", "Stop-loss grace", bare, 0, text, None, level)


def _session(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    """Open or closed, as the rule's own session locks say (the rule locks a scope once it closes)."""
    assert isinstance(block, SessionBlockOutsideConfig)
    scopes = sorted(scope for rule, scope in state.held_locks if rule == "RULE-009")
    if ACCOUNT_SCOPE in scopes:
        text = "closed"
    else:
        text = "open" if not scopes else f"open; closed: {', '.join(scopes)}"
    breached = ACCOUNT_SCOPE in scopes
    yield Usage("RULE-009", "Session", None, None, text, None, "breached" if breached else "ok")


def _can_trade(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    assert isinstance(block, AuthLossGuardConfig)
    breached = not state.can_trade or _locked(state, "RULE-010")
    text = "canTrade" if state.can_trade else "canTrade false"
    yield Usage("RULE-010", "Broker", None, None, text, None, "breached" if breached else "ok")


def _symbol_blocks(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    """The blocked list; red while a blocked symbol is still held (the daemon is closing it)."""
    assert isinstance(block, SymbolBlocksConfig)
    held = sorted({s for cid in state.positions if block.is_blocked(s := state.catalog.symbol(cid))})
    text = ", ".join(block.blocked_symbols) or "none"
    if held:
        text += f" (held: {', '.join(held)})"
    yield Usage("RULE-011", "Blocked symbols", len(held), 0, text, None, "breached" if held else "ok")


def _trade_management(block: RuleConfig, state: AccountState, now: datetime) -> Iterator[Usage]:
    """What the automation does; it never breaches (it only places and moves orders)."""
    assert isinstance(block, TradeManagementConfig)
    parts = []
    if block.auto_stop_loss is not None and block.auto_stop_loss.enabled:
        parts.append(f"stop {block.auto_stop_loss.ticks}t")
    if block.auto_take_profit is not None and block.auto_take_profit.enabled:
        parts.append(f"target {block.auto_take_profit.ticks}t")
    if block.breakeven is not None and block.breakeven.enabled:
        parts.append(f"breakeven {block.breakeven.trigger_ticks}t")
    if block.trailing_stop is not None and block.trailing_stop.enabled:
        parts.append(f"trail {block.trailing_stop.activation_ticks}/{block.trailing_stop.trail_ticks}t")
    yield Usage("RULE-012", "Trade management", None, None, ", ".join(parts) or "all parts off", None, "ok")


_Figures = Callable[[RuleConfig, AccountState, datetime], Iterator[Usage]]

_FIGURES: dict[str, _Figures] = {
    "RULE-001": _max_contracts,
    "RULE-002": _per_instrument,
    "RULE-003": _daily_loss,
    "RULE-004": _position_loss,
    "RULE-005": _position_profit,
    "RULE-006": _frequency,
    "RULE-007": _loss_cooldown,
    "RULE-008": _grace,
    "RULE-009": _session,
    "RULE-010": _can_trade,
    "RULE-011": _symbol_blocks,
    "RULE-012": _trade_management,
    "RULE-013": _profit_target,
}


__all__ = ["WARN_AT", "Level", "Usage", "level_of", "rule_usage"]
