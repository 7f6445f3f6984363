"""One gateway simulator: its parts, wired together, and the loop that moves the market.

:class:`GatewaySimulator` owns the catalog, the market, the matching engine (an
:class:`~risk_manager.gateway.exchange.Exchange`, i.e. a SimBroker), the token issuer,
the hubs and the scripted faults. The exchange's ``emit`` feeds the user hub; every
quote, random or set through ``/sim/quote``, goes to the market hub first and then to the
exchange, where it may trigger resting orders.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from risk_manager.domain import AccountInfo
from risk_manager.gateway.catalog import Catalog
from risk_manager.gateway.exchange import Exchange
from risk_manager.gateway.faults import FaultScript, RateLimiter
from risk_manager.gateway.hubs import HUB_ENDPOINTS, Hubs
from risk_manager.gateway.market import DEFAULT_RATE, Market, Ticker
from risk_manager.gateway.rest import REST_ENDPOINTS
from risk_manager.gateway.timings import Timings
from risk_manager.gateway.tokens import TOKEN_LIFETIME, TokenIssuer

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Everything a simulator run can be told at start; the defaults are the live service's."""

    user: str = "demo"
    api_key: str = "demo"
    accounts: int = 2
    """Accounts 1..N, named ``SIM-<id>``."""
    balance: Decimal = Decimal("50000")
    seed: int | None = None
    """Seed of the random walk; None picks one (reported by ``/sim/state``)."""
    quote_rate: float = DEFAULT_RATE
    """Quotes per second per contract in play; 0 = only quotes set through ``/sim/quote``."""
    rate_limit: int = 200
    rate_window: float = 60.0
    token_lifetime: timedelta = TOKEN_LIFETIME
    ping_interval: float = 15.0
    client_timeout: float = 30.0
    handshake_timeout: float = 15.0
    fees: Mapping[str, Decimal] | None = None
    """Fee per contract per side, by symbol; None = :data:`~risk_manager.gateway.exchange.DEFAULT_FEES`."""
    auto_oco: frozenset[int] = field(default_factory=frozenset)
    """Accounts that start in Auto OCO Brackets mode."""

    def __post_init__(self) -> None:
        if self.accounts < 1:
            raise ValueError(f"accounts must be >= 1 (got {self.accounts})")
        if self.quote_rate < 0:
            raise ValueError(f"quote_rate must be >= 0 (got {self.quote_rate})")
        if self.rate_limit < 1 or self.rate_window <= 0:
            raise ValueError(f"rate limit must be >= 1 per > 0 s (got {self.rate_limit}/{self.rate_window})")


class GatewaySimulator:
    """The state behind one simulated gateway, served by :func:`risk_manager.gateway.app.create_app`."""

    def __init__(self, config: GatewayConfig | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        self.config = config or GatewayConfig()
        self.clock = clock
        self.catalog = Catalog(clock().date())
        self.market = Market(self.catalog, clock, self.config.seed, self.config.quote_rate)
        self.tokens = TokenIssuer(clock, self.config.token_lifetime)
        self.faults = FaultScript((*REST_ENDPOINTS, *HUB_ENDPOINTS))
        self.limiter = RateLimiter(self.config.rate_limit, self.config.rate_window)
        self.hubs = Hubs(
            self.tokens,
            self.faults,
            ping_interval=self.config.ping_interval,
            client_timeout=self.config.client_timeout,
            handshake_timeout=self.config.handshake_timeout,
        )
        self.hubs.on_subscribe = self.market_changed
        self.timings = Timings()
        """Publish and enforcement-request stamps for benchmarks (``/sim/timings``)."""
        self.exchange = Exchange(clock, self.catalog, self.market, self._emit, self.config.fees)
        for account_id in range(1, self.config.accounts + 1):
            info = AccountInfo(account_id, f"SIM-{account_id}", self.config.balance, can_trade=True)
            self.exchange.add_account(info)
        self.exchange.auto_oco.update(self.config.auto_oco)
        self._changed = asyncio.Event()
        self._idle = True
        self._held: set[str] | None = None
        """The exchange's contracts in play, until its next event (None = to be computed)."""

    def _emit(self, type: str, data: dict[str, Any], contract_id: str | None) -> None:
        self._held = None  # every order or position change is published, so this is the one place
        self.timings.event(type, data)
        self.hubs.publish_user(type, data)
        if self._idle:
            self._changed.set()  # a new position or order may put a contract in play

    # -- the market -------------------------------------------------------------------------

    def publish(self, ticker: Ticker) -> dict[str, Any]:
        """Send the ticker's quote (and trade, depth) to the market hub, then let it match orders."""
        quote = self.market.quote_payload(ticker)
        contract_id = ticker.contract_id
        self.hubs.publish_market("GatewayQuote", contract_id, quote)
        self.timings.quotes += 1
        self.hubs.publish_market("GatewayTrade", contract_id, self.market.trade_payload(ticker))
        self.hubs.publish_market("GatewayDepth", contract_id, self.market.depth_payload(ticker))
        self.exchange.observe("GatewayQuote", quote, contract_id)
        return quote

    def set_quote(
        self, contract_id: str, last: Decimal, bid: Decimal | None = None, ask: Decimal | None = None
    ) -> dict[str, Any]:
        """Move the market to ``last`` now and publish it (raises KeyError for an unknown contract)."""
        return self.publish(self.market.set_quote(contract_id, last, bid, ask))

    def contracts_in_play(self) -> list[str]:
        """Contracts the walk moves: subscribed on the market hub, held, or with working orders.

        The exchange's part is kept until its next event: computing it scans every order
        ever placed, and the market asks on every step (a soak of 100 accounts at 250 steps
        a second spent most of the simulator's time here).
        """
        if self._held is None:
            self._held = self.exchange.contracts_in_play()
        return sorted(self.hubs.subscribed_contracts() | self._held)

    def step_market(self) -> int:
        """One random step of every contract in play; how many quotes went out."""
        published = 0
        for contract_id in self.contracts_in_play():
            ticker = self.market.step(contract_id)
            if ticker is not None:
                self.publish(ticker)
                published += 1
        return published

    def market_changed(self) -> None:
        """Wake the market loop: its rate, pause or subscriptions changed."""
        self._changed.set()

    async def run_market(self) -> None:
        """Step the market ``rate`` times a second until cancelled; idle while paused, closed or unwatched."""
        loop = asyncio.get_running_loop()
        next_step = loop.time()
        while True:
            market = self.market
            if market.paused or market.closed or market.rate <= 0 or not self.contracts_in_play():
                self._idle = True
                self._changed.clear()
                await self._changed.wait()
                self._idle = False
                next_step = loop.time()
                continue
            next_step += 1.0 / market.rate
            delay = next_step - loop.time()
            if delay > 0:
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), delay)
                except TimeoutError:
                    pass
                else:  # settings or subscriptions changed: start the beat again from now
                    next_step = loop.time()
                    continue
            else:
                next_step = loop.time()  # fell behind: no burst to catch up
            try:
                self.step_market()
            except Exception:  # one failed step must not freeze the market for the rest of the run
                log.exception("gateway simulator: market step failed")

    # -- reporting ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything, for tests and ``/sim/state``."""
        return {
            **self.exchange.state(),
            "market": {**self.market.state(), "inPlay": self.contracts_in_play()},
            "contracts": [listing.payload() for listing in self.catalog.front.values()],
            "connections": self.hubs.state(),
            "faults": self.faults.pending(),
            "rateLimit": {
                "limit": self.limiter.limit,
                "window": self.limiter.window,
                "used": self.limiter.used(),
            },
            "tokens": self.tokens.counts(),
        }


__all__ = ["GatewayConfig", "GatewaySimulator", "utc_now"]
