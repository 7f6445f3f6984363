"""The simulator's contracts in play follow every order and position change at once (issue 7 soak fix).

The exchange's part is kept between events (scanning every order ever placed on every
market step made a 100-account soak starve the market); these tests pin that each change
the exchange publishes is seen by the very next step.
"""

from __future__ import annotations

from decimal import Decimal

from risk_manager.broker.projectx.wire import OrderPlaceRequest
from risk_manager.gateway import GatewayConfig, GatewaySimulator


def place(sim: GatewaySimulator, contract_id: str, side: int, size: int, **extra: object) -> int:
    body = {"accountId": 1, "contractId": contract_id, "type": 2, "side": side, "size": size, **extra}
    return sim.exchange.place(OrderPlaceRequest.model_validate(body))


def front(sim: GatewaySimulator, root: str) -> str:
    return next(c["id"] for c in sim.state()["contracts"] if c["id"].split(".")[3] == root)


def test_a_position_opened_and_closed_enters_and_leaves_play_with_its_events() -> None:
    sim = GatewaySimulator(GatewayConfig(accounts=1, quote_rate=0))
    mnq = front(sim, "MNQ")
    assert sim.contracts_in_play() == []
    place(sim, mnq, 0, 2)
    assert sim.contracts_in_play() == [mnq]
    place(sim, mnq, 1, 2)
    assert sim.contracts_in_play() == []


def test_a_resting_order_is_in_play_until_it_fills_on_a_quote() -> None:
    sim = GatewaySimulator(GatewayConfig(accounts=1, quote_rate=0))
    mes = front(sim, "MES")
    start = sim.market.last_price(mes)
    assert start is not None
    place(sim, mes, 0, 1, type=1, limitPrice=float(start - 10))
    assert sim.contracts_in_play() == [mes]
    sim.set_quote(mes, start - 10)  # the limit fills: a position now, the order no longer works
    assert sim.contracts_in_play() == [mes]
    sim.set_quote(mes, start - Decimal("10.25"))
    place(sim, mes, 1, 1)
    assert sim.contracts_in_play() == []
