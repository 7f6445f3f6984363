"""Fault: the gateway's REST API answers 500/503, 429 or not at all (SPEC §4.1).

The enforcement executor is the only layer that retries a mutating call (three attempts,
0.5 s and 1 s apart); a call whose answer was lost is checked before it is sent again.
A flatten that still fails is logged FAILED and the 5 s reconciler flattens again; the
daemon never crashes. Faults come from the simulator's ``/sim/fail``, ``/sim/delay`` and
``/sim/rate-limit``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from faultkit import DAILY_LOSS, MAX_TWO, LiveDaemon, Trader, live_daemon, trader_for, until, write_config
from risk_manager.broker.projectx.client import ProjectXClient
from risk_manager.gateway import running_gateway
from risk_manager.store import Store

Rows = list[tuple[str | None, str, str]]


def enforcement(data: Path) -> Rows:
    with Store.open(data / "risk_manager.db", read_only=True) as store:
        return [(r.rule_id, r.action, r.result) for r in store.enforcement_rows(limit=None)]


async def logged(data: Path, row: tuple[str | None, str, str], what: str, timeout: float = 10.0) -> None:
    async def check() -> bool:
        return row in enforcement(data)

    await until(check, what, timeout)


async def losing_position(live: LiveDaemon, trader: Trader, account: int = 1) -> str:
    """2 MNQ long and a resting buy limit: a flatten has an order to cancel and a position to close."""
    mnq = await trader.contract("MNQ")
    await trader.quote(mnq, 21000.0)
    await trader.buy(account, mnq, 2)
    await trader.sim("trade", {"accountId": account, "contractId": mnq, "type": 1, "side": 0, "size": 1,
                               "limitPrice": 20000.0})  # fmt: skip
    await trader.holds(account, mnq, 2, "the position opened")
    await live.quoted(mnq)
    return mnq


async def no_working_orders(trader: Trader, account: int) -> bool:
    return not [o for o in (await trader.account(account))["orders"] if o["status"] in (1, 6, 8)]


def run(tmp_path: Path, rules: dict[str, Any], scenario: Any) -> None:
    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(tmp_path / "config", gw.url, rules)
            async with (
                live_daemon(tmp_path / "config", tmp_path / "data") as live,
                trader_for(gw.url) as trader,
            ):
                await scenario(live, trader)

    asyncio.run(main())


def test_a_flatten_refused_with_500_and_503_is_retried_and_succeeds(tmp_path: Path) -> None:
    data = tmp_path / "data"

    async def scenario(live: LiveDaemon, trader: Trader) -> None:
        mnq = await losing_position(live, trader)
        await trader.sim("fail", {"endpoint": "Position/closeContract", "times": 2, "status": 500})
        await trader.sim("fail", {"endpoint": "Order/cancel", "times": 1, "status": 503})
        await trader.quote(mnq, 20940.0)  # -240.00 <= -100.00
        await trader.holds(1, mnq, 0, "RULE-003 flattened on the third round")
        await until(lambda: no_working_orders(trader, 1), "the resting order cancelled on the second attempt")
        await logged(data, ("RULE-003", "close_all", "OK"), "close_all logged OK")
        await logged(data, ("RULE-003", "cancel_all", "OK"), "cancel_all logged OK")
        assert (await trader.state())["faults"]["fail"] == {}  # every scripted failure was met

    run(tmp_path, DAILY_LOSS, scenario)


def test_a_flatten_failing_every_attempt_is_logged_failed_and_the_reconciler_flattens_later(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"

    async def scenario(live: LiveDaemon, trader: Trader) -> None:
        mnq = await losing_position(live, trader)
        await trader.sim("fail", {"endpoint": "Position/closeContract", "times": 3, "status": 500})
        await trader.quote(mnq, 20940.0)
        await logged(data, ("RULE-003", "close_all", "FAILED"), "close_all logged FAILED after three rounds")
        assert await trader.position(1, mnq) == 2  # every close was refused
        live.alive()
        await trader.holds(1, mnq, 0, "the 5 s reconciler flattened again", timeout=15)
        await logged(data, ("RULE-003", "close_all", "OK"), "the reconciler's close_all logged OK")
        rows = enforcement(data)
        assert rows.index(("RULE-003", "close_all", "FAILED")) < rows.index(("RULE-003", "close_all", "OK"))

    run(tmp_path, DAILY_LOSS, scenario)


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    """The daemon's real client, with a 1 s request timeout instead of 10 s (the test's patience)."""
    timeout = 1.0
    original = ProjectXClient.from_config.__func__  # type: ignore[attr-defined]

    def from_config(cls: type[ProjectXClient], gateway: Any, **options: Any) -> ProjectXClient:
        return original(cls, gateway, **{"timeout": timeout, **options})  # type: ignore[no-any-return]

    monkeypatch.setattr(ProjectXClient, "from_config", classmethod(from_config))
    return timeout


def test_a_close_that_times_out_is_checked_before_it_is_sent_again(
    tmp_path: Path, short_timeout: float
) -> None:
    """The first closeContract answers after the client gave up; it still takes effect (as a slow
    gateway's would). The executor finds the position gone or closes it again: flat either way,
    logged OK, and the daemon goes on."""
    data = tmp_path / "data"

    async def scenario(live: LiveDaemon, trader: Trader) -> None:
        mnq = await losing_position(live, trader)
        await trader.sim("delay", {"endpoint": "Position/closeContract", "seconds": short_timeout + 1.0})
        await trader.quote(mnq, 20940.0)
        await trader.holds(1, mnq, 0, "RULE-003 flattened despite the timeout")
        await logged(data, ("RULE-003", "close_all", "OK"), "close_all logged OK")
        await asyncio.sleep(short_timeout + 1.0)  # the slow call lands: nothing is closed twice
        assert await trader.position(1, mnq) == 0
        live.alive()

    run(tmp_path, DAILY_LOSS, scenario)


def test_a_reduce_that_times_out_is_not_sent_twice(tmp_path: Path, short_timeout: float) -> None:
    """RULE-001 trims 3 -> 2; the partial close times out but the gateway carries it out late."""

    async def scenario(live: LiveDaemon, trader: Trader) -> None:
        mnq = await trader.contract("MNQ")
        await trader.quote(mnq, 21000.0)
        await trader.sim(
            "delay", {"endpoint": "Position/partialCloseContract", "seconds": short_timeout + 0.5}
        )
        await trader.buy(1, mnq, 3)
        await asyncio.sleep(2 * short_timeout + 2.0)  # the timeout, the check, the resend and the late call
        assert await trader.position(1, mnq) == 2, "the timed-out partial close was sent again: trimmed twice"
        live.alive()

    run(tmp_path, MAX_TWO, scenario)


def test_a_rate_limited_gateway_delays_enforcement_but_never_stops_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"

    async def scenario(live: LiveDaemon, trader: Trader) -> None:
        mnq = await losing_position(live, trader)
        await trader.sim("rate-limit", {"limit": 3, "window": 2.0})  # 429 beyond 3 calls in 2 s
        await trader.quote(mnq, 20940.0)
        await trader.holds(1, mnq, 0, "RULE-003 flattened through the 429s", timeout=30)
        await until(lambda: no_working_orders(trader, 1), "the resting order cancelled", timeout=30)
        await trader.sim("rate-limit", {"limit": 200, "window": 60.0})
        live.alive()
        rows = enforcement(data)
        assert ("RULE-003", "LOCKOUT", "OK") in rows, rows
        assert any("429" in r.getMessage() for r in caplog.records), "the gateway never refused a call"

    run(tmp_path, DAILY_LOSS, scenario)
