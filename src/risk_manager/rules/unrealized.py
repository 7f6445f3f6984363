"""Per-position unrealized P&L checks shared by RULE-004 (loss limit) and RULE-005 (profit target)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from risk_manager.domain import Decision, Evaluate, Event, PositionUpdated, QuoteReceived, cents, close
from risk_manager.ledger import AccountState
from risk_manager.rules.bands import Band, one_sided

#: money: limits compare P&L rounded half-up to cents, so a band stops a cent short of them
MARGIN = 0.01


def contracts_to_check(state: AccountState, event: Event) -> list[str]:
    """The held contracts whose unrealized P&L ``event`` may have moved.

    A quote or a position update moves only its own contract; startup and reload check all.
    """
    if isinstance(event, QuoteReceived):
        candidates = [event.quote.contract_id]
    elif isinstance(event, PositionUpdated):
        candidates = [event.position.contract_id]
    elif isinstance(event, Evaluate):
        candidates = sorted(state.positions)
    else:
        return []
    return [cid for cid in candidates if cid in state.positions]


def least_room(state: AccountState, room: Callable[[Decimal], Decimal]) -> Decimal | None:
    """The smallest ``room(unrealized)`` over positions with a known unrealized P&L.

    A quote moves one position's unrealized P&L by at most the money it moves the account,
    so while the account moves by less than this no position can breach. None when no
    position has a known value (a first quote is always evaluated by the engine).
    """
    values = [v for cid in state.positions if (v := state.position_unrealized(cid)) is not None]
    return min((room(v) for v in values), default=None)


def bands_within(
    state: AccountState, room: Callable[[Decimal], Decimal], *, toward_profit: bool
) -> dict[str, Band]:
    """Per position with a known unrealized P&L, the marks a quote of it may reach before the rule acts.

    ``room(unrealized)`` is the money the position may still move toward profit
    (``toward_profit``) or toward loss; moving the other way only takes it further from the
    threshold, so the band is one-sided. Only a quote of its own contract is checked against
    a position (``contracts_to_check``), so each position gets its whole room.
    """
    bands = {}
    for contract_id, position in state.positions.items():
        value = state.position_unrealized(contract_id)
        if value is None:
            continue  # unknown (no mark or tick spec, SPEC §4.4): the rule skips the position
        tick = state.catalog.tick(contract_id)
        assert tick is not None  # a known unrealized P&L has a tick spec
        money_per_point = abs(position.size) * float(tick.tick_value / tick.tick_size)
        distance = (float(room(value)) - MARGIN) / money_per_point
        mark = float(state.market.marks[contract_id])
        bands[contract_id] = one_sided(mark, distance, up=(position.size > 0) == toward_profit)
    return bands


def close_positions_where(
    state: AccountState,
    event: Event,
    rule: str,
    breached: Callable[[Decimal], bool],
    reason: Callable[[str, Decimal], str],
    **threshold: str,
) -> list[Decision]:
    """One CLOSE_POSITION decision per checked position whose unrealized P&L (cents) is ``breached``.

    Positions without a mark or tick spec (unrealized unknown, SPEC §4.4) are skipped.
    """
    decisions = []
    for contract_id in contracts_to_check(state, event):
        value = state.position_unrealized(contract_id)
        if value is None:
            continue
        unrealized = cents(value)  # half-up to cents, then compared inclusively
        if not breached(unrealized):
            continue
        position = state.positions[contract_id]
        symbol = state.catalog.symbol(contract_id)
        seen = {
            "contract_id": contract_id,
            "size": str(position.size),
            "avg_price": str(position.avg_price),
            "mark": str(state.market.mark(contract_id)),
            "unrealized": f"{unrealized:.2f}",
            **threshold,
        }
        actions = (close(contract_id, abs(position.size)),)
        decisions.append(Decision(state.account_id, rule, reason(symbol, unrealized), actions, None, seen))
    return decisions


__all__ = ["bands_within", "close_positions_where", "contracts_to_check", "least_room"]
