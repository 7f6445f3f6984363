"""The enforcement executor: turns actions into broker calls (SPEC §4.1).

It is the only retry layer for mutating calls: at most three attempts per call
(retries after 0.5 s and 1 s). A call whose outcome is unknown (sent, no answer) is
checked with a search before it is sent again, never blindly repeated. One breach
yields one close: while a cut on (account, contract) or a flatten of the account is in
flight, a new one is skipped. Every action ends as one enforcement-log row with its
latency, and one failed call never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from risk_manager.broker.base import Broker, BrokerError, BrokerRejected, OutcomeUnknown
from risk_manager.domain import Action, ActionKind, OrderType
from risk_manager.ledger import AccountState
from risk_manager.store.rows import EnforcementResult

log = logging.getLogger("risk_manager.enforcement")

Sleep = Callable[[float], Awaitable[None]]
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0)
#: errorCodes meaning "already done": cancel 2 OrderNotFound, close 2 PositionNotFound.
_ALREADY_DONE = {"cancel_order": {2}, "close_position": {2}, "partial_close": {2}}
#: seconds between looks for a timed-out partial close landing late, before it is sent again
LATE_CUT_WAITS = (0.0, 0.5, 1.0, 1.5)


@dataclass(frozen=True, slots=True)
class Job:
    """One action of one decision, as handed to the executor."""

    account_id: int
    rule: str | None
    reason: str
    action: Action
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a job ended: ``OK``, ``FAILED`` or ``SKIPPED`` (already in flight)."""

    job: Job
    result: EnforcementResult
    latency_ms: float
    error: str | None = None
    quantity: int | None = None


@dataclass(slots=True)
class _Failures:
    errors: list[str] = field(default_factory=list)

    def add(self, error: BaseException | str) -> None:
        self.errors.append(str(error))


class Executor:
    """Runs jobs as asyncio tasks; ``drain()`` waits for all of them (replay, shutdown)."""

    def __init__(
        self,
        broker: Broker,
        state_of: Callable[[int], AccountState | None],
        report: Callable[[Outcome], None],
        *,
        sleep: Sleep = asyncio.sleep,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._broker = broker
        self._state_of = state_of
        self._report = report
        self._sleep = sleep
        self._delays = tuple(retry_delays)
        self._in_flight: set[tuple[int, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- submission ------------------------------------------------------------------------------

    def in_flight(self, account_id: int, contract_id: str | None = None) -> bool:
        """Whether a flatten of the account, or a cut of that contract, is still running."""
        if (account_id, "*") in self._in_flight:
            return True
        return contract_id is not None and (account_id, contract_id) in self._in_flight

    def submit(self, jobs: Sequence[Job]) -> list[Job]:
        """Start one decision's jobs concurrently; return those skipped as already in flight."""
        skipped: list[Job] = []
        for job in jobs:
            key = _flight_key(job)
            if key is not None and self._already_running(job, key):
                skipped.append(job)
                self._report(Outcome(job, "SKIPPED", 0.0, "already in flight"))
                continue
            if key is not None:
                self._in_flight.add(key)
            self._spawn(self._run(job, key))
        return skipped

    def _already_running(self, job: Job, key: tuple[int, str]) -> bool:
        """The same work is in flight: the same key, or (for a cut) a flatten of the account.

        A cancel-all in flight does not cover a newer cancel: it may have listed the
        account's orders before that one appeared.
        """
        if key in self._in_flight:
            return True
        if job.action.kind in (ActionKind.CANCEL_ALL, ActionKind.CANCEL_ORDER):
            return False
        return self.in_flight(job.account_id, _contract_of(key))

    @property
    def broker(self) -> Broker:
        return self._broker

    def spawn(self, coro: Awaitable[None]) -> None:
        """Run other broker work (the reconciler's checks) as one of the executor's tasks."""
        self._spawn(coro)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every job (and the jobs they started) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    # -- running ---------------------------------------------------------------------------------

    async def _run(self, job: Job, key: tuple[int, str] | None) -> None:
        started = time.perf_counter()
        failures = _Failures()
        quantity: int | None = job.action.size
        try:
            quantity = await self._execute(job, failures)
        except Exception as exc:  # a bug must not stop enforcement: log it with account and rule
            log.exception(
                "enforcement crashed: account %s %s %s", job.account_id, job.rule, job.action.kind.value
            )
            failures.add(exc)
        finally:
            if key is not None:
                self._in_flight.discard(key)
        latency = (time.perf_counter() - started) * 1000
        result: EnforcementResult = "FAILED" if failures.errors else "OK"
        error = "; ".join(failures.errors) or None
        if error:
            log.error(
                "ENFORCEMENT FAILED account %s %s %s: %s",
                job.account_id,
                job.rule,
                job.action.kind.value,
                error,
            )
        self._report(Outcome(job, result, latency, error, quantity))

    async def _execute(self, job: Job, failures: _Failures) -> int | None:
        action, account = job.action, job.account_id
        kind = action.kind
        if kind is ActionKind.CANCEL_ALL:
            return await self._cancel_all(account, action.contract_id, failures)
        if kind is ActionKind.CANCEL_ORDER:
            await self._cancel(account, _req(action.order_id), failures)
        elif kind is ActionKind.CLOSE_ALL:
            return await self._close_all(account, failures)
        elif kind is ActionKind.CLOSE:
            await self._close(account, _req(action.contract_id), failures)
        elif kind is ActionKind.REDUCE:
            await self._reduce(account, _req(action.contract_id), _req(action.size), failures)
        elif kind in (ActionKind.PLACE_STOP, ActionKind.PLACE_TARGET):
            await self._place(job, failures)
        else:
            await self._modify(job, failures)
        return action.size

    async def _cancel_all(self, account: int, contract_id: str | None, failures: _Failures) -> int:
        ids = await self._working_order_ids(account, contract_id, failures)
        await asyncio.gather(*(self._cancel(account, order_id, failures) for order_id in ids))
        return len(ids)

    async def _working_order_ids(
        self, account: int, contract_id: str | None, failures: _Failures
    ) -> list[int]:
        """Orders known to the ledger (Suspended bracket children included) plus what the broker lists."""
        state = self._state_of(account)
        ids = {o.id for o in state.working_orders(contract_id)} if state else set()
        try:
            listed = await self._broker.search_open_orders(account)
        except BrokerError as exc:
            failures.add(f"search_open_orders: {exc}")
            listed = []
        ids.update(o.id for o in listed if contract_id is None or o.contract_id == contract_id)
        return sorted(ids)

    async def _close_all(self, account: int, failures: _Failures) -> int:
        """Close every position, then confirm from the broker that the account is flat."""
        closed = 0
        for attempt in range(len(self._delays) + 1):
            contracts = await self._open_contracts(account, failures)
            if not contracts:
                return closed
            if attempt:
                await self._sleep(self._delays[attempt - 1])
            round_failures = _Failures()
            await asyncio.gather(
                *(self._close(account, cid, round_failures, attempts=1) for cid in contracts)
            )
            closed += len(contracts)
        remaining = await self._open_contracts(account, failures)
        if remaining:
            failures.add(f"still exposed after {len(self._delays) + 1} rounds: {', '.join(remaining)}")
        return closed

    async def _open_contracts(self, account: int, failures: _Failures) -> list[str]:
        state = self._state_of(account)
        contracts = set(state.positions) if state else set()
        try:
            contracts = {p.contract_id for p in await self._broker.search_open_positions(account)}
        except BrokerError as exc:
            failures.add(f"search_open_positions: {exc}")
        return sorted(contracts)

    async def _cancel(self, account: int, order_id: int, failures: _Failures) -> None:
        async def gone() -> bool:
            return all(o.id != order_id for o in await self._broker.search_open_orders(account))

        await self._attempt(
            "cancel_order", lambda: self._broker.cancel_order(account, order_id), gone, failures, order_id
        )

    async def _close(self, account: int, contract_id: str, failures: _Failures, attempts: int = 3) -> None:

        async def gone() -> bool:
            positions = await self._broker.search_open_positions(account)
            return all(p.contract_id != contract_id for p in positions)

        call = lambda: self._broker.close_position(account, contract_id)  # noqa: E731
        await self._attempt("close_position", call, gone, failures, contract_id, attempts)

    async def _reduce(self, account: int, contract_id: str, size: int, failures: _Failures) -> None:
        state = self._state_of(account)
        before = abs(state.position_size(contract_id)) if state else 0

        async def cut() -> bool:
            positions = await self._broker.search_open_positions(account)
            now = next((abs(p.size) for p in positions if p.contract_id == contract_id), 0)
            return now <= before - size

        async def done() -> bool:
            """A partial close carries no idempotency key: one that timed out may still land, and
            sending it again would cut twice. So look a few times over a few seconds first."""
            for wait in LATE_CUT_WAITS:
                await self._sleep(wait)
                if await cut():
                    return True
            return False

        call = lambda: self._broker.partial_close(account, contract_id, size)  # noqa: E731
        await self._attempt("partial_close", call, done, failures, contract_id)

    async def _place(self, job: Job, failures: _Failures) -> None:
        action = job.action
        is_stop = action.kind is ActionKind.PLACE_STOP
        order_type = OrderType.STOP if is_stop else OrderType.LIMIT
        tag = f"RM-{job.account_id}-{time.time_ns()}"
        state = self._state_of(job.account_id)
        if state is not None:
            state.daemon_tags.add(tag)  # its order event may arrive before place_order returns

        async def call() -> None:
            order_id = await self._broker.place_order(
                job.account_id,
                _req(action.contract_id),
                order_type,
                _req(action.side),
                _req(action.size),
                custom_tag=tag,
                stop_price=action.price if is_stop else None,
                limit_price=None if is_stop else action.price,
            )
            state = self._state_of(job.account_id)
            if state is not None:
                state.daemon_orders.add(order_id)

        async def placed() -> bool:
            return any(o.custom_tag == tag for o in await self._broker.search_open_orders(job.account_id))

        await self._attempt("place_order", call, placed, failures, action.contract_id)

    async def _modify(self, job: Job, failures: _Failures) -> None:
        action = job.action
        is_stop = action.kind is ActionKind.MODIFY_STOP
        price_key = "stop_price" if is_stop else "limit_price"

        async def call() -> None:
            await self._broker.modify_order(
                job.account_id,
                _req(action.order_id),
                size=action.size,
                stop_price=action.price if is_stop else None,
                limit_price=None if is_stop else action.price,
            )

        async def modified() -> bool:
            orders = await self._broker.search_open_orders(job.account_id)
            order = next((o for o in orders if o.id == action.order_id), None)
            return order is None or (
                getattr(order, price_key) == action.price and action.size in (None, order.size)
            )

        await self._attempt("modify_order", call, modified, failures, action.order_id)

    async def _attempt(
        self,
        name: str,
        call: Callable[[], Awaitable[Any]],
        check: Callable[[], Awaitable[bool]],
        failures: _Failures,
        target: object,
        attempts: int = 3,
    ) -> None:
        """Up to ``attempts`` tries; after an unknown outcome, ``check`` decides if it happened."""
        for attempt in range(attempts):
            if attempt:
                await self._sleep(self._delays[min(attempt, len(self._delays)) - 1])
            try:
                await call()
                return
            except OutcomeUnknown as exc:
                log.warning("%s %s: outcome unknown (%s); checking before resending", name, target, exc)
                if await self._checked(check):
                    return
                error: BrokerError = exc
            except BrokerRejected as exc:
                if exc.code in _ALREADY_DONE.get(name, set()):
                    return
                failures.add(f"{name} {target}: {exc}")
                return
            except BrokerError as exc:
                log.warning("%s %s failed (attempt %d): %s", name, target, attempt + 1, exc)
                error = exc
        failures.add(f"{name} {target}: {error}")

    async def _checked(self, check: Callable[[], Awaitable[bool]]) -> bool:
        try:
            return await check()
        except BrokerError as exc:
            log.warning("check after unknown outcome failed: %s", exc)
            return False


def _flight_key(job: Job) -> tuple[int, str] | None:
    """Cuts are tracked per (account, contract), a flatten per account ("*"), cancels per order."""
    kind = job.action.kind
    if kind is ActionKind.CLOSE_ALL:
        return (job.account_id, "*")
    if kind in (ActionKind.CLOSE, ActionKind.REDUCE):
        return (job.account_id, job.action.contract_id or "")
    if kind is ActionKind.CANCEL_ORDER and job.action.order_id is not None:
        return (job.account_id, f"order:{job.action.order_id}")
    if kind is ActionKind.CANCEL_ALL:
        return (job.account_id, f"cancel:{job.action.contract_id or '*'}")
    return None


def _contract_of(key: tuple[int, str]) -> str | None:
    """The contract a flight key covers (None for a flatten or an order)."""
    return None if key[1] == "*" or ":" in key[1] else key[1]


def _req(value: Any) -> Any:
    if value is None:
        raise ValueError("action is missing a required field")
    return value


__all__ = ["RETRY_DELAYS", "Executor", "Job", "Outcome"]
