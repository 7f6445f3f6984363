"""A scenario run driven from a test: real engine, real SQLite in tmp_path, simulated broker."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from risk_manager.broker import BrokerError
from risk_manager.config.risk import GeneralConfig, RulesConfig
from risk_manager.domain import OrderSide, OrderType
from risk_manager.engine import Record
from risk_manager.replay import Scenario, ScenarioRun
from risk_manager.replay.scenario import LoadedScenario, Snapshot

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 New York
MNQ = "CON.F.US.MNQ.H26"


def z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class Run:
    """Feed gateway payloads one by one; ``records`` collects what the engine did."""

    def __init__(
        self,
        tmp: Path,
        rules: dict[str, Any],
        *,
        accounts: tuple[int, ...] = (7,),
        general: dict[str, Any] | None = None,
        start: datetime = START,
    ) -> None:
        scenario = Scenario(start=start, accounts=[{"id": a, "name": f"PRAC-{a}"} for a in accounts])
        self.loaded = LoadedScenario(
            tmp / "generated.yaml",
            scenario,
            GeneralConfig.model_validate(general or {}),
            RulesConfig.model_validate(rules),
            None,
            Snapshot([], [], []),
        )
        self.tmp = tmp
        self.records: list[Record] = []
        self.run = ScenarioRun(self.loaded, tmp, self.records.append)
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.run._boot())

    @property
    def engine(self):
        assert self.run.engine is not None
        return self.run.engine

    def at(self, seconds: float) -> datetime:
        return START + timedelta(seconds=seconds)

    def send(self, seconds: float, kind: str, data: dict[str, Any], contract_id: str | None = None) -> None:
        async def step() -> None:
            await self.run.advance_to(self.at(seconds))
            self.run.broker.observe(kind, data, contract_id)
            self.run._deliver(kind, data, contract_id)
            await self.run.settle()

        self.loop.run_until_complete(step())

    def trade(self, seconds: float, account: int, side: int, size: int, contract_id: str = MNQ) -> None:
        """The trader sends a market order; the simulated broker fills it and reports it."""

        async def step() -> None:
            await self.run.advance_to(self.at(seconds))
            with contextlib.suppress(BrokerError):  # e.g. no price yet: rejected, as the gateway would
                await self.run.broker.place_order(
                    account, contract_id, OrderType.MARKET, OrderSide(side), size
                )
            await self.run.settle()

        self.loop.run_until_complete(step())

    def tick(self, seconds: float) -> None:
        async def step() -> None:
            self.engine.tick(self.at(seconds))
            await self.run.settle()

        self.loop.run_until_complete(step())

    def quote(self, seconds: float, price: float, contract_id: str = MNQ) -> None:
        self.send(seconds, "GatewayQuote", {"lastPrice": price}, contract_id)

    def fill(
        self,
        seconds: float,
        fill_id: int,
        side: int,
        size: int,
        price: float,
        *,
        pnl: float | None = None,
        position: int,
        avg: float,
        account: int = 7,
        contract_id: str = MNQ,
    ) -> None:
        ts = z(self.at(seconds))
        self.send(
            seconds,
            "GatewayUserTrade",
            {
                "id": fill_id,
                "accountId": account,
                "contractId": contract_id,
                "creationTimestamp": ts,
                "price": price,
                "profitAndLoss": pnl,
                "fees": 0,
                "side": side,
                "size": size,
                "voided": False,
                "orderId": fill_id,
            },
        )
        self.send(
            seconds,
            "GatewayUserPosition",
            {
                "id": 1,
                "accountId": account,
                "contractId": contract_id,
                "creationTimestamp": ts,
                "type": 0 if position == 0 else (1 if position > 0 else 2),
                "size": abs(position),
                "averagePrice": avg,
            },
        )

    def advance(self, until: datetime) -> None:
        self.loop.run_until_complete(self.run.advance_to(until))

    def actions(self) -> list[tuple[str, str | None]]:
        return [(r.action, r.rule) for r in self.records]

    def close(self) -> None:
        self.run.close()
        self.loop.close()
