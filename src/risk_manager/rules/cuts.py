"""Choosing which contracts to take off when a count is over its limit (RULE-001, RULE-002)."""

from __future__ import annotations

from collections.abc import Mapping

from risk_manager.domain import Action, close, reduce


def cut_excess(sizes: Mapping[str, int], excess: int, trigger: str | None) -> tuple[Action, ...]:
    """Cut ``excess`` contracts: the triggering position first, then the largest |size| (tie: id).

    ``sizes`` holds the signed sizes of the positions that may be cut. A cut that
    takes a whole position off is a ``close``, anything less a ``reduce``.
    """
    order = sorted(sizes, key=lambda cid: (cid != trigger, -abs(sizes[cid]), cid))
    actions: list[Action] = []
    for contract_id in order:
        if excess <= 0:
            break
        held = abs(sizes[contract_id])
        take = min(held, excess)
        if take == 0:
            continue
        actions.append(close(contract_id, take) if take == held else reduce(contract_id, take))
        excess -= take
    return tuple(actions)


__all__ = ["cut_excess"]
