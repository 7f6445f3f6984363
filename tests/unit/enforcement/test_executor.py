"""The enforcement executor against the in-process simulated broker (SPEC §4.1)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from factories import ACCOUNT, ES, MNQ, NOON, order, state
from risk_manager.broker import BrokerRejected, BrokerUnavailable, OutcomeUnknown
from risk_manager.broker.sim import SimBroker
from risk_manager.domain import (
    AccountInfo,
    Action,
    ActionKind,
    ContractCatalog,
    OrderSide,
    Position,
    close,
    reduce,
)
from risk_manager.enforcement import Executor, Job, Outcome


class Harness:
    def __init__(self, *positions: tuple[str, int]) -> None:
        self.events: list[tuple[str, dict]] = []
        self.broker = SimBroker(
            lambda: NOON, ContractCatalog(), emit=lambda t, d, c: self.events.append((t, d))
        )
        self.broker.add_account(AccountInfo(ACCOUNT, "PRAC", Decimal(50000), True))
        held = [Position(ACCOUNT, cid, size, Decimal("21000"), NOON) for cid, size in positions]
        self.broker.load_snapshot(held, [], [])
        for cid, _ in positions:
            self.broker.observe("GatewayQuote", {"lastPrice": 21000.0}, cid)
        self.state = state(*((cid, size, "21000") for cid, size in positions))
        self.outcomes: list[Outcome] = []
        self.sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        self.executor = Executor(self.broker, lambda _: self.state, self.outcomes.append, sleep=sleep)

    def run(self, *actions: Action) -> list[Outcome]:
        async def go() -> None:
            self.executor.submit([Job(ACCOUNT, "RULE-001", "test", a, NOON) for a in actions])
            await self.executor.drain()

        asyncio.run(go())
        return self.outcomes

    def calls(self, method: str) -> int:
        return sum(1 for name, _ in self.broker.calls if name == method)


def test_a_close_that_fails_twice_is_retried_with_backoff_and_succeeds() -> None:
    h = Harness((MNQ, 2))
    h.broker.fail_next("close_position", times=2)
    [outcome] = h.run(close(MNQ, 2))
    assert outcome.result == "OK"
    assert h.calls("close_position") == 3
    assert h.sleeps == [0.5, 1.0]


def test_three_failures_end_as_failed_with_the_error() -> None:
    h = Harness((MNQ, 2))
    h.broker.fail_next("close_position", times=3)
    [outcome] = h.run(close(MNQ, 2))
    assert outcome.result == "FAILED"
    assert "close_position" in (outcome.error or "")
    assert h.calls("close_position") == 3


def test_an_unknown_outcome_is_checked_not_blindly_resent() -> None:
    h = Harness((MNQ, 2))
    h.broker.fail_next(
        "close_position", error=OutcomeUnknown("timeout", endpoint="Position/closeContract"), apply=True
    )
    [outcome] = h.run(close(MNQ, 2))
    assert outcome.result == "OK"
    assert h.calls("close_position") == 1
    assert h.calls("search_open_positions") >= 1


def test_an_unknown_outcome_that_did_not_happen_is_sent_again() -> None:
    h = Harness((MNQ, 2))
    h.broker.fail_next("close_position", error=OutcomeUnknown("timeout", endpoint="Position/closeContract"))
    [outcome] = h.run(close(MNQ, 2))
    assert outcome.result == "OK"
    assert h.calls("close_position") == 2


def test_a_rejection_is_not_retried_but_position_not_found_counts_as_done() -> None:
    h = Harness((MNQ, 2))
    h.broker.fail_next("close_position", error=BrokerRejected("rejected", code=5))
    assert h.run(close(MNQ, 2))[0].result == "FAILED"
    assert h.calls("close_position") == 1
    flat = Harness()
    assert flat.run(close(MNQ, 1))[0].result == "OK"  # the gateway says PositionNotFound (2): already flat


def test_flatten_cancels_every_order_and_confirms_flat_even_when_cancels_are_refused() -> None:
    h = Harness((MNQ, 2), (ES, -1))
    h.state.apply_order(order(77, MNQ, OrderSide.SELL, 2))
    h.broker.refuse_cancels = True
    outcomes = h.run(Action(ActionKind.CANCEL_ALL), Action(ActionKind.CLOSE_ALL))
    results = {o.job.action.kind: o.result for o in outcomes}
    assert results == {ActionKind.CANCEL_ALL: "FAILED", ActionKind.CLOSE_ALL: "OK"}
    assert asyncio.run(h.broker.search_open_positions(ACCOUNT)) == []
    assert h.calls("close_position") == 2


def test_flatten_retries_until_the_broker_shows_flat() -> None:
    h = Harness((MNQ, 2))
    h.broker.fail_next("close_position", times=1, error=BrokerUnavailable("down"))
    [outcome] = h.run(Action(ActionKind.CLOSE_ALL))
    assert outcome.result == "OK"
    assert h.calls("close_position") == 2


def test_a_second_cut_on_a_contract_in_flight_is_skipped() -> None:
    h = Harness((MNQ, 3))

    async def go() -> list[Job]:
        first = h.executor.submit([Job(ACCOUNT, "RULE-001", "a", reduce(MNQ, 1), NOON)])
        second = h.executor.submit([Job(ACCOUNT, "RULE-002", "b", reduce(MNQ, 1), NOON)])
        assert h.executor.in_flight(ACCOUNT, MNQ)
        await h.executor.drain()
        return first + second

    skipped = asyncio.run(go())
    assert [j.reason for j in skipped] == ["b"]
    assert sorted(o.result for o in h.outcomes) == ["OK", "SKIPPED"]
    assert h.calls("partial_close") == 1
    assert not h.executor.in_flight(ACCOUNT, MNQ)


def test_place_and_modify_stop() -> None:
    h = Harness((MNQ, 1))
    place = Action(
        ActionKind.PLACE_STOP, contract_id=MNQ, size=1, price=Decimal("20990"), side=OrderSide.SELL
    )
    assert h.run(place)[0].result == "OK"
    [placed] = asyncio.run(h.broker.search_open_orders(ACCOUNT))
    assert placed.custom_tag is not None and placed.custom_tag.startswith("RM-")
    assert placed.id in h.state.daemon_orders
    modify = Action(ActionKind.MODIFY_STOP, contract_id=MNQ, order_id=placed.id, price=Decimal("21000.25"))
    assert h.run(modify)[-1].result == "OK"
    [moved] = asyncio.run(h.broker.search_open_orders(ACCOUNT))
    assert moved.stop_price == Decimal("21000.25")


@pytest.mark.parametrize("kind", [ActionKind.CANCEL_ORDER, ActionKind.REDUCE])
def test_an_action_missing_its_fields_fails_cleanly(kind: ActionKind) -> None:
    h = Harness((MNQ, 1))
    [outcome] = h.run(Action(kind))
    assert outcome.result == "FAILED"
