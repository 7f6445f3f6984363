"""Which accounts a quote must wake: the quote fan-out without touching every holder.

A quote concerns every account holding the contract, and with many accounts that is most
of the engine's work. Each account's quote rules say how much money its P&L may move
before any of them could fire (their ``headroom``). The engine splits that *room* evenly
over the contracts the account holds and turns each share into a price band around the
contract's mark at that moment: while every quote stays inside its bands, no rule of the
account can fire, whatever path the prices take between quotes (every quote is checked
against the band, so a level crossed is always seen). Per contract two heaps hold the
band edges; a quote pops only the accounts whose edge it reaches. Accounts without a
room (a rule without a bound, or a state change since) are woken by every quote.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Set

INFINITE = float("inf")


class QuoteWatch:
    """Per contract, the accounts armed with a price band, as two heaps of band edges."""

    def __init__(self) -> None:
        self._upper: dict[str, list[tuple[float, int, int]]] = {}  # (upper edge, account, version)
        self._lower: dict[str, list[tuple[float, int, int]]] = {}  # (-lower edge, account, version)
        #: account -> version of its current arming; absent = woken by every quote
        self._armed: dict[int, int] = {}
        self._version = 0

    def disarm(self, account_id: int) -> None:
        """The account's state changed: its next quote is evaluated in full."""
        self._armed.pop(account_id, None)

    def disarm_all(self) -> None:
        self._armed.clear()
        self._upper.clear()
        self._lower.clear()

    def arm(self, account_id: int, room: float | None, exposure: Mapping[str, tuple[float, float]]) -> None:
        """Arm an account with ``room`` (money; None = no bound).

        ``exposure`` is, per held contract, (money one unit of price move makes, that is
        |size| × tick value / tick size; the contract's mark now).
        """
        if room is None or room <= 0:
            self._armed.pop(account_id, None)
            return
        self._version += 1
        version = self._version
        self._armed[account_id] = version
        moving = {c: fm for c, fm in exposure.items() if fm[0] > 0}
        if room == INFINITE or not moving:
            return
        share = room / len(moving)
        for contract_id, (factor, mark) in moving.items():
            width = share / factor
            heapq.heappush(self._upper.setdefault(contract_id, []), (mark + width, account_id, version))
            heapq.heappush(self._lower.setdefault(contract_id, []), (-(mark - width), account_id, version))
        if len(self._upper.get(contract_id, ())) > 64 + 8 * len(self._armed):
            self._compact()

    def due(self, contract_id: str, mark: float | None, holders: Set[int]) -> list[int]:
        """The holders a quote at ``mark`` must evaluate (None: its first mark, all), in id order."""
        if mark is None:
            return sorted(holders)
        due = set(holders - self._armed.keys())
        upper = self._upper.get(contract_id)
        while upper and upper[0][0] <= mark:
            self._take(heapq.heappop(upper), holders, due)
        lower = self._lower.get(contract_id)
        while lower and -lower[0][0] >= mark:
            self._take(heapq.heappop(lower), holders, due)
        return sorted(due)

    def _take(self, entry: tuple[float, int, int], holders: Set[int], due: set[int]) -> None:
        _, account_id, version = entry
        if self._armed.get(account_id) == version and account_id in holders:
            due.add(account_id)

    def _compact(self) -> None:
        """Drop the edges of accounts re-armed or disarmed since."""
        for heaps in (self._upper, self._lower):
            for contract_id, heap in heaps.items():
                kept = [e for e in heap if self._armed.get(e[1]) == e[2]]
                heapq.heapify(kept)
                heaps[contract_id] = kept


__all__ = ["INFINITE", "QuoteWatch"]
