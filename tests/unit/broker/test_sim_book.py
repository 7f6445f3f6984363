"""The fill arithmetic the simulated broker applies, as the gateway does (ARCHITECTURE.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from risk_manager.broker.sim import FillOutcome, apply_fill
from risk_manager.domain import CME_TICKS, TickSpec

MNQ_TICK = CME_TICKS["MNQ"]
ES_TICK = CME_TICKS["ES"]
D = Decimal


@pytest.mark.parametrize(
    ("size", "avg", "qty", "price", "tick", "expected"),
    [
        pytest.param(0, "0", 2, "21000", MNQ_TICK, FillOutcome(2, D("21000"), None), id="open-long"),
        pytest.param(0, "0", -1, "5000.25", ES_TICK, FillOutcome(-1, D("5000.25"), None), id="open-short"),
        pytest.param(
            1, "21000", 1, "21001", MNQ_TICK, FillOutcome(2, D("21000.5"), None), id="add-moves-average"
        ),
        pytest.param(
            2,
            "21000.25",
            1,
            "21000.5",
            MNQ_TICK,
            FillOutcome(3, D("21000.33333333"), None),
            id="average-8-places",
        ),
        pytest.param(
            2, "21000", -2, "20925", MNQ_TICK, FillOutcome(0, D("0"), D("-300.00")), id="close-long-at-a-loss"
        ),
        pytest.param(
            -3, "5000", 3, "4990", ES_TICK, FillOutcome(0, D("0"), D("1500.00")), id="close-short-at-a-profit"
        ),
        pytest.param(
            3, "21000", -1, "21010", MNQ_TICK, FillOutcome(2, D("21000"), D("20.00")), id="partial-keeps-avg"
        ),
        pytest.param(
            2, "21000", -5, "21010", MNQ_TICK, FillOutcome(-3, D("21010"), D("40.00")), id="reversal"
        ),
        pytest.param(
            -1,
            "21000",
            2,
            "21001.25",
            MNQ_TICK,
            FillOutcome(1, D("21001.25"), D("-2.50")),
            id="reverse-short",
        ),
        pytest.param(
            3,
            "21000.33333333",
            -3,
            "21000.5",
            MNQ_TICK,
            FillOutcome(0, D("0"), D("1.00")),
            id="pnl-rounded-to-cents",
        ),
    ],
)
def test_apply_fill(size: int, avg: str, qty: int, price: str, tick: TickSpec, expected: FillOutcome) -> None:
    assert apply_fill(size, D(avg), qty, D(price), tick) == expected


def test_apply_fill_refuses_an_empty_fill() -> None:
    with pytest.raises(ValueError, match="non-zero"):
        apply_fill(1, D("1"), 0, D("1"), MNQ_TICK)
