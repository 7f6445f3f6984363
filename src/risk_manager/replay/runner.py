"""Running a scenario through the very same engine, with a simulated clock and broker.

Time jumps from deadline to deadline (resets, lock expiries, timers) instead of
ticking every second, so a day replays in milliseconds and always the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from risk_manager.broker.projectx.wire import WireError, parse_event
from risk_manager.broker.sim import SimBroker
from risk_manager.config.risk import RiskConfig
from risk_manager.domain import AccountInfo, AccountUpdated, ContractCatalog
from risk_manager.enforcement import Executor
from risk_manager.engine import Engine, Record, Source, restore, resync
from risk_manager.replay.scenario import LoadedScenario, ScenarioEvent
from risk_manager.schedule import ExchangeCalendar, ManualClock
from risk_manager.store import Store

DB_NAME = "risk_manager.db"
FLUSH_EVERY = timedelta(seconds=1)
log = logging.getLogger("risk_manager.replay")


class ScenarioRun:
    """One replay: owns the clock, the simulated broker, the store and the engine."""

    def __init__(
        self,
        loaded: LoadedScenario,
        data_dir: Path,
        on_record: Callable[[Record], None],
        *,
        pace: float = 0.0,
    ) -> None:
        scenario = loaded.scenario
        self.pace = pace
        self.loaded = loaded
        self.data_dir = data_dir
        self.on_record = on_record
        self.clock = ManualClock(scenario.start)
        self.catalog = ContractCatalog(loaded.general.symbol_aliases, loaded.general.tick_specs())
        self.inbox: deque[tuple[str, dict[str, Any], str | None]] = deque()
        fees = {symbol.upper(): fee for symbol, fee in scenario.sim.fees.items()}
        self.broker = SimBroker(self.clock.now, self.catalog, fees, emit=self._emitted)
        self.broker.execute = scenario.sim.execute
        for account in scenario.accounts:
            info = AccountInfo(account.id, account.name, account.balance, account.canTrade)
            self.broker.add_account(info)
        snap = loaded.snapshot
        self.broker.load_snapshot(snap.positions, snap.orders, snap.trades)
        self.config = RiskConfig(general=loaded.general, rules=loaded.rules)
        self.calendar = ExchangeCalendar(loaded.holidays.overrides() if loaded.holidays else None)
        guard = loaded.rules.auth_loss_guard
        self.poll_every = (
            timedelta(seconds=guard.poll_interval_seconds) if guard is not None and guard.enabled else None
        )
        self.next_poll: datetime | None = None
        self._flushed = scenario.start
        self.store: Store | None = None
        self.engine: Engine | None = None

    def _emitted(self, kind: str, data: dict[str, Any], contract_id: str | None) -> None:
        self.inbox.append((kind, data, contract_id))

    # -- lifecycle --------------------------------------------------------------------------------

    async def run(self) -> None:
        await self._boot()
        for batch in _same_instant(self.loaded.scenario.events):
            if self.pace:
                await asyncio.sleep(self.pace)  # watching a replay live: real seconds between events
            await self.advance_to(batch[0].at)
            if batch[0].type == "Restart":
                await self.restart()
                continue
            # The gateway's REST view at an instant already holds everything that happened then
            # (a fill and its position update), even while the engine reacts to the first of them.
            for event in batch:
                self.broker.observe(event.type, event.data, event.contractId)
            for event in batch:
                if not event.missed:
                    self._deliver(event.type, event.data, event.contractId)
                    await self.settle()
        end = self.loaded.scenario.end
        if end is not None:
            await self.advance_to(end)
        self.close()

    async def _boot(self) -> None:
        self.store = Store.open(self.data_dir / DB_NAME)
        accounts = {a.id: self.config for a in self.loaded.scenario.accounts}
        self.engine = Engine(
            general=self.loaded.general,
            configs=accounts,
            store=self.store,
            clock=self.clock,
            catalog=self.catalog,
            calendar=self.calendar,
            on_record=self.on_record,
            executor_factory=self._executor,
        )
        self.next_poll = self._poll_after(self.clock.now())
        restore(self.engine)
        await resync(self.engine, self.broker)
        await self.settle()

    def _executor(self, engine: Engine) -> Executor:
        return Executor(self.broker, engine.state_of, engine.report, sleep=self._sleep)

    async def _sleep(self, seconds: float) -> None:
        """A retry's back-off moves the simulated clock, not the wall clock."""
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    async def restart(self) -> None:
        """As after kill -9: the unflushed journal tail is lost; store, journal and REST rebuild the rest."""
        assert self.store is not None
        self.store.abandon()
        await self._boot()

    def close(self) -> None:
        if self.engine is not None:
            self.engine.flush(self.clock.now())
        if self.store is not None:
            self.store.flush()
            self.store.close()

    # -- time and events --------------------------------------------------------------------------

    def _deliver(self, kind: str, data: Any, contract_id: str | None) -> None:
        """Parse as the live client would: a malformed event is logged and skipped, never fatal."""
        assert self.engine is not None
        now = self.clock.now()
        try:
            event = parse_event(kind, data, now, contract_id)
        except WireError as exc:
            log.error("malformed %s skipped: %s", kind, exc)
            return
        self.engine.handle(event, Source(kind, data))

    async def settle(self) -> None:
        """Run until the broker's responses are processed and no enforcement is in flight."""
        assert self.engine is not None
        while True:
            await asyncio.sleep(0)
            if self.engine.executor.busy:
                await self.engine.executor.drain()
                continue
            if not self.inbox:
                return
            kind, data, contract_id = self.inbox.popleft()
            self._deliver(kind, data, contract_id)

    async def advance_to(self, when: datetime) -> None:
        """Move the clock to ``when``, stopping at every deadline (and account poll) on the way."""
        assert self.engine is not None
        if when - self._flushed >= FLUSH_EVERY:
            self.engine.flush(self.clock.now(), wait=False)  # the daemon's 1 s tick flushes as time goes on
            self._flushed = when
        while (deadline := self._next_stop()) <= when:
            if deadline > self.clock.now():
                self.clock.set(deadline)
            if self.next_poll is not None and self.next_poll <= self.clock.now():
                await self._poll()
            else:
                self.engine.tick(self.clock.now())
            await self.settle()
        if when > self.clock.now():
            self.clock.set(when)

    def _next_stop(self) -> datetime:
        assert self.engine is not None
        deadline = self.engine.next_deadline()
        return deadline if self.next_poll is None else min(deadline, self.next_poll)

    def _poll_after(self, now: datetime) -> datetime | None:
        return None if self.poll_every is None else now + self.poll_every

    async def _poll(self) -> None:
        """RULE-010's account poll, as the daemon runs it: Account/search, changes delivered."""
        assert self.engine is not None
        now = self.clock.now()
        self.next_poll = self._poll_after(now)
        for info in await self.broker.search_accounts():
            state = self.engine.state_of(info.id)
            if state is not None and (state.can_trade, state.balance) != (info.can_trade, info.balance):
                self.engine.handle(AccountUpdated(now, info), Source("Account/search", None))


def _same_instant(events: list[ScenarioEvent]) -> list[list[ScenarioEvent]]:
    """Consecutive events sharing one ``at``; a Restart is always a batch of its own."""
    batches: list[list[ScenarioEvent]] = []
    for event in events:
        last = batches[-1] if batches else None
        if last and last[0].at == event.at and "Restart" not in (event.type, last[0].type):
            last.append(event)
        else:
            batches.append([event])
    return batches


async def replay(
    loaded: LoadedScenario, data_dir: Path, on_record: Callable[[Record], None], *, pace: float = 0.0
) -> None:
    await ScenarioRun(loaded, data_dir, on_record, pace=pace).run()


__all__ = ["ScenarioRun", "replay"]
