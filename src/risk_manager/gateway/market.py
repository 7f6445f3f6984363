"""The simulated market: a seeded random walk per contract and the hub payloads it produces.

Each contract walks on its own ``random.Random`` seeded with ``"<seed>:<contract id>"``,
so a contract's sequence of prices depends only on the seed and on how many steps it
took, never on which other contracts were subscribed. A step moves the last price by
-2..+2 ticks (never below one tick), trades 1..10 contracts and keeps the session's
open/high/low/volume, from which ``change`` and ``changePercent`` (in percent) follow.
The spread is always one tick: a buy trades at the ask, a sell at the bid.

Payloads are built with the shared wire models (``WireQuote``, ``WireMarketTrade``,
``WireDepth``), so they have exactly the gateway's field names.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from risk_manager.broker.projectx.wire import WireDepth, WireMarketTrade, WireQuote, symbol_id
from risk_manager.gateway.catalog import Catalog

#: Quotes per second per contract, unless configured (ISSUE 5: "4/s per contract").
DEFAULT_RATE = 4.0
_STEPS = (-2, -1, -1, 0, 1, 1, 2)
_BUY, _SELL = 0, 1  # TradeLogType
_BEST_ASK, _BEST_BID = 3, 4  # DomType


@dataclass(slots=True)
class Ticker:
    """The market of one contract during the simulated session."""

    contract_id: str
    symbol: str
    tick_size: Decimal
    rng: random.Random
    last: Decimal
    bid: Decimal
    ask: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    volume: int = 0
    last_side: int = _BUY
    last_size: int = 0

    def trade(self, price: Decimal, side: int, size: int) -> None:
        self.last, self.last_side, self.last_size = price, side, size
        self.high, self.low = max(self.high, price), min(self.low, price)
        self.volume += size


class Market:
    """Prices of every contract the catalog knows, moved by :meth:`step` or set by :meth:`set_quote`.

    ``rate`` (quotes per second per contract) and ``paused`` are read by the gateway's
    publishing loop; the market itself has no timer. ``clock`` stamps the payloads (UTC).
    """

    def __init__(
        self,
        catalog: Catalog,
        clock: Callable[[], datetime],
        seed: int | None = None,
        rate: float = DEFAULT_RATE,
    ) -> None:
        self._catalog = catalog
        self._clock = clock
        self.seed = seed if seed is not None else secrets.randbits(32)
        self.rate = rate
        self.paused = False
        self.closed = False
        """A closed market sends no quotes; orders are refused as outside trading hours."""
        self._tickers: dict[str, Ticker] = {}

    def ticker(self, contract_id: str) -> Ticker | None:
        """The contract's market, created at its start price on first use; None if unknown."""
        ticker = self._tickers.get(contract_id)
        if ticker is None:
            listing = self._catalog.find(contract_id)
            if listing is None:
                return None
            start, tick = listing.product.start_price, listing.product.tick.tick_size
            ticker = Ticker(
                contract_id=contract_id,
                symbol=listing.product.symbol,
                tick_size=tick,
                rng=random.Random(f"{self.seed}:{contract_id}"),
                last=start,
                bid=start,
                ask=start + tick,
                open=start,
                high=start,
                low=start,
            )
            self._tickers[contract_id] = ticker
        return ticker

    def last_price(self, contract_id: str) -> Decimal | None:
        ticker = self.ticker(contract_id)
        return ticker.last if ticker is not None else None

    def step(self, contract_id: str) -> Ticker | None:
        """One random move of the contract's price; None for an unknown contract."""
        ticker = self.ticker(contract_id)
        if ticker is None:
            return None
        move = ticker.rng.choice(_STEPS)
        size = ticker.rng.randint(1, 10)
        side = _BUY if move > 0 else _SELL if move < 0 else ticker.rng.choice((_BUY, _SELL))
        price = max(ticker.tick_size, ticker.last + move * ticker.tick_size)
        ticker.trade(price, side, size)
        if side == _BUY:
            ticker.bid, ticker.ask = price - ticker.tick_size, price
        else:
            ticker.bid, ticker.ask = price, price + ticker.tick_size
        return ticker

    def set_quote(
        self, contract_id: str, last: Decimal, bid: Decimal | None = None, ask: Decimal | None = None
    ) -> Ticker:
        """Put the market at ``last`` (bid = last, ask = last + 1 tick unless given). Raises KeyError."""
        ticker = self.ticker(contract_id)
        if ticker is None:
            raise KeyError(contract_id)
        side = _BUY if last >= ticker.last else _SELL
        ticker.trade(last, side, 1)
        ticker.bid = bid if bid is not None else last
        ticker.ask = ask if ask is not None else last + ticker.tick_size
        return ticker

    def quote_payload(self, ticker: Ticker) -> dict[str, Any]:
        """The ``GatewayQuote`` data (second argument) for the ticker's current state."""
        now = self._clock()
        change = ticker.last - ticker.open
        percent = (change / ticker.open * 100).quantize(Decimal("0.0001")) if ticker.open else Decimal(0)
        return WireQuote(
            symbol=symbol_id(ticker.contract_id),
            symbolName=f"/{ticker.symbol}",
            lastPrice=ticker.last,
            bestBid=ticker.bid,
            bestAsk=ticker.ask,
            change=change,
            changePercent=percent,
            open=ticker.open,
            high=ticker.high,
            low=ticker.low,
            volume=ticker.volume,
            lastUpdated=now,
            timestamp=now,
        ).payload()

    def trade_payload(self, ticker: Ticker) -> list[dict[str, Any]]:
        """The ``GatewayTrade`` data: a list of one market trade."""
        trade = WireMarketTrade(
            symbolId=symbol_id(ticker.contract_id),
            price=ticker.last,
            timestamp=self._clock(),
            type=ticker.last_side,
            volume=max(ticker.last_size, 1),
        )
        return [trade.payload()]

    def depth_payload(self, ticker: Ticker) -> list[dict[str, Any]]:
        """The ``GatewayDepth`` data: best ask and best bid levels."""
        now = self._clock()
        size = max(ticker.last_size, 1)
        levels = [(_BEST_ASK, ticker.ask), (_BEST_BID, ticker.bid)]
        return [
            WireDepth(timestamp=now, type=kind, price=price, volume=size, currentVolume=size).payload()
            for kind, price in levels
        ]

    def state(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rate": self.rate,
            "paused": self.paused,
            "closed": self.closed,
            "quotes": {cid: self.quote_payload(t) for cid, t in sorted(self._tickers.items())},
        }


__all__ = ["DEFAULT_RATE", "Market", "Ticker"]
