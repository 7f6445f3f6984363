"""The real engine on a real SQLite file with the simulated broker, driven event by event.

For the fault and fuzz tests: events go in as gateway payloads through the same parser
as the live hubs' (a malformed one is logged and skipped, as the replay does), the
broker executes the engine's actions and reports back, and the test may set the
injected clock anywhere, backwards included.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from risk_manager.config.risk import GeneralConfig, RulesConfig
from risk_manager.domain import Event
from risk_manager.engine import Engine, Record, Source
from risk_manager.replay import Scenario, ScenarioRun
from risk_manager.replay.scenario import LoadedScenario, Snapshot
from risk_manager.store import LockRow, Store

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # Tuesday 10:00 New York; the reset is 21:00 UTC
MNQ = "CON.F.US.MNQ.H26"
ACCOUNT = 7


def z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class Desk:
    """The engine, its store and the simulated broker of one test, on one event loop."""

    def __init__(self, tmp: Path, rules: dict[str, Any], *, start: datetime = START) -> None:
        scenario = Scenario(start=start, accounts=[{"id": ACCOUNT, "name": f"PRAC-{ACCOUNT}"}])
        loaded = LoadedScenario(tmp / "generated.yaml", scenario, GeneralConfig(),
                                RulesConfig.model_validate(rules), None, Snapshot([], [], []))  # fmt: skip
        self.tmp = tmp
        self.records: list[Record] = []
        self.run = ScenarioRun(loaded, tmp, self.records.append)
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.run._boot())
        self.fills = 0

    @property
    def engine(self) -> Engine:
        assert self.run.engine is not None
        return self.run.engine

    def jump(self, to: datetime) -> None:
        """Set the clock to ``to`` (back or forward) and let the engine's tick see it."""
        self.run.clock.set(to)

        async def step() -> None:
            self.engine.tick(to)
            await self.run.settle()

        self.loop.run_until_complete(step())

    def send(self, kind: str, data: Any, contract_id: str | None = None) -> None:
        """A gateway payload, parsed as the live client parses it; the broker sees it too."""

        async def step() -> None:
            if isinstance(data, dict):
                self.run.broker.observe(kind, data, contract_id)
            self.run._deliver(kind, data, contract_id)
            await self.run.settle()

        self.loop.run_until_complete(step())

    def handle(self, kind: str, raw: object, event: Event) -> None:
        """An already parsed event (a hub's ``on_event``), then whatever the broker sends back."""

        async def step() -> None:
            self.engine.handle(event, Source(kind, raw))
            await self.run.settle()

        self.loop.run_until_complete(step())

    def trade(self, side: int, price: float, *, pnl: float | None, position: int, at: datetime) -> None:
        """One fill of 1 MNQ (stamped by the broker at ``at``) and the position it leaves (long)."""
        self.fills += 1
        self.send("GatewayQuote", {"lastPrice": price}, MNQ)
        self.send("GatewayUserTrade", {"id": self.fills, "accountId": ACCOUNT, "contractId": MNQ,
                                       "creationTimestamp": z(at), "price": price, "profitAndLoss": pnl,
                                       "fees": 0, "side": side, "size": 1, "voided": False,
                                       "orderId": self.fills})  # fmt: skip
        held = {"type": 1 if position else 0, "size": position, "averagePrice": price if position else 0}
        self.send("GatewayUserPosition", {"id": 1, "accountId": ACCOUNT, "contractId": MNQ,
                                          "creationTimestamp": z(at), **held})  # fmt: skip

    def lose(self, amount: float, at: datetime) -> None:
        """A round turn losing ``amount`` on 1 MNQ."""
        self.trade(0, 21000.0, pnl=None, position=1, at=at)
        self.trade(1, 21000.0 - amount * 2, pnl=-amount, position=0, at=at)

    def actions(self) -> list[tuple[str, str | None]]:
        return [(r.action, r.rule) for r in self.records]

    def locks(self) -> list[LockRow]:
        self.engine.flush(self.run.clock.now())
        with Store.open(self.tmp / "risk_manager.db", read_only=True) as store:
            return store.lockouts()

    def close(self) -> None:
        self.run.close()
        self.loop.close()


__all__ = ["ACCOUNT", "MNQ", "START", "Desk", "z"]
