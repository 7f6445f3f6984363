"""``risk_manager run``: the engine, live, against a ProjectX gateway (the simulator by default).

Startup (SPEC §4.2): one daemon per data dir (``daemon.lock``) -> config -> store ->
restore locks and timers, missed reset, today's journal -> log in -> resolve accounts ->
connect the hubs -> REST snapshot while hub events are held back -> evaluate every rule.
Then events are handled one at a time in arrival order, the clock ticks every second
(resets, expiries, timers, the reconciler, store upkeep), and the heartbeat and snapshot
go to the meta table for the status screen. SIGTERM/Ctrl-C shut down gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from risk_manager import __version__
from risk_manager.broker.base import BrokerError
from risk_manager.broker.projectx.client import ProjectXClient
from risk_manager.broker.projectx.hubs import MarketHub, UserHub
from risk_manager.config.accounts import AccountEntry
from risk_manager.config.loader import ConfigSet, load_config_set
from risk_manager.config.risk import RiskConfig
from risk_manager.config.secrets import load_api_key
from risk_manager.control.auth import Gatekeeper, Throttle
from risk_manager.control.protocol import EXIT_RESTART
from risk_manager.control.server import ControlApp, serve
from risk_manager.daemon.admin import DaemonAdmin
from risk_manager.daemon.config_changes import ConfigKeeper
from risk_manager.daemon.logs import register_secrets
from risk_manager.daemon.metrics import DaemonMetrics, MetricsServer, Sample, serve_metrics
from risk_manager.domain import AccountUpdated, ContractCatalog, Event, OrderUpdated, PositionUpdated
from risk_manager.enforcement import Executor, Outcome
from risk_manager.engine import Engine, Record, RecordSink, Source, restore, resync
from risk_manager.engine.admin import reconfigure
from risk_manager.engine.snapshot import snapshot
from risk_manager.schedule import Clock, ExchangeCalendar, SystemClock
from risk_manager.store import DATABASE_FILENAME, DaemonLock, EnforcementRow, Store
from risk_manager.store.timefmt import to_iso

log = logging.getLogger("risk_manager.daemon")

EXIT_STOPPED, EXIT_RUNTIME, EXIT_SIGINT, EXIT_SIGTERM = 0, 1, 130, 143
#: not a process exit code: the daemon stops and starts again in-process with the files on disk
#: (a daemon-wide config change: general, holidays, the gateway or the account list)
RELOAD = -1
CONFIG_POLL_EVERY = 2.0
LOGIN_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
HUB_CONNECT_TIMEOUT = 30.0


@dataclass
class Stop:
    """Why the daemon is stopping: the exit code of SPEC §7."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    code: int = EXIT_STOPPED

    def request(self, code: int) -> None:
        self.code = code
        self.event.set()


class Daemon:
    """One daemon: owns the store, the client, the hubs and the engine for one data dir."""

    def __init__(
        self,
        config_set: ConfigSet,
        data_dir: Path,
        *,
        clock: Clock | None = None,
        on_record: RecordSink | None = None,
        config_dir: Path | None = None,
    ) -> None:
        self.config_set = config_set
        #: where the files live (``config_set`` may be the last good copy when they are broken)
        self.config_dir = config_dir or config_set.config_dir
        self.on_record = on_record
        self.data_dir = data_dir
        self.clock: Clock = clock or SystemClock()
        self.stop = Stop()
        self.catalog = ContractCatalog(
            config_set.risk.general.symbol_aliases, config_set.risk.general.tick_specs()
        )
        self.store: Store | None = None
        self.engine: Engine | None = None
        self.client: ProjectXClient | None = None
        self.user_hub: UserHub | None = None
        self.market_hub: MarketHub | None = None
        self.account_errors: dict[str, str] = {}
        self.entries: dict[int, AccountEntry] = {}
        self.keeper: ConfigKeeper | None = None
        self.control_error = ""
        self._followed: set[str] = set()
        self.metrics = DaemonMetrics(self.clock)
        self.metrics_server: MetricsServer | None = None
        self._events: asyncio.Queue[tuple[str, object, Event]] = asyncio.Queue()
        self._resync_lock = asyncio.Lock()

    # -- the whole life -------------------------------------------------------------------

    async def run(self) -> int:
        """Run until stopped; the exit code says why (SPEC §7)."""
        with DaemonLock(self.data_dir):
            self.store = Store.open(self.data_dir / DATABASE_FILENAME)
            try:
                return await self._run(self.store)
            finally:
                self.store.close()

    async def _run(self, store: Store) -> int:
        self._write_meta(
            started_at=to_iso(self.clock.now()),
            daemon_pid=str(os.getpid()),
            version=__version__,
            connection="CONNECTING",
            config_state="OK",
        )
        self.log_system("SERVICE_START", f"daemon {__version__} started (pid {os.getpid()})")
        self.keeper = ConfigKeeper(
            self.config_dir, self.data_dir, self.config_set,
            apply=self._config_changed, audit=self.audit, publish=lambda values: self._write_meta(**values),
            next_reset=self._next_reset, now=self.clock.now,
        )  # fmt: skip
        async with contextlib.AsyncExitStack() as stack:
            await self._start_control_api(stack, store, self.keeper)
            return await self._connect_and_serve(store)

    async def _start_control_api(
        self, stack: contextlib.AsyncExitStack, store: Store, keeper: ConfigKeeper
    ) -> None:
        """The admin's way in (SPEC §6), up before the gateway login so a broken setup can be fixed.
        A port already taken leaves the daemon enforcing without it (logged)."""
        admin = DaemonAdmin(self, keeper)
        gate = Gatekeeper(self.config_dir, Throttle(store, self.clock), self.clock,
                          on_failure=lambda why: admin.audit("ADMIN_AUTH_FAILED", why))  # fmt: skip
        control = self.config_set.risk.general.control
        try:
            await stack.enter_async_context(serve(ControlApp(admin, gate), control.host, control.port))
        except OSError as exc:
            self.control_error = f"control API not available on {control.host}:{control.port}: {exc}"
            log.error("%s (risk-admin cannot reach this daemon; is another one using the port?)",
                      self.control_error)  # fmt: skip

    async def _connect_and_serve(self, store: Store) -> int:
        gateway = self.config_set.accounts.gateway
        api_key = gateway.api_key.get_secret_value() or load_api_key(self.config_dir, gateway.username)
        register_secrets([api_key])
        self.client = ProjectXClient.from_config(gateway, api_key=api_key, catalog=self.catalog)
        self.metrics_server = serve_metrics(self.metrics, self.config_set.risk.general.metrics)
        try:
            if not await self._log_in():
                return self.stop.code
            configs = await self._resolve_accounts(self.config_set.accounts.enabled_accounts())
            self.engine = self._build_engine(store, configs)
            restore(self.engine)
            await self._connect(configs)
            return await self._serve()
        finally:
            await self._shut_down()

    async def _log_in(self) -> bool:
        """Log in, retrying with back-off while the gateway is unreachable (the status says so)."""
        assert self.client is not None
        for attempt in range(1_000_000):
            try:
                await self.client.token()
                return True
            except BrokerError as exc:
                delay = LOGIN_BACKOFF[min(attempt, len(LOGIN_BACKOFF) - 1)]
                log.error("gateway login failed: %s; retrying in %.0f s", exc, delay)
                self._write_meta(connection="DISCONNECTED")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.event.wait(), delay)
                if self.stop.event.is_set():
                    return False
        return False

    async def _resolve_accounts(self, entries: Iterable[AccountEntry]) -> dict[int, RiskConfig]:
        """accounts.yaml entries by id or name -> ids the API key sees; an unseen one is an error
        for that account only (SPEC §8), the others stay protected."""
        assert self.client is not None
        seen = await self.client.polling.search_accounts()
        by_id = {a.id: a for a in seen}
        by_name = {a.name: a for a in seen}
        configs: dict[int, RiskConfig] = {}
        for entry in entries:
            info = by_id.get(entry.id) if entry.id is not None else by_name.get(entry.name or "")
            if info is None:
                message = f"account {entry.display} is not visible to this API key"
                self.account_errors[entry.display] = message
                log.error(message)
                continue
            configs[info.id] = self.config_set.effective_risk(entry)
            self.entries[info.id] = entry
        return configs

    def _build_engine(self, store: Store, configs: dict[int, RiskConfig]) -> Engine:
        risk = self.config_set.risk
        holidays = self.config_set.holidays
        calendar = ExchangeCalendar(holidays.overrides() if holidays is not None else None)
        client = self.client
        assert client is not None
        return Engine(
            general=risk.general,
            configs=configs,
            store=store,
            clock=self.clock,
            catalog=self.catalog,
            calendar=calendar,
            base_config=risk if risk.general.protect_unlisted_accounts else None,
            executor_factory=lambda engine: Executor(client, engine.state_of, self._reporter(engine)),
            on_record=self._record,
        )

    def _reporter(self, engine: Engine) -> Callable[[Outcome], None]:
        """The executor's outcomes: counted for the metrics, then the engine's enforcement log."""

        def report(outcome: Outcome) -> None:
            self.metrics.enforced(outcome)
            engine.report(outcome)

        return report

    def _record(self, record: Record) -> None:
        """Every lock, unlock, reset and action: to the log, and to whoever watches (the demo)."""
        self.metrics.recorded(record)
        log.info("%s %s %s", record.action, record.rule or "", record.reason,
                 extra={"account": record.account_id, "record": record.action})  # fmt: skip
        if self.on_record is not None:
            self.on_record(record)

    async def _connect(self, configs: dict[int, RiskConfig]) -> None:
        """Hubs up, then the REST snapshot while their events wait, then every rule once."""
        assert self.client is not None and self.engine is not None
        endpoints = self.config_set.accounts.gateway.endpoints()
        self.user_hub = UserHub(endpoints.user_hub_url, self.client, self._on_event, accounts=configs,
                                on_reconnected=self._resync)  # fmt: skip
        self.market_hub = MarketHub(endpoints.market_hub_url, self.client, self._on_event,
                                    on_reconnected=self._requote)  # fmt: skip
        for hub in (self.user_hub, self.market_hub):
            self.client.add_token_listener(hub.token_changed)
            hub.start()
        with contextlib.suppress(TimeoutError):  # subscribed first, so nothing falls between (PROJECTX §4.5)
            await asyncio.wait_for(self.user_hub.wait_connected(), HUB_CONNECT_TIMEOUT)
        async with self.user_hub.holding():
            await self._resync()
        self._write_meta(connection="CONNECTED")

    async def _resync(self) -> None:
        """After every user-hub (re)connect: REST is the truth (SPEC §4.2), then every rule runs.
        One at a time: two overlapping resyncs each replayed their snapshot and cut twice."""
        assert self.engine is not None and self.client is not None
        async with self._resync_lock:
            await resync(self.engine, self.client.polling)
            self._follow_quotes()

    async def _requote(self) -> None:
        """After a market-hub reconnect: only quotes were lost, and the next ones make up for them
        (the hub subscribes again itself); positions and orders come on the user hub."""
        self._follow_quotes()

    def _on_event(self, kind: str, raw: object, event: Event) -> None:
        self._events.put_nowait((kind, raw, event))

    async def _serve(self) -> int:
        assert self.client is not None
        tasks = [
            asyncio.create_task(self._consume(), name="events"),
            asyncio.create_task(self._tick(), name="clock"),
            asyncio.create_task(self.client.keep_token_fresh(), name="token"),
        ]
        poll = self._poll_interval()
        if poll is not None:
            tasks.append(asyncio.create_task(self._poll_accounts(poll), name="account-poll"))
        await self.stop.event.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return self.stop.code

    async def _consume(self) -> None:
        """Events one at a time, in arrival order (SPEC §4.1)."""
        assert self.engine is not None
        while True:
            kind, raw, event = await self._events.get()
            try:
                self.engine.handle(event, Source(kind, raw))
                self._follow(event)
                self.metrics.event_handled(kind)
            except Exception:  # one bad event must not stop enforcement of the next
                self.metrics.event_failed(kind)
                log.exception("event %s could not be handled", kind)

    async def _tick(self) -> None:
        """Every second: the engine's clock, the heartbeat and the snapshot (SPEC §5)."""
        assert self.engine is not None
        next_poll = self.clock.now()
        while True:
            now = self.clock.now()
            try:
                self.engine.tick(now)
                self._follow_quotes()
                self._heartbeat()
                if self.keeper is not None:
                    self.keeper.apply_due(now)  # after the reset the tick just ran (SPEC §4.3)
                    if now >= next_poll:
                        next_poll = now + timedelta(seconds=CONFIG_POLL_EVERY)
                        self.keeper.poll()
            except Exception:
                log.exception("tick failed")
            await asyncio.sleep(_until_next_tick((self.clock.now() - now).total_seconds()))

    # -- config changes and the admin's records -------------------------------------------

    def _next_reset(self) -> datetime | None:
        return self.engine.next_reset if self.engine is not None else None

    def _config_changed(self, old: ConfigSet, new: ConfigSet) -> None:
        """A new valid config set is in force: per-account rules change in place between two
        events; anything daemon-wide restarts the daemon in-process with the files on disk."""
        self.config_set = new
        if self.engine is None or _daemon_wide(old) != _daemon_wide(new):
            log.info("daemon-wide config changed: restarting in-process")
            self.stop.request(RELOAD)
            return
        configs = {account_id: new.effective_risk(entry) for account_id, entry in self.entries.items()}
        base = new.risk if new.risk.general.protect_unlisted_accounts else None
        reconfigure(self.engine, configs, base, self.clock.now())

    def audit(self, action: str, reason: str) -> None:
        """An admin or system event in the enforcement log (and the daemon log)."""
        if self.engine is not None:
            self.engine.log_admin(self.clock.now(), None, None, action, reason)
            self.engine.flush(self.clock.now(), wait=False)
        else:
            self.log_system(action, reason)
        log.warning("%s: %s", action, reason, extra={"record": action})

    def log_system(self, action: str, reason: str) -> None:
        """A daemon event in the enforcement log before (or without) an engine: start, stop."""
        if self.store is None:
            return
        row = EnforcementRow(None, self.clock.now(), None, None, action, None, None, reason, "OK", None, None)
        try:
            self.store.log_enforcement(row)
        except Exception as exc:  # the log must never take the daemon down
            log.error("enforcement log not written: %s", exc)

    def _poll_interval(self) -> float | None:
        """RULE-010's account poll (SPEC §3): the shortest interval of the accounts that enable it."""
        assert self.engine is not None
        intervals = [
            guard.poll_interval_seconds
            for entry in self.config_set.accounts.enabled_accounts()
            if (guard := self.config_set.effective_risk(entry).rules.auth_loss_guard) is not None
            and guard.enabled
        ]
        return float(min(intervals)) if intervals else None

    async def _poll_accounts(self, every: float) -> None:
        """A canTrade change missed on the hub is still seen (RULE-010.4); only changes are fed in."""
        assert self.engine is not None and self.client is not None
        while True:
            await asyncio.sleep(every)
            try:
                accounts = await self.client.polling.search_accounts()
            except BrokerError as exc:
                log.warning("account poll failed: %s", exc)
                continue
            now = self.clock.now()
            for info in accounts:
                state = self.engine.state_of(info.id)
                if state is not None and (state.can_trade, state.balance) != (info.can_trade, info.balance):
                    self._events.put_nowait(("Account/search", None, AccountUpdated(now, info)))

    def _follow(self, event: Event) -> None:
        """A new position or order needs its contract's marks now, not at the next tick (O(1) here;
        the tick's full pass drops the contracts nobody holds any more)."""
        if isinstance(event, PositionUpdated) and event.position.size:
            contract_id = event.position.contract_id
        elif isinstance(event, OrderUpdated) and event.order.is_working:
            contract_id = event.order.contract_id
        else:
            return
        if self.market_hub is not None and contract_id not in self._followed:
            self._followed.add(contract_id)
            self.market_hub.add_contract(contract_id)

    def _follow_quotes(self) -> None:
        """Quotes of every contract held or with a working order (marks for P&L and stops)."""
        if self.market_hub is None or self.engine is None:
            return
        contracts = {
            c
            for s in self.engine.states.values()
            for c in (*s.positions, *(o.contract_id for o in s.orders.values()))
        }
        for gone in self._followed - contracts:  # unsubscribed: its mark would go stale
            self.engine.market.forget(gone)
        self._followed = contracts
        self.market_hub.set_contracts(sorted(contracts))

    def _heartbeat(self) -> None:
        assert self.engine is not None
        connected = self.user_hub is not None and self.user_hub.is_connected
        self._write_meta(
            heartbeat_at=to_iso(self.clock.now()),
            connection="CONNECTED" if connected else "DISCONNECTED",
            snapshot=json.dumps(self._snapshot(), separators=(",", ":")),
            store_error=self.engine.store.error or "",
        )
        hubs = {"user": self.user_hub, "market": self.market_hub}
        budget = self.client.budget if self.client is not None else None
        self.metrics.sample(Sample(hubs, budget, self.engine.locks.active(), self.engine.store.error,
                                   self._events.qsize()), self.clock.now())  # fmt: skip

    def _snapshot(self) -> dict[str, object]:
        """What the status screen shows (SPEC §5), with each rule's usage and the accounts in error."""
        assert self.engine is not None
        return snapshot(self.engine.states, now=self.clock.now(), config_of=self.engine.config_of,
                        account_errors=self.account_errors)  # fmt: skip

    def _write_meta(self, **values: str) -> None:
        if self.store is None:
            return
        try:
            self.store.set_meta_many(values)
        except Exception as exc:  # the heartbeat must never take the daemon down
            log.error("meta not written: %s", exc)

    async def _shut_down(self) -> None:
        """Finish what is in flight (<= 5 s), flush, disconnect."""
        if self.engine is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.engine.executor.drain(), 5.0)
            self.engine.flush(self.clock.now())
        for hub in (self.user_hub, self.market_hub):
            if hub is not None:
                await hub.close()
        if self.client is not None:
            await self.client.aclose()
        self._write_meta(connection="DISCONNECTED")
        if self.metrics_server is not None:
            self.metrics_server.stop()
        if self.stop.code in (EXIT_SIGTERM, EXIT_SIGINT):
            signal_name = "SIGTERM" if self.stop.code == EXIT_SIGTERM else "SIGINT"
            self.log_system("SERVICE_STOP", f"{signal_name} (exit {self.stop.code})")

    def install_signal_handlers(self) -> None:
        """SIGTERM -> 143, SIGINT -> 130 (SPEC §7); graceful either way."""
        loop = asyncio.get_running_loop()
        for sig, code in ((signal.SIGTERM, EXIT_SIGTERM), (signal.SIGINT, EXIT_SIGINT)):
            try:
                loop.add_signal_handler(sig, self.stop.request, code)
            except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
                signal.signal(sig, lambda *_, code=code: loop.call_soon_threadsafe(self.stop.request, code))


def _until_next_tick(elapsed: float) -> float:
    """One tick a second; a clock stepped back mid-tick (negative ``elapsed``) must not stretch it."""
    return min(1.0, max(0.05, 1.0 - elapsed))


def _daemon_wide(config_set: ConfigSet) -> object:
    """What cannot change under a running engine: it takes an in-process restart."""
    accounts = config_set.accounts
    return (config_set.risk.general, config_set.holidays, accounts.gateway,
            [entry.ref for entry in accounts.enabled_accounts()])  # fmt: skip


async def run_daemon(config_set: ConfigSet, data_dir: Path, config_dir: Path | None = None) -> int:
    """The daemon until it stops for good; a daemon-wide config change or an authenticated
    restart starts it again in-process with the files on disk."""
    config_dir = config_dir or config_set.config_dir
    while True:
        daemon = Daemon(config_set, data_dir, config_dir=config_dir)
        daemon.install_signal_handlers()
        code = await daemon.run()
        if code not in (RELOAD, EXIT_RESTART):
            return code
        config_set = daemon.config_set if code == RELOAD else load_config_set(config_dir)
        log.info("daemon starting again in-process (%s)", "config" if code == RELOAD else "admin restart")


__all__ = ["EXIT_SIGINT", "EXIT_SIGTERM", "EXIT_STOPPED", "RELOAD", "Daemon", "Stop", "run_daemon"]
