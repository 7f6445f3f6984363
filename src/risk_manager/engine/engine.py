"""The engine: event -> journal -> ledger -> lockout gate -> rules -> merge -> locks -> enforcer.

Per account, events run one at a time in arrival order (SPEC §4.1). The engine never
reads the wall clock: ``now`` comes from the injected clock, which is what lets the
same code run live, in replay and in the benchmarks.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from risk_manager.broker.base import BrokerError
from risk_manager.config.risk import GeneralConfig, RiskConfig
from risk_manager.domain import (
    ACCOUNT_SCOPE,
    CENT,
    CUTS,
    ZERO,
    AccountUpdated,
    Action,
    ActionKind,
    ContractCatalog,
    Decision,
    Evaluate,
    Event,
    Fill,
    FillReceived,
    Order,
    OrderSide,
    OrderUpdated,
    Position,
    PositionUpdated,
    QuoteReceived,
    Tick,
    TimerChange,
    cancel_order,
    cents,
    close,
    flatten,
)
from risk_manager.enforcement import Executor, Job, Outcome
from risk_manager.engine.gate import lockout_mode
from risk_manager.engine.journal import journal_decision, journal_event
from risk_manager.engine.merge import merge
from risk_manager.engine.persist import GuardedStore
from risk_manager.engine.quotes import INFINITE, BestMarks, QuoteWatch
from risk_manager.engine.records import Record, RecordSink, action_extras
from risk_manager.ledger import AccountState, Market
from risk_manager.rules import ActiveRule, active_rules, dispatch_table, rank
from risk_manager.rules.bands import Band
from risk_manager.rules.pending import CONFIRMATION_WINDOW, close_pending
from risk_manager.schedule import Clock, DailyReset, ExchangeCalendar, Lockout, LockoutBook, Timer, TimerBook
from risk_manager.store import (
    DailyPnlRow,
    EnforcementRow,
    FillRow,
    LockRow,
    Store,
    StoreError,
    backup_database,
)
from risk_manager.store.rows import EnforcementResult, TimerRow

log = logging.getLogger("risk_manager.engine")

RECONCILE_EVERY = timedelta(seconds=5)
PNL_EVERY = timedelta(seconds=10)
#: SPEC §4.1: an action awaits its confirmation for up to 5 s (the rules use the same window)
PENDING_CLOSE_FOR = CONFIRMATION_WINDOW
PLACES = frozenset({ActionKind.PLACE_STOP, ActionKind.PLACE_TARGET})
#: buffered journal rows and deferred writes that trigger a flush between ticks
FLUSH_BACKLOG = 2000


@dataclass(frozen=True, slots=True)
class Source:
    """Where an event came from: the gateway's event type and its raw payload (for the journal)."""

    type: str
    raw: object


class Engine:
    """Holds every account's state and lock book; turns events into enforcement."""

    def __init__(
        self,
        *,
        general: GeneralConfig,
        configs: Mapping[int, RiskConfig],
        store: Store,
        clock: Clock,
        executor_factory: Callable[[Engine], Executor],
        catalog: ContractCatalog | None = None,
        base_config: RiskConfig | None = None,
        calendar: ExchangeCalendar | None = None,
        on_record: RecordSink | None = None,
    ) -> None:
        self.general = general
        self.clock = clock
        self.store = GuardedStore(store)
        self.catalog = catalog or ContractCatalog(general.symbol_aliases, general.tick_specs())
        self.market = Market(general.mark_price)
        self.calendar = calendar or ExchangeCalendar()
        self.reset = DailyReset(general.daily_reset.time, general.daily_reset.zone)
        self.locks = LockoutBook()
        self.timers = TimerBook()
        self.states: dict[int, AccountState] = {}
        self._configs = dict(configs)
        self._base = base_config if general.protect_unlisted_accounts else None
        self._rules: dict[int, dict[type, tuple[ActiveRule, ...]]] = {}
        self._holders: dict[str, set[int]] = defaultdict(set)
        #: when each account last had actions sent: the reconciler leaves them 5 s to confirm
        self._last_sent: dict[int, datetime] = {}
        #: accounts holding an account-wide lock: the only ones the reconciler looks at
        self._locked: set[int] = set()
        #: per account, the rules that ask to be woken at a time of their own (session edges)
        self._wakers: dict[int, tuple[ActiveRule, ...]] = {}
        self._wakeups: dict[int, datetime] = {}
        #: which holders a quote must wake (see ``_quote``)
        self._watch = QuoteWatch()
        #: accounts whose rules need the best mark since each position opened (RULE-012)
        self._best_trackers: set[int] = set()
        #: their positions, by the mark that would beat their best
        self._bests = BestMarks()
        #: accounts whose daily P&L row changed since the last flush (written coalesced)
        self._pnl_dirty: set[int] = set()
        #: the trading day last asked about: (its first instant, the next reset, its label)
        self._day = (datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC), date.min)
        #: latest quote per contract not yet journaled (quotes are journaled coalesced)
        self._unjournaled: dict[str, tuple[QuoteReceived, Source | None, datetime]] = {}
        self._on_record = on_record or (lambda record: None)
        self.executor = executor_factory(self)
        now = clock.now()
        self.next_reset = self.reset.next_reset(now)
        #: when the trading day last started: the scheduled reset, or later an admin ``reset-day``
        self.day_started_at: datetime | None = None
        self._next_reconcile = now + RECONCILE_EVERY
        self._next_pnl = now + PNL_EVERY
        for account_id in self._configs:
            self.account(account_id)

    # -- accounts ---------------------------------------------------------------------------------

    def account(self, account_id: int) -> AccountState | None:
        """The state of a monitored account, created on first sight; None if not monitored."""
        state = self.states.get(account_id)
        if state is not None:
            return state
        config = self._configs.get(account_id, self._base)
        if config is None:
            return None
        now = self.clock.now()
        state = AccountState(account_id, self.catalog, self.market, self.general.pnl_includes_fees)
        state.calendar = self.calendar
        state.start_day(self.reset.trading_date(now), self.reset.next_reset(now))
        self.states[account_id] = state
        self.install_rules(state, config, now)
        return state

    def install_rules(self, state: AccountState, config: RiskConfig, now: datetime) -> None:
        """The account's rule tables from its config: at first sight, and on a config change."""
        account_id = state.account_id
        rules = active_rules(config.rules)
        self._rules[account_id] = dispatch_table(rules)
        self._wakers[account_id] = tuple(rule for rule in rules if rule.spec.wakeup is not None)
        if any(rule.spec.tracks_best_marks for rule in rules):
            self._best_trackers.add(account_id)
        else:
            self._best_trackers.discard(account_id)
        self._follow_bests(state)
        state.lock_exempt = {r.spec.id: r.spec.exempt(r.config) for r in rules if r.spec.exempt is not None}
        state.holding_rules = frozenset(
            r.spec.id for r in rules if r.spec.flattens is not None and not r.spec.flattens(r.config)
        )
        self._watch.disarm(account_id)
        self._wake(state, now)

    def _follow_bests(self, state: AccountState) -> None:
        """Keep (or stop keeping) the best marks of the account's positions, as its rules need."""
        tracked = state.account_id in self._best_trackers
        for contract_id, position in state.positions.items():
            size = position.size if tracked else 0
            self._bests.follow(state.account_id, contract_id, size, state.best_marks.get(contract_id))

    def state_of(self, account_id: int) -> AccountState | None:
        return self.states.get(account_id)

    def config_of(self, account_id: int) -> RiskConfig | None:
        """The rules an account runs under now (its own, or the base one for an unlisted account)."""
        return self._configs.get(account_id, self._base)

    def set_configs(self, configs: Mapping[int, RiskConfig], base: RiskConfig | None) -> None:
        """New per-account configs; the caller reinstalls the rules (``engine.admin.reconfigure``)."""
        self._configs = dict(configs)
        self._base = base if self.general.protect_unlisted_accounts else None

    def log_admin(self, at: datetime, account: int | None, rule: str | None, action: str, why: str) -> None:
        """An admin action in the enforcement log (ADMIN_UNLOCK, ADMIN_OVERRIDE, SERVICE_STOP...)."""
        self._log(at, account, rule, action, None, None, why, "OK")

    # -- events -----------------------------------------------------------------------------------

    def handle(self, event: Event, source: Source | None = None) -> None:
        """Process one event to the end: journal, fold, decide, lock, dispatch."""
        now = self.clock.now()
        if isinstance(event, Tick):
            self.tick(now)
            return
        if isinstance(event, QuoteReceived):
            self._quote(event, source, now)
            return
        state = self.account(event.account_id)
        previous = self._fold(state, event, now) if state is not None else None
        # journaled after folding only so a fill can carry what the ledger made of it
        journal_event(self.store.store, event, source, now, self._annotation(state, event))
        if self.store.store.journal_backlog >= FLUSH_BACKLOG:
            self.flush(now, wait=False)
        if state is None:
            return
        self._watch.disarm(state.account_id)
        self._evaluate(state, event, now, previous)

    @staticmethod
    def _annotation(state: AccountState | None, event: Event) -> dict[str, object] | None:
        """What a restart cannot re-derive: whether a fill counted as a trade (no lock, not ours),
        and which orders are the daemon's (their customTag alone proves nothing, SPEC §1)."""
        if state is None:
            return None
        if isinstance(event, OrderUpdated):
            return {"daemon": True} if event.order.id in state.daemon_orders else None
        if isinstance(event, FillReceived):
            order_id = event.fill.order_id
            return {"trade": order_id in state.trades and order_id not in state.daemon_orders}
        return None

    def _quote(self, event: QuoteReceived, source: Source | None, now: datetime) -> None:
        """A quote concerns every account holding the contract, but wakes only those it can
        affect (``QuoteWatch``: each account's quote rules report the room they have left).

        A holder disarmed by an event of its own since is armed first, from the state that
        event left and the marks before this quote (a band holds for any state): the quote
        then evaluates it only if it reaches the band, like any other holder.

        Quotes are journaled coalesced (SPEC §4.4): the latest per contract on each tick,
        and at once when one leads to a decision, so the journal holds every quote that
        mattered.
        """
        contract_id = event.quote.contract_id
        self._unjournaled[contract_id] = (event, source, now)
        old = self.market.marks.get(contract_id)
        holders = self._holders.get(contract_id)
        if holders and old is not None:
            for account_id in self._watch.unarmed(holders):
                self._arm(self.states[account_id])
        new = self.market.apply(event.quote)
        if new is None or not holders:
            return
        for account_id in self._bests.beaten(contract_id, new):
            self.states[account_id].note_mark(contract_id, new)
        for account_id in self._watch.due(contract_id, float(new) if old is not None else None, holders):
            state = self.states[account_id]
            self._evaluate(state, event, now, None)
            self._arm(state)

    def _arm(self, state: AccountState) -> None:
        """Arm the account's quote watch with what its state allows now (see ``QuoteWatch``)."""
        room = self._quote_room(state)
        if room is None or room <= 0:
            self._watch.disarm(state.account_id)
        else:
            self._watch.arm(state.account_id, self._bands(state, room))

    def _quote_room(self, state: AccountState) -> float | None:
        """Money the account's P&L may move before any of its quote rules without bands could fire.

        None when a quote rule gives no bound (it must see every quote). A cent of margin
        keeps the float bound conservative; the rules themselves decide in Decimal.
        """
        room = INFINITE
        for rule in self._rules[state.account_id].get(QuoteReceived, ()):
            if rule.spec.quote_bands is not None:
                continue  # bounded per contract (``_bands``)
            if rule.spec.headroom is None:
                return None
            value = rule.spec.headroom(rule.config, state)
            if value is not None:
                room = min(room, float(value) - 0.01)
        return room

    def _bands(self, state: AccountState, room: float) -> dict[str, Band]:
        """Per held contract, the marks its quotes may reach before a quote rule of the account could act.

        ``room`` (money) is shared evenly by the positions whose P&L is known, each share
        turned into a band around its mark; the rules with bands of their own narrow them.
        """
        bands: dict[str, Band] = {}
        if room != INFINITE:
            marks, tick_of = self.market.marks, self.catalog.tick
            known = [
                (contract_id, position, tick)
                for contract_id, position in state.positions.items()
                if contract_id in marks and (tick := tick_of(contract_id)) is not None and tick.tick_value
            ]
            for contract_id, position, tick in known:
                width = room / len(known) / (abs(position.size) * float(tick.tick_value / tick.tick_size))
                mark = float(marks[contract_id])
                bands[contract_id] = (mark - width, mark + width)
        for rule in self._rules[state.account_id].get(QuoteReceived, ()):
            if rule.spec.quote_bands is None:
                continue
            for contract_id, (low, high) in rule.spec.quote_bands(rule.config, state).items():
                band = bands.get(contract_id)
                bands[contract_id] = (low, high) if band is None else (max(low, band[0]), min(high, band[1]))
        return bands

    def flush(self, now: datetime, *, wait: bool = True) -> None:
        """Make everything held in memory durable: coalesced quotes, daily P&L, journal, fills.

        ``wait=False`` (the hot path and the 1 s tick) leaves the commit to the store's
        writer thread; a lock row, a reset or a shutdown waits for it.
        """
        self.journal_quotes()
        for account_id in self._pnl_dirty:
            self._save_pnl(self.states[account_id], now)
        self._pnl_dirty.clear()
        self.store.retry()
        if wait:
            self.store.flush()
        else:
            self.store.flush_soon()

    def journal_quotes(self) -> None:
        """Journal the quotes held back since the last tick (latest per contract)."""
        for event, source, at in self._unjournaled.values():
            journal_event(self.store.store, event, source, at)
        self._unjournaled.clear()

    def fold(self, event: Event, source: Source | None = None, trade: bool | None = None) -> None:
        """Fold an event into state without evaluating rules.

        With a ``source`` (a REST resync) the event is journaled; without one (rebuilding
        from the journal) it is not, since it is already there. ``trade`` is the journaled
        verdict on whether a fill counted as a trade (locks then are not locks now).
        """
        if source is not None:
            journal_event(self.store.store, event, source, self.clock.now())
        if isinstance(event, QuoteReceived):
            self.market.apply(event.quote)
        elif not isinstance(event, Tick | Evaluate):
            state = self.account(event.account_id)
            if state is not None:
                self._fold(state, event, self.clock.now(), trade)

    def _fold(self, state: AccountState, event: Event, now: datetime, trade: bool | None = None) -> object:
        if isinstance(event, PositionUpdated):
            position = event.position
            previous = state.apply_position(position)
            holders = self._holders[position.contract_id]
            if position.size:
                holders.add(state.account_id)
            else:
                holders.discard(state.account_id)
            if state.account_id in self._best_trackers:
                best = state.best_marks.get(position.contract_id)
                self._bests.follow(state.account_id, position.contract_id, position.size, best)
            if abs(position.size) < abs(previous) or position.size == 0:
                state.pending_closes.pop(position.contract_id, None)
                if not state.positions:
                    state.pending_closes.pop("*", None)  # the flatten is confirmed
            return previous
        if isinstance(event, OrderUpdated):
            order = event.order
            if order.custom_tag is not None and order.custom_tag in state.daemon_tags:
                state.daemon_orders.add(order.id)
                placed = ActionKind.PLACE_STOP if order.is_stop else ActionKind.PLACE_TARGET
                state.placing.pop((order.contract_id, placed.value), None)  # it showed up: placed
            elif order.id not in state.orders and self._is_daemon_close(state, order, now):
                state.daemon_orders.add(order.id)
            return state.apply_order(order)
        if isinstance(event, FillReceived):
            self._fold_fill(state, event.fill, now, trade)
        elif isinstance(event, AccountUpdated):
            state.apply_account(event.account)
        return None

    def _is_daemon_close(self, state: AccountState, order: Order, now: datetime) -> bool:
        """closeContract returns no order id: a closing order created right after our close is ours."""
        sent = state.pending_closes.get(order.contract_id) or state.pending_closes.get("*")
        closing = order.side is OrderSide.closing(state.position_size(order.contract_id))
        return closing and sent is not None and order.created_at >= sent and now - sent <= PENDING_CLOSE_FOR

    def _fold_fill(self, state: AccountState, fill: Fill, now: datetime, trade: bool | None = None) -> None:
        day = self._trading_date(fill.at)
        daemon = fill.order_id in state.daemon_orders or (
            close_pending(state, fill.contract_id, now)
            and fill.side is OrderSide.closing(state.position_size(fill.contract_id) or -fill.signed_size)
        )
        if daemon:
            state.daemon_orders.add(fill.order_id)
        if day != state.trading_date:
            log.info(
                "fill %s belongs to trading day %s, not %s: kept out of today's P&L",
                fill.id,
                day,
                state.trading_date,
            )
            effect_entry = False
        else:
            counts = (not daemon and not state.is_locked()) if trade is None else trade
            effect = state.apply_fill(fill, count_as_trade=counts)
            effect_entry = effect.is_entry
            self._cross_check(state, fill, effect.computed_pnl)
        row = FillRow(
            fill.id,
            state.account_id,
            fill.order_id,
            fill.contract_id,
            self.catalog.symbol(fill.contract_id),
            fill.side,
            fill.size,
            fill.price,
            fill.pnl,
            fill.fees,
            fill.voided,
            effect_entry,
            daemon,
            fill.at,
            day,
        )
        self.store.write(lambda store: store.upsert_fill(row, defer=True))
        self._pnl_dirty.add(state.account_id)

    def _trading_date(self, at: datetime) -> date:
        """``reset.trading_date(at)``, remembered for the day it falls in: every fill asks."""
        start, end, label = self._day
        if start <= at < end:
            return label
        label = self.reset.trading_date(at)
        self._day = (self.reset.last_reset(at), self.reset.next_reset(at), label)
        return label

    def _cross_check(self, state: AccountState, fill: Fill, computed: object) -> None:
        """The broker's P&L is used; a disagreement with our own computation is only logged."""
        if fill.pnl is None or computed is None or fill.voided:
            return
        if abs(fill.pnl - computed) >= CENT:  # type: ignore[operator]  # a half-cent tie is agreement
            log.warning(
                "P&L cross-check: account %s fill %s broker %s, computed %.2f",
                state.account_id,
                fill.id,
                fill.pnl,
                computed,
            )

    # -- decisions --------------------------------------------------------------------------------

    def _evaluate(self, state: AccountState, event: Event, now: datetime, previous: object) -> None:
        decisions = lockout_mode(state, event, previous) if state.held_locks else []  # type: ignore[arg-type]
        for rule in self._rules[state.account_id].get(type(event), ()):
            try:
                decisions.extend(rule.spec.evaluate(rule.config, state, event, now))
            except Exception:  # one broken rule must not stop the others from enforcing
                log.exception("rule %s failed on account %s", rule.spec.id, state.account_id)
        if decisions:
            self._apply(state, decisions, now)

    def _apply(self, state: AccountState, decisions: list[Decision], now: datetime) -> None:
        orders_on: dict[str, int] = defaultdict(int)
        for order in state.orders.values():
            orders_on[order.contract_id] += 1
        sizes = {cid: p.size for cid, p in state.positions.items()}
        plan = merge(decisions, sizes, orders_on)
        self.journal_quotes()  # the quote that led here goes to the journal before the decision
        for decision in decisions:
            journal_decision(self.store.store, decision, now)
        for decision in plan.locks:
            self._lock(state, decision, now)
        for decision in decisions:
            if decision.release is not None:
                self._release(decision, now)
            for change in decision.timers:
                self._set_timer(state, change)
        if plan.send:
            self._last_sent[state.account_id] = now
        for decision, action in plan.superseded:
            self._log(
                now,
                decision.account_id,
                decision.rule,
                action.kind.value,
                action.contract_id,
                action.size,
                decision.reason,
                "SUPERSEDED",
            )
        jobs = []
        for decision, action in plan.send:
            held_back = self._held_back(state, action, now)
            if held_back is not None:
                self._log(now, decision.account_id, decision.rule, action.kind.value, action.contract_id,
                          action.size, decision.reason, "SKIPPED", held_back)  # fmt: skip
                continue
            jobs.append(Job(decision.account_id, decision.rule, decision.reason, action, now))
        for job in jobs:
            self._mark_pending_close(state, job, now)
        skipped = self.executor.submit(jobs)
        for job in jobs:
            if job not in skipped:
                extras = action_extras(job.action)
                self._record(Record(now, job.account_id, job.action.kind.value, job.rule, job.reason, extras))

    def _held_back(self, state: AccountState, action: Action, now: datetime) -> str | None:
        """Why an action must not be sent now (SPEC §4.1: nothing twice while one awaits confirmation)."""
        if action.kind in PLACES and self._placing(state, action, now):
            return "the same order is being placed"
        if action.kind in CUTS and self._awaiting_confirmation(state, action.contract_id, now):
            return "a close on this contract awaits confirmation"
        return None

    def _placing(self, state: AccountState, action: Action, now: datetime) -> bool:
        """A stop or target for this contract was sent <= 5 s ago and its order has not shown up yet."""
        key = (action.contract_id or "", action.kind.value)
        sent = state.placing.get(key)
        if sent is not None and now - sent <= PENDING_CLOSE_FOR:
            return True
        state.placing[key] = now
        return False

    def _awaiting_confirmation(self, state: AccountState, contract_id: str | None, now: datetime) -> bool:
        """SPEC §4.1: while a cut on (account, contract) awaits its position update (<= 5 s), send none."""
        return contract_id is not None and close_pending(state, contract_id, now)

    def _mark_pending_close(self, state: AccountState, job: Job, now: datetime) -> None:
        kind = job.action.kind
        if kind in (ActionKind.CLOSE, ActionKind.REDUCE) and job.action.contract_id:
            state.pending_closes[job.action.contract_id] = now
        elif kind is ActionKind.CLOSE_ALL:
            state.pending_closes["*"] = now  # positions whose updates are still on the way too

    def _lock(self, state: AccountState, decision: Decision, now: datetime) -> None:
        lock = decision.lock
        assert lock is not None
        account, rule = decision.account_id, decision.rule
        if lock.kind == "cooldown" and lock.until is not None:
            held = self.locks.held_by(account, rule, lock.scope)
            created, replaced = self.locks.set_cooldown(account, rule, decision.reason, lock.until, now)
            if created is held:
                return
            if replaced is not None:
                self._persist_clear(replaced)
        else:
            made = self.locks.set_lockout(
                account, rule, decision.reason, lock.until, now, scope=lock.scope, kind=lock.kind
            )
            if made is None:
                return
            created = made
        row = _lock_row(created)
        self.store.write(lambda store: store.insert_lockout(row))
        self.hold(state, rule, lock.scope)
        extras: dict[str, object] = {"until": lock.until} if lock.until is not None else {}
        if lock.kind != "cooldown":
            extras["scope"] = lock.scope
        action = "cooldown" if lock.kind == "cooldown" else "lockout"
        self._log(now, account, rule, action.upper(), None, None, decision.reason, "OK")
        self._record(Record(now, account, action, rule, decision.reason, extras))

    def _release(self, decision: Decision, now: datetime) -> None:
        """A rule's own condition cleared its lock (RULE-010: canTrade is true again)."""
        by = decision.release
        assert by in ("broker", "session", "expiry", "reset", "admin")
        cleared = self.locks.clear_lockout(decision.account_id, now, rule_id=decision.rule, by=by)
        self.record_unlocks(cleared)

    def _set_timer(self, state: AccountState, change: TimerChange) -> None:
        """Start or cancel a rule's persisted countdown (SPEC §5 timers)."""
        name = change.name
        if change.expires_at is None:
            if self.timers.cancel(name) is not None:
                self.store.write(lambda store: store.delete_timer(name, defer=True))
            state.timers.pop(name, None)
            return
        timer = Timer(name, state.account_id, change.kind, change.expires_at, dict(change.payload))
        self.timers.start(timer, replace=True)
        state.timers[name] = change.expires_at
        row = TimerRow(timer.name, timer.account_id, timer.kind, timer.expires_at, dict(timer.payload))
        self.store.write(lambda store: store.upsert_timer(row, defer=True))

    def hold(self, state: AccountState, rule: str, scope: str) -> None:
        state.held_locks.add((rule, scope))
        if state.is_locked():
            self._locked.add(state.account_id)

    def _persist_clear(self, lock: Lockout) -> None:
        lock_id, at, by = lock.id, lock.cleared_at, lock.cleared_by
        assert at is not None and by is not None
        self.store.write(lambda store: store.clear_lockout(lock_id, at, by))

    def record_unlocks(self, cleared: Iterable[Lockout]) -> None:
        """Bookkeeping for locks the book just cleared (expiry, reset, broker, admin)."""
        for lock in cleared:
            if lock.kind == "session" and lock.cleared_by == "expiry":
                lock = replace(lock, cleared_by="session")  # a session lock ends when the window opens
            self._persist_clear(lock)
            state = self.states.get(lock.account_id)
            if state is not None:
                state.held_locks.discard((lock.rule_id, lock.scope))
                if not state.is_locked():
                    self._locked.discard(lock.account_id)
            at = lock.cleared_at or self.clock.now()
            reason = f"{lock.rule_id} lock cleared by {lock.cleared_by}"
            self._log(at, lock.account_id, lock.rule_id, "UNLOCK", None, None, reason, "OK")
            self._record(Record(at, lock.account_id, "unlock", lock.rule_id, reason, {"by": lock.cleared_by}))

    # -- time -------------------------------------------------------------------------------------

    def tick(self, now: datetime) -> None:
        """Time passed: resets, lock expiries, timers, time-driven rules, reconciler, store upkeep."""
        self._watch.disarm_all()  # resets, expiries and time-driven rules change what a quote can do
        for state in self.states.values():
            _forget_older_than(state.pending_closes, now - PENDING_CLOSE_FOR)
            _forget_older_than(state.placing, now - PENDING_CLOSE_FOR)
        while now >= self.next_reset:
            self.run_reset(self.next_reset)
        self.record_unlocks(self.locks.check_expired_lockouts(now))
        due = [timer for timer in self.timers.all() if timer.expires_at <= now]
        for state in list(self.states.values()):
            self._evaluate(state, Tick(now), now, None)
            if self._wakeups.get(state.account_id, now) <= now:
                self._wake(state, now)
        for timer in due:  # the rule that set it acted on this tick; one nobody handled must not linger
            if self.timers.get(timer.name) is not None and timer.expires_at <= now:
                self._timer_fired(timer, now)
        if now >= self._next_reconcile:
            self._next_reconcile = now + RECONCILE_EVERY
            self._reconcile(now)
        if now >= self._next_pnl:
            self._next_pnl = now + PNL_EVERY
            self._pnl_dirty.update(self.states)
        self.flush(now, wait=False)

    def _timer_fired(self, timer: Timer, now: datetime) -> None:
        """A countdown ran out and no rule took it (its rule was disabled): drop it."""
        name = timer.name
        self.timers.cancel(name)
        state = self.states.get(timer.account_id or 0)
        if state is not None:
            state.timers.pop(name, None)
        self.store.write(lambda store: store.delete_timer(name, defer=True))
        log.info("timer %s expired at %s with no rule to act on it", name, now.isoformat())

    def _wake(self, state: AccountState, now: datetime) -> None:
        """When this account's time-driven rules next need a Tick (a session opening or closing)."""
        times = [
            t
            for rule in self._wakers.get(state.account_id, ())
            if rule.spec.wakeup is not None and (t := rule.spec.wakeup(rule.config, state, now)) is not None
        ]
        if times:
            self._wakeups[state.account_id] = min(times)
        else:
            self._wakeups.pop(state.account_id, None)

    def next_deadline(self) -> datetime:
        """The next instant at which time alone changes something (replay jumps straight there)."""
        candidates = [self.next_reset, self.locks.next_expiry(), self.timers.next_deadline()]
        if self._wakeups:
            candidates.append(min(self._wakeups.values()))
        if self._locked:  # the reconciler looks at locked accounts every 5 s
            candidates.append(self._next_reconcile)
        return min(c for c in candidates if c is not None)

    def day_start(self, now: datetime) -> datetime:
        """Where today's P&L begins: the last scheduled reset, or an admin ``reset-day`` since."""
        scheduled = self.reset.last_reset(now)
        started = self.day_started_at
        return started if started is not None and scheduled <= started <= now else scheduled

    def run_reset(self, at: datetime) -> None:
        """The daily reset (SPEC §4.3): new P&L day, RULE-003/013 locks cleared, positions kept."""
        trading_date = self.reset.trading_date(at)
        for state in self.states.values():
            self._save_pnl(state, at)  # the closing figures of the day that ends here
            state.start_day(trading_date, self.reset.next_reset(at))
            reason = f"daily reset: trading day {trading_date}"
            self._log(at, state.account_id, None, "DAILY_RESET", None, None, reason, "OK")
            self._record(Record(at, state.account_id, "reset", None, reason, {"trading_date": trading_date}))
            self.record_unlocks(self.locks.clear_on_reset(state.account_id, at))
            self._save_pnl(state, at)
        self.next_reset = self.reset.next_reset(at)
        self.day_started_at = at
        stamp = at.isoformat()
        self.store.write(lambda store: store.set_meta("last_reset", stamp))
        self._upkeep(at)

    def _upkeep(self, at: datetime) -> None:
        """Once a day, at the reset: a backup (keep ``general.backups.keep``) and retention pruning."""
        keep = self.general.backups.keep
        self.flush(at)
        try:
            backup_database(self.store.store, self.store.store.path.parent / "backups", at, keep)
            self.store.store.prune(at)
        except StoreError as exc:  # a failed backup must not stop enforcement; it is retried tomorrow
            log.error("daily backup or pruning failed: %s", exc)

    def _exposed_under_lock(self, state: AccountState) -> bool:
        return bool(self._exposure_under_lock(state)[1])

    def _exposure_under_lock(self, state: AccountState) -> tuple[list[str], set[str]]:
        """The flattening account locks held (in rule order) and the contracts they see exposed.

        A lock that lets held positions stay (RULE-009 without close_at_session_end) is no
        flattening lock; a symbol an account lock exempts (a per-instrument window) is not its.
        """
        rules = sorted(
            (r for r, scope in state.held_locks if scope == ACCOUNT_SCOPE and r not in state.holding_rules),
            key=rank,
        )
        if not rules:
            return rules, set()
        contracts = {*state.positions, *(o.contract_id for o in state.orders.values())}
        exempt = [state.lock_exempt.get(r, frozenset()) for r in rules]
        symbol = self.catalog.symbol
        return rules, {c for c in contracts if any(symbol(c) not in e for e in exempt)}

    def _reconcile(self, now: datetime) -> None:
        """Every 5 s, check with the broker each locked account the ledger shows exposed (SPEC §4.1).

        Only those accounts are polled; what the broker shows replaces the ledger's view, and
        whatever is still open is flattened again.
        """
        for account_id in list(self._locked):
            state = self.states.get(account_id)
            if state is None or not self._exposed_under_lock(state) or self.executor.in_flight(account_id):
                continue
            sent = self._last_sent.get(account_id)
            if sent is not None and now - sent < PENDING_CLOSE_FOR:
                continue  # what was just sent may still be confirming (SPEC §4.1: <= 5 s)
            self.executor.spawn(self._reconcile_account(state))

    async def _reconcile_account(self, state: AccountState) -> None:
        broker = self.executor.broker
        try:
            positions = await broker.search_open_positions(state.account_id)
            orders = await broker.search_open_orders(state.account_id)
        except BrokerError as exc:
            log.warning("reconcile: account %s not checked: %s", state.account_id, exc)
            return
        now = self.clock.now()
        self.adopt(state, positions, orders, now, "Reconcile")
        rules, exposed = self._exposure_under_lock(state)
        if exposed and not self.executor.in_flight(state.account_id):
            rule = rules[0]
            reason = f"reconcile: still exposed under {rule} lock"
            if exposed >= {*state.positions, *(o.contract_id for o in state.orders.values())}:
                self._apply(state, [flatten(state.account_id, rule, reason, None)], now)
            else:  # symbols in windows of their own stay: close only what the lock covers
                actions = [
                    close(c, abs(state.positions[c].size)) for c in sorted(exposed) if c in state.positions
                ]
                actions += [
                    cancel_order(o.id, o.contract_id)
                    for o in state.orders.values()
                    if o.contract_id in exposed and o.contract_id not in state.positions
                ]
                self._apply(state, [Decision(state.account_id, rule, reason, tuple(actions))], now)

    def adopt(
        self, state: AccountState, positions: list[Position], orders: list[Order], now: datetime, why: str
    ) -> None:
        """Take the broker's open positions and working orders as the truth, without evaluating
        (the caller evaluates once afterwards). Journaled, so a rebuild sees the same state."""
        listed = {o.id: o for o in orders}
        for order_id in [o for o in state.orders if o not in listed]:
            state.orders.pop(order_id, None)  # ended while we were not looking: filled or cancelled
        for order in listed.values():
            if state.orders.get(order.id) != order:
                self.fold(OrderUpdated(now, order), Source(f"{why}:Order/searchOpen", None))
        held = {p.contract_id: p for p in positions}
        for contract_id in [c for c in state.positions if c not in held]:
            flat = Position(state.account_id, contract_id, 0, ZERO, now)
            self.fold(PositionUpdated(now, flat), Source(f"{why}:Position/searchOpen", None))
        for position in held.values():
            if state.positions.get(position.contract_id) != position:
                self.fold(PositionUpdated(now, position), Source(f"{why}:Position/searchOpen", None))
        state.seed_shadow()

    # -- store ------------------------------------------------------------------------------------

    def _save_pnl(self, state: AccountState, now: datetime) -> None:
        if state.trading_date is None:
            return
        row = DailyPnlRow(
            state.account_id,
            state.trading_date,
            state.realized_gross,
            state.fees,
            state.realized_net,
            cents(state.unrealized_pnl),
            len(state.trades),
            now,
        )
        self.store.write(lambda store: store.upsert_daily_pnl(row, defer=True))

    def _log(
        self,
        at: datetime,
        account: int | None,
        rule: str | None,
        action: str,
        contract: str | None,
        quantity: int | None,
        reason: str,
        result: EnforcementResult,
        error: str | None = None,
        latency: float | None = None,
    ) -> None:
        row = EnforcementRow(
            None, at, account, rule, action, contract, quantity, reason, result, error, latency
        )
        self.store.write(lambda store: store.log_enforcement(row, defer=True))

    def report(self, outcome: Outcome) -> None:
        """The executor's callback: one enforcement-log row per finished action."""
        job = outcome.job
        self._log(
            job.decided_at,
            job.account_id,
            job.rule,
            job.action.kind.value,
            job.action.contract_id,
            outcome.quantity,
            job.reason,
            outcome.result,
            outcome.error,
            outcome.latency_ms,
        )
        if outcome.result == "FAILED":
            extras = {**action_extras(job.action), "result": "FAILED", "error": outcome.error}
            self._record(Record(self.clock.now(), job.account_id, "failed", job.rule, job.reason, extras))

    def _record(self, record: Record) -> None:
        self._on_record(record)


def _forget_older_than(sent: dict[Any, datetime], cutoff: datetime) -> None:
    """Unconfirmed sends count for 5 s (SPEC §4.1); after that they are history."""
    for key in [k for k, at in sent.items() if at < cutoff]:
        del sent[key]


def _lock_row(lock: Lockout) -> LockRow:
    return LockRow(
        lock.id,
        lock.account_id,
        lock.rule_id,
        lock.scope,
        lock.kind,
        lock.reason,
        lock.created_at,
        lock.expires_at,
        lock.cleared_at,
        lock.cleared_by,
    )


__all__ = ["Engine", "Source"]
