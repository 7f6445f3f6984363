"""Marks: the latest price per contract, shared by every account."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from risk_manager.domain import Quote

MarkPrice = Literal["last", "mid"]


class Market:
    """Latest mark per contract (SPEC §4.4: last price, or mid; mid when there is no last).

    Quotes may be partial, so a missing field keeps the previous value: updates are
    merged into the last known quote rather than replacing it.
    """

    __slots__ = ("_ask", "_bid", "_last", "last_changed", "marks", "mode", "version")

    def __init__(self, mode: MarkPrice = "last") -> None:
        self.mode: MarkPrice = mode
        self.marks: dict[str, Decimal] = {}
        self._last: dict[str, Decimal] = {}
        self._bid: dict[str, Decimal] = {}
        self._ask: dict[str, Decimal] = {}
        #: bumped on every mark change, with the contract it concerned: lets each account
        #: update its unrealized total for one contract instead of re-marking every position
        self.version = 0
        self.last_changed: str | None = None

    def apply(self, quote: Quote) -> Decimal | None:
        """Merge a quote; return the new mark (None while still unknown)."""
        cid = quote.contract_id
        if quote.last is not None:
            self._last[cid] = quote.last
        if quote.bid is not None:
            self._bid[cid] = quote.bid
        if quote.ask is not None:
            self._ask[cid] = quote.ask
        mark = self._compute(cid)
        if mark is not None:
            self.marks[cid] = mark
            self.version += 1
            self.last_changed = cid
        return mark

    def _compute(self, cid: str) -> Decimal | None:
        last = self._last.get(cid)
        if self.mode == "last" and last is not None:
            return last
        bid, ask = self._bid.get(cid), self._ask.get(cid)
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        return last

    def forget(self, contract_id: str) -> None:
        """No longer quoted (nobody holds it): a mark kept now would be stale when it is next traded."""
        for book in (self.marks, self._last, self._bid, self._ask):
            book.pop(contract_id, None)
        self.version += 1
        self.last_changed = None  # every account re-marks in full

    def last_price(self, contract_id: str) -> Decimal | None:
        return self._last.get(contract_id)

    def mark(self, contract_id: str) -> Decimal | None:
        return self.marks.get(contract_id)


__all__ = ["MarkPrice", "Market"]
