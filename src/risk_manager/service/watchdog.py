"""``risk_manager watchdog``: a dead-man check of the daemon's heartbeat (SPEC §8 ``general.watchdog``).

The daemon writes meta ``heartbeat_at`` every second. A daemon that hangs, or that
crashes and cannot come back, stops enforcing while the trader can still trade; the
supervisor's restarts do not help with a hang. This small separate process reads the
heartbeat (read-only) and, once it is older than ``stale_seconds`` while the market is
open, alerts loudly (a CRITICAL log line) and, with ``flatten_on_stale``, cancels every
order and closes every position of the configured accounts, again every few seconds
while the heartbeat stays stale: that repetition is its lock. A fresh heartbeat ends it.

With the market closed it only alerts: nothing can fill then, and a daemon still down
when the market opens is flattened from that moment on. "Open" is the CME Globex week:
Sunday 18:00 to Friday 17:00 New York time, less the daily 17:00-18:00 halt and exchange holidays (the default
calendar, CME_Equity, with holidays.yaml merged in).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, time
from enum import StrEnum
from pathlib import Path

from risk_manager.broker.base import BrokerError
from risk_manager.broker.projectx.client import ProjectXClient
from risk_manager.config.accounts import AccountEntry
from risk_manager.config.risk import WatchdogConfig
from risk_manager.schedule import Clock, ExchangeCalendar, SessionSchedule, SessionWindow, SystemClock
from risk_manager.schedule.trading_day import NEW_YORK
from risk_manager.store import Store, StoreError, from_iso

log = logging.getLogger("risk_manager.watchdog")

CHECK_SECONDS = 1.0
#: while stale: how often the flatten (and the CRITICAL line) is repeated
REPEAT_SECONDS = 5.0
#: CME Globex: opens 18:00 New York Sunday to Thursday, closes 17:00 the next day
GLOBEX = SessionWindow(time(18, 0), time(17, 0), NEW_YORK, frozenset({6, 0, 1, 2, 3}))


class Verdict(StrEnum):
    """What one check found."""

    FRESH = "fresh"
    STALE_MARKET_CLOSED = "stale, market closed"
    STALE = "stale"


MarketOpen = Callable[[datetime], bool]


def globex_open(calendar: ExchangeCalendar) -> MarketOpen:
    """``is_open(now)`` for the CME Globex week with ``calendar``'s holidays."""
    return SessionSchedule(GLOBEX, calendar, None).is_open


def read_heartbeat(database: Path) -> datetime | None:
    """meta ``heartbeat_at`` (UTC), or None when there is no readable database or heartbeat yet."""
    try:
        with Store.open(database, read_only=True, busy_timeout_ms=1000) as store:
            text = store.get_meta("heartbeat_at")
    except StoreError:
        return None
    try:
        return from_iso(text) if text else None
    except ValueError:
        return None


class Flattener:
    """Cancel every working order, then close every position, of the configured accounts.

    Names in accounts.yaml are resolved to ids on first use (like the daemon); an account
    the API key cannot see is logged and skipped. Broker errors are logged per account and
    the next pass tries again: the watchdog keeps going, it never gives up on a stale daemon.
    """

    def __init__(self, client: ProjectXClient, entries: Iterable[AccountEntry]) -> None:
        self._client = client
        self._entries = list(entries)
        self._ids: list[int] | None = None

    async def account_ids(self) -> list[int]:
        if self._ids is None:
            seen = await self._client.search_accounts()
            by_name = {a.name: a.id for a in seen}
            visible = {a.id for a in seen}
            ids = []
            for entry in self._entries:
                found = entry.id if entry.id in visible else by_name.get(entry.name or "")
                if found is None:
                    log.error("account %s is not visible to this API key: not flattened", entry.display)
                else:
                    ids.append(found)
            self._ids = ids
        return self._ids

    async def flatten(self) -> int:
        """One pass over every account, in parallel; returns the broker calls sent."""
        try:
            ids = await self.account_ids()
        except BrokerError as exc:
            log.error("watchdog cannot list accounts: %s", exc)
            return 0
        counts = await asyncio.gather(*(self._flatten_account(a) for a in ids))
        return sum(counts)

    async def _flatten_account(self, account_id: int) -> int:
        sent = 0
        try:
            # closeContract leaves resting orders working, so cancel first
            for order in await self._client.search_open_orders(account_id):
                await self._client.cancel_order(account_id, order.id)
                sent += 1
            for position in await self._client.search_open_positions(account_id):
                if position.size:
                    await self._client.close_position(account_id, position.contract_id)
                    sent += 1
        except BrokerError as exc:
            log.error("watchdog flatten of account %d failed: %s", account_id, exc,
                      extra={"account": account_id})  # fmt: skip
        if sent:
            log.critical("watchdog flattened account %d (%d calls)", account_id, sent,
                         extra={"account": account_id, "calls": sent})  # fmt: skip
        return sent


class Watchdog:
    """One check per call of :meth:`check`; :meth:`run` calls it every second until stopped.

    Args:
        database: the daemon's ``risk_manager.db`` (opened read-only for each check).
        settings: ``general.watchdog``.
        flattener: None unless ``flatten_on_stale``.
        market_open: ``is_open(now)``, see :func:`globex_open`.
        clock: UTC now (leave as default unless testing).
    """

    def __init__(
        self,
        database: Path,
        settings: WatchdogConfig,
        market_open: MarketOpen,
        flattener: Flattener | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._database = database
        self._settings = settings
        self._flattener = flattener if settings.flatten_on_stale else None
        self._market_open = market_open
        self._clock: Clock = clock or SystemClock()
        #: until a heartbeat is read, the daemon is given stale_seconds from the watchdog's start
        self._last_beat = self._clock.now()
        self._stale = False
        self._last_alarm: datetime | None = None

    @property
    def stale(self) -> bool:
        return self._stale

    async def check(self) -> Verdict:
        """Read the heartbeat; alert and flatten (at most every REPEAT_SECONDS) while it is stale."""
        now = self._clock.now()
        beat = read_heartbeat(self._database)
        if beat is not None:
            self._last_beat = beat
        age = (now - self._last_beat).total_seconds()
        if age <= self._settings.stale_seconds:
            if self._stale:
                log.warning("daemon heartbeat is back (%.0f s old): watchdog stands down", age)
            self._stale, self._last_alarm = False, None
            return Verdict.FRESH
        self._stale = True
        is_open = self._market_open(now)
        if self._last_alarm is None or (now - self._last_alarm).total_seconds() >= REPEAT_SECONDS:
            self._last_alarm = now
            await self._alarm(age, is_open)
        return Verdict.STALE if is_open else Verdict.STALE_MARKET_CLOSED

    async def _alarm(self, age: float, is_open: bool) -> None:
        action = "market closed: alert only"
        if is_open:
            action = "flattening every account" if self._flattener else "flatten_on_stale is off: alert only"
        log.critical(
            "DAEMON HEARTBEAT STALE: last beat %.0f s ago (limit %d s); %s",
            age, self._settings.stale_seconds, action,
            extra={"heartbeat_age": round(age, 1), "market_open": is_open, "event": "watchdog_stale"},
        )  # fmt: skip
        if is_open and self._flattener is not None:
            await self._flattener.flatten()

    async def run(self, stop: asyncio.Event) -> None:
        """Check every second until ``stop`` is set."""
        while not stop.is_set():
            await self.check()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHECK_SECONDS)


__all__ = [
    "CHECK_SECONDS",
    "GLOBEX",
    "REPEAT_SECONDS",
    "Flattener",
    "MarketOpen",
    "Verdict",
    "Watchdog",
    "globex_open",
    "read_heartbeat",
]
