"""Startup and resync (SPEC §4.2): restore locks and timers, run a missed reset, rebuild
today's ledger from the journal, then take the broker's REST view as the truth.

The same resync runs after every reconnect, so an event missed while disconnected
is still enforced.
"""

from __future__ import annotations

import logging
from datetime import datetime

from risk_manager.broker.base import Broker, BrokerError
from risk_manager.domain import (
    AccountUpdated,
    Evaluate,
    FillReceived,
    OrderUpdated,
)
from risk_manager.engine.engine import Engine, Source
from risk_manager.engine.journal import replay_events
from risk_manager.schedule import Lockout, LockoutBook, Timer
from risk_manager.store import LockRow, TimerRow
from risk_manager.store.timefmt import from_iso

log = logging.getLogger("risk_manager.engine")


def restore(engine: Engine) -> None:
    """Rebuild in-memory state from the store, as after a crash or a reboot."""
    now = engine.clock.now()
    store = engine.store.store
    active = [_lockout(row) for row in store.active_lockouts()]
    engine.locks = LockoutBook(store.max_lockout_id() + 1)  # ids of cleared locks are taken too
    expired = engine.locks.restore(active, now)
    for lock in engine.locks.active():
        state = engine.account(lock.account_id)
        if state is not None:
            engine.hold(state, lock.rule_id, lock.scope)
    engine.record_unlocks(expired)
    engine.timers.restore(_timer(row) for row in store.timers())
    for timer in engine.timers.all():
        state = engine.account(timer.account_id) if timer.account_id is not None else None
        if state is not None:
            state.timers[timer.name] = timer.expires_at
    _run_missed_reset(engine, now)
    _rebuild(engine, now)


def _run_missed_reset(engine: Engine, now: datetime) -> None:
    due = engine.reset.last_reset(now)
    stamp = engine.store.store.get_meta("last_reset")
    if stamp is None:
        engine.store.write(lambda store: store.set_meta("last_reset", due.isoformat()))
    elif from_iso(stamp) < due:
        log.info("daily reset at %s was missed while down: running it now", due.isoformat())
        engine.run_reset(due)
    else:  # an admin reset-day later than the scheduled reset still bounds today's P&L
        engine.day_started_at = from_iso(stamp)


def _rebuild(engine: Engine, now: datetime) -> None:
    """Fold today's journal back into the ledger (no rules, no enforcement, no re-journaling)."""
    store = engine.store.store
    since = engine.day_start(now)
    for state in engine.states.values():
        if state.trading_date is not None:
            state.daemon_orders.update(
                r.order_id for r in store.fills(state.account_id, state.trading_date) if r.daemon_order
            )
    count = 0
    for event, note in replay_events(store, since):
        if note.get("daemon") and isinstance(event, OrderUpdated):
            owner = engine.account(event.account_id)
            if owner is not None:
                owner.daemon_orders.add(event.order.id)
        trade = note.get("trade")
        engine.fold(event, trade=trade if isinstance(trade, bool) else None)
        count += 1
    for state in engine.states.values():
        state.seed_shadow()
    log.info("rebuilt today's ledger from %d journaled events", count)


async def resync(engine: Engine, broker: Broker) -> None:
    """Take the broker's view (accounts, positions, orders, today's fills) and evaluate every rule."""
    now = engine.clock.now()
    try:
        accounts = await broker.search_accounts()
    except BrokerError as exc:
        log.error("resync: account search failed: %s", exc)
        accounts = []
    for info in accounts:
        if engine.account(info.id) is not None:
            engine.handle(AccountUpdated(now, info), Source("Account/search", None))
    for account_id in list(engine.states):
        try:
            await _resync_account(engine, broker, account_id)
        except BrokerError as exc:  # one account's failure leaves the others protected
            log.error("resync of account %s failed: %s", account_id, exc)
    for account_id in list(engine.states):
        engine.handle(Evaluate(engine.clock.now(), account_id, "startup"))


async def _resync_account(engine: Engine, broker: Broker, account_id: int) -> None:
    state = engine.states[account_id]
    now = engine.clock.now()
    trades = await broker.search_trades(account_id, engine.day_start(now))
    for fill in sorted(trades, key=lambda f: (f.at, f.id)):
        if fill.id not in state.fills:
            engine.handle(FillReceived(now, fill), Source("Trade/search", None))
    # Orders and positions are folded to the broker's truth without evaluating each one;
    # the Evaluate that follows runs every rule (and lockout mode) once on the result.
    orders = await broker.search_open_orders(account_id)
    positions = await broker.search_open_positions(account_id)
    engine.adopt(state, positions, orders, now, "Resync")


def _lockout(row: LockRow) -> Lockout:
    return Lockout(
        row.id,
        row.account_id,
        row.rule_id,
        row.scope,
        row.kind,
        row.reason,
        row.created_at,
        row.expires_at,
        row.cleared_at,
        row.cleared_by,
    )


def _timer(row: TimerRow) -> Timer:
    return Timer(row.name, row.account_id, row.kind, row.expires_at, dict(row.payload))


__all__ = ["restore", "resync"]
