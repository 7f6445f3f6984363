"""Which accounts a quote must touch: the quote fan-out without visiting every holder.

A quote concerns every account holding the contract, and with many accounts that is most
of the engine's work. Two structures keep it proportional to the accounts a quote can
actually affect.

``QuoteWatch``: each account is armed, per held contract, with a band of marks inside
which no quote rule of the account can act on a quote of that contract (the rules' own
per-contract bands, ``rules/bands.py``, and an even share of the account-wide room of the
P&L rules around each mark). While every quote stays inside its bands nothing can fire,
whatever path the prices take between quotes: every quote is checked against the band, so
a level crossed is always seen. Per contract two heaps hold the band edges; a quote pops
only the accounts whose edge it reaches. An account whose state changed is disarmed and
re-armed before its next quote (``Engine._quote``); one that cannot be armed (a quote rule
without a bound, no room left) is woken by every quote.

``BestMarks``: RULE-012 needs each position's most favourable mark since it opened. Per
contract the longs sit in a heap by best (lowest first) and the shorts by best (highest
first), so a quote visits only the positions whose best it beats.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Set
from decimal import Decimal

from risk_manager.rules.bands import INF, Band

INFINITE = INF
#: a compaction drops stale heap entries once they outnumber the live ones by this much
_SLACK = 1024
_NO_BEST = Decimal("-Infinity")

Edge = tuple[float, int, int]  # (edge, account, version); lower edges are negated
Best = tuple[Decimal, int, int]  # (best, account, version); a short's best is negated


class QuoteWatch:
    """Per contract, the accounts armed with a band of marks, as two heaps of band edges."""

    def __init__(self) -> None:
        self._upper: dict[str, list[Edge]] = {}
        self._lower: dict[str, list[Edge]] = {}
        #: account -> version of its current arming; absent = woken by every quote
        self._armed: dict[int, int] = {}
        self._version = 0
        self._entries = 0

    def disarm(self, account_id: int) -> None:
        """The account's state changed: its bands no longer hold."""
        self._armed.pop(account_id, None)

    def disarm_all(self) -> None:
        self._armed.clear()
        self._upper.clear()
        self._lower.clear()
        self._entries = 0

    def arm(self, account_id: int, bands: Mapping[str, Band]) -> None:
        """Arm an account: a quote of a contract wakes it at or beyond an edge of that contract's
        band; a held contract without a band never does."""
        self._version += 1
        version = self._version
        self._armed[account_id] = version
        for contract_id, (low, high) in bands.items():
            if high != INF:
                heapq.heappush(self._upper.setdefault(contract_id, []), (high, account_id, version))
                self._entries += 1
            if low != -INF:
                heapq.heappush(self._lower.setdefault(contract_id, []), (-low, account_id, version))
                self._entries += 1
        if self._entries > _SLACK + 4 * len(self._armed):
            self._compact()

    def unarmed(self, holders: Set[int]) -> list[int]:
        """The holders every quote wakes: never armed, or disarmed since."""
        return [account_id for account_id in holders if account_id not in self._armed]

    def due(self, contract_id: str, mark: float | None, holders: Set[int]) -> list[int]:
        """The holders a quote at ``mark`` must evaluate (None: its first mark, all), in id order."""
        if mark is None:
            return sorted(holders)
        armed = self._armed
        due = [account_id for account_id in holders if account_id not in armed]
        upper = self._upper.get(contract_id)
        while upper and upper[0][0] <= mark:
            _, account_id, version = heapq.heappop(upper)
            self._entries -= 1
            if armed.get(account_id) == version and account_id in holders:
                due.append(account_id)
        lower = self._lower.get(contract_id)
        while lower and -lower[0][0] >= mark:
            _, account_id, version = heapq.heappop(lower)
            self._entries -= 1
            if armed.get(account_id) == version and account_id in holders:
                due.append(account_id)
        return sorted(set(due)) if len(due) > 1 else due

    def _compact(self) -> None:
        """Drop the edges of accounts re-armed or disarmed since."""
        self._entries = 0
        for heaps in (self._upper, self._lower):
            for contract_id, heap in heaps.items():
                kept = [e for e in heap if self._armed.get(e[1]) == e[2]]
                heapq.heapify(kept)
                heaps[contract_id] = kept
                self._entries += len(kept)


class BestMarks:
    """Per contract, the positions followed for their best mark, by how far a quote must go to beat it."""

    def __init__(self) -> None:
        self._longs: dict[str, list[Best]] = {}
        self._shorts: dict[str, list[Best]] = {}
        #: (account, contract) -> version of the entry that is current; absent = not followed
        self._followed: dict[tuple[int, str], int] = {}
        self._version = 0

    def follow(self, account_id: int, contract_id: str, size: int, best: Decimal | None) -> None:
        """(Re)file a position after any change of it, with its best (None: no mark yet).

        Size 0 forgets it.
        """
        key = (account_id, contract_id)
        if size == 0:
            self._followed.pop(key, None)
            return
        self._version += 1
        self._followed[key] = self._version
        if size > 0:
            self._push(self._longs, contract_id, _NO_BEST if best is None else best, account_id)
        else:
            self._push(self._shorts, contract_id, _NO_BEST if best is None else -best, account_id)

    def beaten(self, contract_id: str, mark: Decimal) -> list[int]:
        """The accounts whose best on ``contract_id`` ``mark`` beats; they are refiled at ``mark``
        (the caller updates their state the same way)."""
        longs = self._take(self._longs.get(contract_id), contract_id, mark)
        shorts = self._take(self._shorts.get(contract_id), contract_id, -mark)
        for account_id in longs:
            self._push(self._longs, contract_id, mark, account_id)
        for account_id in shorts:
            self._push(self._shorts, contract_id, -mark, account_id)
        return longs + shorts

    def _take(self, heap: list[Best] | None, contract_id: str, key: Decimal) -> list[int]:
        taken: list[int] = []
        while heap and heap[0][0] < key:
            _, account_id, version = heapq.heappop(heap)
            if self._followed.get((account_id, contract_id)) == version:
                taken.append(account_id)
        return taken

    def _push(self, heaps: dict[str, list[Best]], contract_id: str, key: Decimal, account_id: int) -> None:
        version = self._followed[(account_id, contract_id)]
        heap = heaps.setdefault(contract_id, [])
        heapq.heappush(heap, (key, account_id, version))
        if len(heap) > _SLACK and len(heap) > 4 * len(self._followed):
            heaps[contract_id] = [e for e in heap if self._followed.get((e[1], contract_id)) == e[2]]
            heapq.heapify(heaps[contract_id])


__all__ = ["INFINITE", "BestMarks", "QuoteWatch"]
