"""RULE-006 Trade Frequency Limit: stop overtrading (SPEC §3, timer-cooldown).

A *trade* is one trader order with at least one entry fill; the ledger keeps them in
``AccountState.trades`` (order id -> time of its first entry fill), already without
exits, daemon fills and fills under a lock (SPEC §1, engine ``_fold_fill``). Windows are
(t − 60 s, t], (t − 3600 s, t] and the trading day so far, t being the breaching fill's
``creationTimestamp``; a count over its limit flattens the account and starts a cooldown,
the longest of the breached windows' cooldowns, from that fill's time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from risk_manager.config.fields import format_duration
from risk_manager.config.risk import TradeFrequencyLimitConfig
from risk_manager.domain import Decision, Event, FillReceived, Lock, flatten
from risk_manager.ledger import AccountState

RULE_ID = "RULE-006"

#: (config key, word in the reason, window length; None = the trading day since the last reset)
WINDOWS: tuple[tuple[str, str, timedelta | None], ...] = (
    ("per_minute", "minute", timedelta(seconds=60)),
    ("per_hour", "hour", timedelta(seconds=3600)),
    ("per_session", "session", None),
)


@dataclass(frozen=True, slots=True)
class WindowCount:
    """The trades one window holds at its end, against that window's limit and cooldown."""

    key: str
    word: str
    length: timedelta | None
    end: datetime
    count: int
    limit: int
    cooldown: timedelta

    @property
    def breached(self) -> bool:
        return self.count > self.limit  # counts are strict: the limit is the maximum allowed

    def holds(self, at: datetime) -> bool:
        """Whether a trade at ``at`` is in this window."""
        return at <= self.end and (self.length is None or at > self.end - self.length)


def triggers(config: TradeFrequencyLimitConfig) -> frozenset[type]:
    """SPEC: entry fills (only a fill that makes a new trade can raise a count)."""
    return frozenset({FillReceived})


def evaluate(
    config: TradeFrequencyLimitConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    if not isinstance(event, FillReceived) or state.holds_lock(RULE_ID):
        # Fills under a lock never become trades, so while the cooldown is held no new
        # breach can arise: a repeat would only re-flatten an account already flat.
        return []
    fill = event.fill
    if state.trades.get(fill.order_id) != fill.at:
        return []  # an exit, a daemon fill, a fill under a lock or a later partial: no new trade
    for end in _window_ends(state.trades.values(), fill.at):
        counts = count_windows(config, state.trades.values(), end)
        breached = [c for c in counts if c.breached]
        if any(c.holds(fill.at) for c in breached):
            break  # this trade took a window over its limit (the longest cooldown applies)
    else:
        return []
    cooldown = max(c.cooldown for c in breached)
    until = end + cooldown
    if until <= now:
        return []  # a breach found late (resync) whose cooldown is already over
    detail = ", ".join(f"{c.count} > {c.limit} per {c.word}" for c in breached)
    reason = f"trades {detail}: cooldown {format_duration(cooldown)}"
    seen = {"at": end.isoformat(), "cooldown": format_duration(cooldown)}
    for c in counts:
        seen[c.key] = str(c.count)
        seen[f"{c.key}_limit"] = str(c.limit)
    lock = Lock(kind="cooldown", scope="account", until=until)
    return [flatten(state.account_id, RULE_ID, reason, lock, **seen)]


def count_windows(
    config: TradeFrequencyLimitConfig, trades: Iterable[datetime], end: datetime
) -> list[WindowCount]:
    """The trades each enabled window holds when it ends at ``end`` (UTC): (end − length, end]."""
    times = [at for at in trades if at <= end]
    counts: list[WindowCount] = []
    for key, word, length in WINDOWS:
        limit: int | None = getattr(config.limits, key)
        if limit is None:
            continue
        held = len(times) if length is None else sum(1 for at in times if at > end - length)
        counts.append(WindowCount(key, word, length, end, held, limit, getattr(config.cooldowns, key)))
    return counts


def _window_ends(trades: Iterable[datetime], at: datetime) -> list[datetime]:
    """The trade times whose windows the new trade at ``at`` falls into, earliest first.

    Live, fills arrive in time order and this is just ``[at]``; a fill found late on a
    resync (SPEC §4.2) also raises the counts of the trades after it, and the first of
    those whose count goes over is the breaching one.
    """
    return sorted({t for t in trades if t >= at})


__all__ = ["RULE_ID", "WINDOWS", "WindowCount", "count_windows", "evaluate", "triggers"]
