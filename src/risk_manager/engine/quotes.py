"""Which accounts a quote must wake: the quote fan-out without touching every holder.

A quote concerns every account holding the contract, and with many accounts that is most
of the engine's work. Each account's quote rules say how much money its P&L may move
before any of them could fire (their ``headroom``); the engine turns that *room* into a
distance the contract's mark may travel, split evenly over the contracts the account
holds (so moves of several contracts together can never add up past the room). Per
contract a heap holds, for each armed account, the cumulative mark travel at which its
share runs out; a quote pops only the accounts it reaches. Accounts without a room (a
rule without a bound, or a state change since) are woken by every quote.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Set

INFINITE = float("inf")


class QuoteWatch:
    """Per contract: the cumulative |mark moves| and the accounts armed against them."""

    def __init__(self) -> None:
        self._travel: dict[str, float] = {}
        self._heaps: dict[str, list[tuple[float, int, int]]] = {}
        #: account -> version of its current arming; absent = woken by every quote
        self._armed: dict[int, int] = {}
        self._version = 0

    def disarm(self, account_id: int) -> None:
        """The account's state changed: its next quote is evaluated in full."""
        self._armed.pop(account_id, None)

    def disarm_all(self) -> None:
        self._armed.clear()
        self._heaps.clear()

    def arm(self, account_id: int, room: float | None, exposure: Mapping[str, float]) -> None:
        """Arm an account with ``room`` (money; None = no bound) for its ``exposure``.

        ``exposure`` is, per held contract, the money one unit of price move makes
        (|size| × tick value / tick size).
        """
        if room is None or room <= 0:
            self._armed.pop(account_id, None)
            return
        self._version += 1
        self._armed[account_id] = self._version
        moving = {c: f for c, f in exposure.items() if f > 0}
        if room == INFINITE or not moving:
            return
        share = room / len(moving)
        for contract_id, factor in moving.items():
            heap = self._heaps.setdefault(contract_id, [])
            limit = self._travel.get(contract_id, 0.0) + share / factor
            heapq.heappush(heap, (limit, account_id, self._version))
            if len(heap) > 64 + 8 * len(self._armed):
                self._compact(contract_id)

    def due(self, contract_id: str, move: float | None, holders: Set[int]) -> list[int]:
        """The holders a quote moving the mark by ``move`` (None: first mark) must evaluate, in id order."""
        if move is None:
            return sorted(holders)
        travel = self._travel.get(contract_id, 0.0) + move
        self._travel[contract_id] = travel
        due = set(holders - self._armed.keys())
        heap = self._heaps.get(contract_id)
        while heap and heap[0][0] <= travel:
            _, account_id, version = heapq.heappop(heap)
            if self._armed.get(account_id) == version and account_id in holders:
                due.add(account_id)
        return sorted(due)

    def _compact(self, contract_id: str) -> None:
        """Drop the entries of accounts re-armed or disarmed since."""
        heap = [e for e in self._heaps[contract_id] if self._armed.get(e[1]) == e[2]]
        heapq.heapify(heap)
        self._heaps[contract_id] = heap


__all__ = ["INFINITE", "QuoteWatch"]
