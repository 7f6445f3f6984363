"""RULE-009 Session Block Outside Hours: trade only inside the configured windows (SPEC §3, hard lockout).

A *scope* is the account (following ``session``) or one ``per_instrument`` symbol (following
its own window). Outside its window a scope is session-locked: a lock of kind ``session``
expiring at the window's next opening, so the engine's lockout mode (``engine/gate.py``)
blocks new exposure while it is held and clears it, ``unlock`` by session, when the window
opens. The daily reset keeps it (SPEC §4.3).

The rule is pure and remembers nothing, so the lock itself is its memory: the first
evaluation that finds a scope closed with no lock for it is the scope's window end (the
Tick the ``wakeup`` asks for at the close, or the startup ``Evaluate`` after the close went
by unseen). There it takes the lock and, with ``close_at_session_end``, closes what the
scope holds: a flatten for the account, the symbol's positions and orders for a symbol.
Without it, held positions and their orders stay; only new exposure is refused. Once the
lock is held, orders and fills are the gate's business and this rule stays silent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from risk_manager.config.risk import SessionBlockOutsideConfig
from risk_manager.config.risk import SessionWindow as WindowConfig
from risk_manager.domain import (
    ACCOUNT_SCOPE,
    Action,
    ActionKind,
    Decision,
    Evaluate,
    Event,
    Lock,
    Order,
    OrderSide,
    OrderUpdated,
    PositionUpdated,
    Tick,
    cancel_order,
    close,
)
from risk_manager.ledger import AccountState
from risk_manager.schedule import ExchangeCalendar, Session, SessionSchedule, SessionWindow

RULE_ID = "RULE-009"

_CACHE_LIMIT = 32


def triggers(config: SessionBlockOutsideConfig) -> frozenset[type]:
    """SPEC: order placed, position opened/increased, 1 s tick, startup (and reload)."""
    return frozenset({OrderUpdated, PositionUpdated, Tick, Evaluate})


def wakeup(config: SessionBlockOutsideConfig, state: AccountState, now: datetime) -> datetime | None:
    """The next opening or closing of any of the config's windows (replay jumps there)."""
    changes = [
        change for scope in _plan(config, state.calendar).scopes if (change := _next_change(scope, now))
    ]
    return min(changes, default=None)


def exempt(config: SessionBlockOutsideConfig) -> frozenset[str]:
    """Symbols with a window of their own: the account's session lock is not theirs.

    A hook for the engine's lockout mode and reconciler (proposed ``RuleSpec.exempt``);
    until they read it, an account session lock also blocks these symbols.
    """
    return frozenset(config.per_instrument)


def flattens(config: SessionBlockOutsideConfig) -> bool:
    """Whether the session locks stand for "hold nothing" (the reconciler may re-flatten).

    Without ``close_at_session_end`` held positions may stay (SPEC §3). A hook for the
    engine's reconciler (proposed ``RuleSpec.flattens``).
    """
    return config.close_at_session_end


def evaluate(
    config: SessionBlockOutsideConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    """Lock every closed scope that holds no lock yet (see the module docstring).

    An order or position event concerns the scope of its symbol only; a tick or an
    evaluation looks at every scope.
    """
    plan = _plan(config, state.calendar)
    if isinstance(event, OrderUpdated | PositionUpdated):
        contract_id = (
            event.order.contract_id if isinstance(event, OrderUpdated) else event.position.contract_id
        )
        decision = _lock_if_closed(
            config, state, plan, plan.scope_of(state.catalog.symbol(contract_id)), now, event
        )
        return [decision] if decision is not None else []
    decisions = [_lock_if_closed(config, state, plan, scope, now, None) for scope in plan.scopes]
    return [d for d in decisions if d is not None]


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True, slots=True)
class _Scope:
    """One lock scope: ``account`` (the ``session`` window) or an upper-case symbol."""

    name: str
    window: WindowConfig
    schedule: SessionSchedule
    #: the same window ignoring holidays and early closes (to say why a scope is closed)
    regular: SessionSchedule
    #: the session last found open: the order and position events inside it skip the calendar
    seen_open: list[Session] = field(default_factory=list, compare=False)

    @property
    def is_account(self) -> bool:
        return self.name == ACCOUNT_SCOPE


@dataclass(frozen=True, slots=True)
class _Plan:
    """The scopes of one config on one calendar, account first, then symbols A-Z."""

    scopes: tuple[_Scope, ...]
    #: symbols with a window of their own: the account scope does not cover them
    own_windows: frozenset[str]

    def scope_of(self, symbol: str) -> _Scope:
        name = symbol.upper()
        if name not in self.own_windows:
            return self.scopes[0]  # the account's window: every order and position event asks
        return next((s for s in self.scopes if s.name == name), self.scopes[0])

    def covers(self, scope: _Scope, symbol: str) -> bool:
        """Whether ``symbol`` follows ``scope``'s window."""
        symbol = symbol.upper()
        return symbol not in self.own_windows if scope.is_account else symbol == scope.name


_plans: dict[tuple[int, int], tuple[SessionBlockOutsideConfig, ExchangeCalendar, _Plan]] = {}
_default_calendar: ExchangeCalendar | None = None


def _plan(config: SessionBlockOutsideConfig, calendar: ExchangeCalendar | None) -> _Plan:
    """The config's schedules, built once per (config, calendar): the rule runs every second.

    Keyed by identity; the entry keeps both objects alive, so an id is never reused for
    another config while its entry exists.
    """
    global _default_calendar
    if calendar is None:
        if _default_calendar is None:
            _default_calendar = ExchangeCalendar()
        calendar = _default_calendar
    key = (id(config), id(calendar))
    hit = _plans.get(key)
    if hit is not None and hit[0] is config and hit[1] is calendar:
        return hit[2]
    if len(_plans) >= _CACHE_LIMIT:
        _plans.clear()
    windows: list[tuple[str, str | None, WindowConfig]] = [(ACCOUNT_SCOPE, None, config.session)]
    windows += [(symbol, symbol, config.per_instrument[symbol]) for symbol in sorted(config.per_instrument)]
    scopes = []
    for name, symbol, window in windows:
        times = SessionWindow(window.start, window.end, window.zone, window.weekdays)
        schedule = SessionSchedule(times, calendar, symbol, config.respect_holidays)
        scopes.append(_Scope(name, window, schedule, SessionSchedule(times, calendar, symbol, False)))
    plan = _Plan(tuple(scopes), frozenset(config.per_instrument))
    _plans[key] = (config, calendar, plan)
    return plan


def _next_change(scope: _Scope, now: datetime) -> datetime | None:
    try:
        return scope.schedule.next_change(now)
    except LookupError:  # no opening within a year: nothing left to wake up for
        return None


def _is_open(scope: _Scope, now: datetime) -> bool:
    """``scope.schedule.is_open(now)``, asked of the session found open last time first."""
    if scope.seen_open and scope.seen_open[0].contains(now):
        return True
    session = scope.schedule.window_containing(now)
    if session is None:
        return False
    scope.seen_open[:] = [session]
    return True


def _next_open(scope: _Scope, now: datetime) -> datetime | None:
    try:
        return scope.schedule.next_open(now)
    except LookupError:
        return None


# --------------------------------------------------------------------------- deciding


def _lock_if_closed(
    config: SessionBlockOutsideConfig,
    state: AccountState,
    plan: _Plan,
    scope: _Scope,
    now: datetime,
    event: OrderUpdated | PositionUpdated | None,
) -> Decision | None:
    if state.holds_lock(RULE_ID, scope.name) or _is_open(scope, now):
        return None
    until = _next_open(scope, now)
    reason = _reason(scope, now, until)
    if config.close_at_session_end:
        actions = _close_scope(state, plan, scope)
    else:
        actions = _refuse_entry(state, event) if event is not None else ()
    seen = {"scope": scope.name, "window": _window_text(scope.window)}
    if until is not None:
        seen["opens"] = until.isoformat()
    return Decision(state.account_id, RULE_ID, reason, actions, Lock("session", scope.name, until), seen)


def _close_scope(state: AccountState, plan: _Plan, scope: _Scope) -> tuple[Action, ...]:
    """The scope's window ended: flatten the account, or close and cancel one symbol.

    Nothing held, nothing sent: the lock alone. An account flatten would also close
    symbols trading in windows of their own, so when the account holds any of those, its
    session symbols are closed one contract at a time instead.
    """
    symbol = state.catalog.symbol
    orders = list(_trader_orders(state))
    held = [*state.positions, *(o.contract_id for o in orders)]
    if scope.is_account and held and all(plan.covers(scope, symbol(cid)) for cid in held):
        return (Action(ActionKind.CANCEL_ALL), Action(ActionKind.CLOSE_ALL))
    actions: list[Action] = [
        close(cid, abs(p.size))
        for cid, p in sorted(state.positions.items())
        if plan.covers(scope, symbol(cid))
    ]
    # Closing a whole position cancels that contract's orders (SPEC §2: the merge adds it).
    actions += [
        cancel_order(o.id, o.contract_id)
        for o in orders
        if o.contract_id not in state.positions and plan.covers(scope, symbol(o.contract_id))
    ]
    return tuple(actions)


def _refuse_entry(state: AccountState, event: OrderUpdated | PositionUpdated) -> tuple[Action, ...]:
    """Without ``close_at_session_end``: what lockout mode would do to this event, had the
    lock been taken a moment earlier (an event between the close and the next tick)."""
    if isinstance(event, OrderUpdated):
        order = event.order
        if order.is_working and order.id not in state.daemon_orders and not _reduces_only(state, order):
            return (cancel_order(order.id, order.contract_id),)
        return ()
    contract_id = event.position.contract_id
    size = state.position_size(contract_id)
    return (close(contract_id, abs(size)),) if size and _last_fill_opened(state, contract_id, size) else ()


def _reduces_only(state: AccountState, order: Order) -> bool:
    size = state.position_size(order.contract_id)
    return size != 0 and order.side is OrderSide.closing(size) and order.size <= abs(size)


def _last_fill_opened(state: AccountState, contract_id: str, size: int) -> bool:
    """Whether the fill behind this position update opened or increased it (same direction).

    A position the day's fills don't explain was held before: it may stay.
    """
    fills = [f for f in state.fills.values() if f.contract_id == contract_id and not f.voided]
    if not fills:
        return False
    last = max(fills, key=lambda f: (f.at, f.id))
    return last.signed_size * size > 0


def _trader_orders(state: AccountState) -> Iterator[Order]:
    for order in sorted(state.orders.values(), key=lambda o: o.id):
        if order.is_working and order.id not in state.daemon_orders:
            yield order


# --------------------------------------------------------------------------- reasons


def _reason(scope: _Scope, now: datetime, until: datetime | None) -> str:
    """``CL outside session 17:00-16:00 America/Chicago (holiday 2025-12-25 Christmas); opens ...``."""
    who = "" if scope.is_account else f"{scope.name} "
    opens = "no session within a year"
    if until is not None:
        opens = f"opens {until.astimezone(scope.window.zone):%a %Y-%m-%d %H:%M}"
    return f"{who}outside session {_window_text(scope.window)}{_why_closed(scope, now, until)}; {opens}"


def _window_text(window: WindowConfig) -> str:
    return f"{window.start:%H:%M}-{window.end:%H:%M} {window.timezone}"


def _why_closed(scope: _Scope, now: datetime, until: datetime | None) -> str:
    """`` (holiday ...)`` or `` (early close ...)`` when the calendar, not the clock, closed it:
    the regular session holding ``now`` was cut, or the next regular one was cancelled."""
    if not scope.schedule.respect_holidays:
        return ""
    regular = scope.regular.window_containing(now)
    if regular is None:
        try:
            regular_open = scope.regular.next_open(now)
        except LookupError:
            return ""
        if until is not None and regular_open >= until:
            return ""
        regular = scope.regular.window_containing(regular_open)
        if regular is None:  # pragma: no cover - a regular session holds its own opening
            return ""
    calendar, symbol = scope.schedule.calendar, scope.schedule.symbol
    name = calendar.holiday_name(symbol, regular.closes_on)
    if name is not None:
        return f" (holiday {regular.closes_on} {name})"
    early = calendar.early_close(symbol, regular.closes_on)
    if early is not None:
        return f" (early close {regular.closes_on} {early.astimezone(scope.window.zone):%H:%M})"
    return ""


__all__ = ["RULE_ID", "evaluate", "exempt", "flattens", "triggers", "wakeup"]
