"""The quote fan-out: which accounts a quote wakes (``engine/quotes.py``) never changes a decision."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from harness import MNQ, Run

from risk_manager.engine import Engine
from risk_manager.engine.quotes import BestMarks, QuoteWatch

MES = "CON.F.US.MES.H26"
START_PRICES = {MNQ: 21000.0, MES: 6000.0}
RULES = {
    "daily_realized_loss": {"enabled": True, "limit": -300.0},
    "daily_unrealized_loss": {"enabled": True, "limit": -60.0},
    "max_unrealized_profit": {"enabled": True, "target": 80.0},
    "daily_realized_profit": {"enabled": True, "target": 600.0},
    "trade_management": {
        "enabled": True,
        "auto_stop_loss": {"enabled": True, "ticks": 40},
        "breakeven": {"enabled": True, "trigger_ticks": 8, "offset_ticks": 1},
        "trailing_stop": {"enabled": True, "activation_ticks": 12, "trail_ticks": 6},
    },
}


def _two_contract_day(run: Run, seed: int) -> None:
    """Random walks on MNQ and MES, and market orders on both from three accounts."""
    rng = random.Random(seed)
    prices = dict(START_PRICES)
    for step in range(500):
        seconds = 10 + step
        contract = rng.choice((MNQ, MES))
        prices[contract] += rng.choice((-4, -2, -1, 0, 1, 2, 4)) * 0.25
        if rng.random() < 0.7:
            run.quote(seconds, prices[contract], contract)
        else:
            run.trade(seconds, rng.choice((7, 8, 9)), rng.choice((0, 1)), rng.randint(1, 3), contract)


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param(RULES, id="every-quote-rule"),
        pytest.param({"trade_management": RULES["trade_management"]}, id="trade-management-only"),
        pytest.param(
            {k: RULES[k] for k in ("daily_unrealized_loss", "max_unrealized_profit")}, id="per-position"
        ),
    ],
)
@pytest.mark.parametrize("seed", [5, 17])
def test_with_two_contracts_the_bands_of_each_never_change_a_decision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: dict[str, Any], seed: int
) -> None:
    watched = Run(tmp_path / "watched", rules, accounts=(7, 8, 9))
    _two_contract_day(watched, seed)
    watched.close()
    monkeypatch.setattr(Engine, "_quote_room", lambda self, state: None)
    every = Run(tmp_path / "every", rules, accounts=(7, 8, 9))
    _two_contract_day(every, seed)
    every.close()
    assert len(watched.records) > 5
    assert [(r.at, r.account_id, r.action, r.reason) for r in watched.records] == [
        (r.at, r.account_id, r.action, r.reason) for r in every.records
    ]


def test_an_armed_account_is_woken_only_at_or_beyond_an_edge_of_its_band() -> None:
    watch = QuoteWatch()
    watch.arm(7, {MNQ: (float("-inf"), 100.0)})  # e.g. a long's profit target above
    watch.arm(8, {MNQ: (90.0, 110.0)})
    holders = {7, 8, 9}  # 9 is not armed: every quote wakes it
    assert watch.due(MNQ, 95.0, holders) == [9]
    assert watch.due(MNQ, 10.0, holders) == [8, 9]  # 7's band has no lower edge
    watch.arm(8, {MNQ: (0.0, 200.0)})
    assert watch.due(MNQ, 100.0, holders) == [7, 9]
    assert watch.due(MNQ, 150.0, holders) == [9]  # 7 was woken once; its old edge is gone
    watch.disarm(8)
    assert watch.due(MNQ, 150.0, holders) == [8, 9]
    assert watch.due(MNQ, None, {7}) == [7]  # a contract's first mark wakes every holder


def test_best_marks_beaten_are_exactly_those_a_check_of_every_position_finds() -> None:
    rng = random.Random(3)
    bests = BestMarks()
    sizes: dict[int, int] = {}
    best: dict[int, Decimal | None] = {}
    mark = Decimal("100")
    for _ in range(3000):
        if rng.random() < 0.1:  # a position opens, changes, reverses or closes
            account = rng.randint(1, 12)
            size = rng.choice((-2, -1, 0, 1, 2))
            if size * sizes.get(account, 0) <= 0:
                best[account] = None if rng.random() < 0.2 else mark
            sizes[account] = size
            bests.follow(account, MNQ, size, best.get(account))
            continue
        mark += Decimal(rng.choice((-2, -1, 0, 1, 2))) / 4
        expected = sorted(
            a
            for a, size in sizes.items()
            if size and (best[a] is None or (mark > best[a] if size > 0 else mark < best[a]))  # type: ignore[operator]
        )
        assert sorted(bests.beaten(MNQ, mark)) == expected
        for account in expected:
            best[account] = mark
