"""The request budget: a sliding 200/60 s window, reads capped at 150, enforcement first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from projectx_fakes import FakeTime, settle

from risk_manager.broker.projectx.budget import BudgetExhausted, Priority, RequestBudget

POLL, ENFORCEMENT = Priority.POLL, Priority.ENFORCEMENT


def budget(time: FakeTime, **options: Any) -> RequestBudget:
    return RequestBudget(monotonic=time.monotonic, sleep=time.sleep, **options)


def run(scenario: Callable[[FakeTime], Awaitable[None]]) -> None:
    async def go() -> None:
        async with asyncio.timeout(5):
            await scenario(FakeTime())

    asyncio.run(go())


async def spend(b: RequestBudget, count: int, priority: Priority = ENFORCEMENT) -> None:
    for _ in range(count):
        await b.acquire(priority)


@pytest.mark.parametrize(
    ("used", "priority", "delay"),
    [
        pytest.param(149, POLL, 0.0, id="read-149-of-150"),
        pytest.param(150, POLL, 60.0, id="read-stops-at-150"),
        pytest.param(150, ENFORCEMENT, 0.0, id="enforcement-has-headroom"),
        pytest.param(199, ENFORCEMENT, 0.0, id="enforcement-199-of-200"),
        pytest.param(200, ENFORCEMENT, 60.0, id="enforcement-stops-at-200"),
    ],
)
def test_reads_stop_at_150_and_enforcement_at_200(used: int, priority: Priority, delay: float) -> None:
    async def scenario(time: FakeTime) -> None:
        b = budget(time)
        await spend(b, used)
        assert b.delay(priority) == delay

    run(scenario)


def test_the_window_slides_request_by_request() -> None:
    async def scenario(time: FakeTime) -> None:
        b = budget(time, limit=3, read_limit=3, window=10.0)
        await b.acquire(POLL)  # t=0
        await time.advance(4)
        await spend(b, 2, POLL)  # t=4
        assert b.delay(POLL) == 6.0  # the t=0 request leaves at t=10
        await time.advance(6)
        assert b.used() == 2 and b.delay(POLL) == 0.0

    run(scenario)


def test_a_waiting_poll_goes_when_the_oldest_request_leaves_the_window() -> None:
    async def scenario(time: FakeTime) -> None:
        b = budget(time)
        await spend(b, 150, POLL)
        poll = asyncio.ensure_future(b.acquire(POLL))
        await settle()
        assert not poll.done()
        await time.advance(30)
        await b.acquire(ENFORCEMENT)  # enforcement is not held up by the waiting poll
        await time.advance(29.9)
        assert not poll.done()
        await time.advance(0.1)
        assert poll.done() and b.used() == 2  # 150 left the window; the enforcement and this poll remain

    run(scenario)


def test_enforcement_jumps_the_queue_of_waiting_polls() -> None:
    async def scenario(time: FakeTime) -> None:
        b = budget(time)
        granted: list[str] = []

        async def take(name: str, priority: Priority) -> None:
            await b.acquire(priority)
            granted.append(name)

        b.rate_limited(retry_after=5)  # everything waits 5 s
        tasks = [asyncio.ensure_future(take("poll-1", POLL)), asyncio.ensure_future(take("poll-2", POLL))]
        await settle()
        tasks.append(asyncio.ensure_future(take("cancel", ENFORCEMENT)))
        await settle()
        assert granted == []
        await time.advance(5)
        await asyncio.gather(*tasks)
        assert granted == ["cancel", "poll-1", "poll-2"]

    run(scenario)


def test_429_backs_everything_off_for_retry_after() -> None:
    async def scenario(time: FakeTime) -> None:
        b = budget(time)
        assert b.rate_limited(retry_after=12) == 12
        assert b.delay(POLL) == 12 and b.delay(ENFORCEMENT) == 12
        await time.advance(12)
        assert b.delay(ENFORCEMENT) == 0 and b.blocked_for() == 0

    run(scenario)


def test_429_without_retry_after_backs_off_exponentially_until_a_success() -> None:
    async def scenario(time: FakeTime) -> None:
        b = budget(time)
        assert [b.rate_limited(None) for _ in range(7)] == [2, 4, 8, 16, 32, 60, 60]
        b.succeeded()
        assert b.rate_limited(None) == 2

    run(scenario)


def test_enforcement_fails_fast_rather_than_wait_out_a_long_back_off() -> None:
    async def scenario(time: FakeTime) -> None:
        b = budget(time, max_enforcement_wait=10)
        b.rate_limited(retry_after=30)
        with pytest.raises(
            BudgetExhausted, match=r"\(backing off after HTTP 429\); next request possible in 30.0 s"
        ):
            await b.acquire(ENFORCEMENT)
        poll = asyncio.ensure_future(b.acquire(POLL))  # a poll simply waits
        await time.advance(30)
        await poll
        assert b.used() == 1

    run(scenario)


def test_a_short_back_off_is_waited_out_by_enforcement() -> None:
    async def scenario(time: FakeTime) -> None:
        b = budget(time, max_enforcement_wait=10)
        b.rate_limited(retry_after=3)
        cancel = asyncio.ensure_future(b.acquire(ENFORCEMENT))
        await time.advance(3)
        await cancel
        assert time.now == 3

    run(scenario)


def test_a_cancelled_waiter_leaves_the_queue() -> None:
    async def scenario(time: FakeTime) -> None:
        b = budget(time)
        b.rate_limited(retry_after=5)
        first = asyncio.ensure_future(b.acquire(ENFORCEMENT))
        second = asyncio.ensure_future(b.acquire(POLL))
        await settle()
        first.cancel()
        await settle()
        await time.advance(5)
        await second
        assert b.used() == 1

    run(scenario)


@pytest.mark.parametrize(("read_limit", "window"), [(0, 60.0), (201, 60.0), (150, 0.0)])
def test_nonsense_limits_are_refused(read_limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        RequestBudget(read_limit=read_limit, window=window)
