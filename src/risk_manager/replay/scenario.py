"""The scenario file (ARCHITECTURE.md): a public contract, extended never renamed.

A scenario is both a test case and what ``journal export`` writes: the accounts and
rules in force, what REST shows at start-up, and the gateway's events in time order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from risk_manager.broker.projectx.wire import WireError, parse_orders, parse_positions, parse_trades
from risk_manager.config.holidays import HolidaysConfig
from risk_manager.config.problems import ConfigError, ConfigProblem
from risk_manager.config.risk import GeneralConfig, RulesConfig
from risk_manager.config.yamlsource import YamlDoc, load_yaml, parse_model
from risk_manager.domain import Fill, Order, Position

EventType = Literal[
    "GatewayUserAccount",
    "GatewayUserOrder",
    "GatewayUserPosition",
    "GatewayUserTrade",
    "GatewayQuote",
    "Restart",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioAccount(_Model):
    id: int = Field(gt=0)
    name: str
    balance: Decimal = Decimal(50000)
    canTrade: bool = True


class ScenarioSim(_Model):
    #: fee per contract filled, by symbol
    fees: dict[str, Decimal] = {}
    #: False when the events already hold the broker's responses (an exported live journal)
    execute: bool = True


class ScenarioSnapshot(_Model):
    positions: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    trades: list[dict[str, Any]] = []


class ScenarioEvent(_Model):
    at: datetime
    type: EventType
    data: Any = None
    contractId: str | None = None
    #: the gateway's state changed but the hub event never arrived (a connection gap):
    #: only a poll or a resync can see it
    missed: bool = False

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a time zone, e.g. 2026-03-10T14:00:01Z")
        return value

    @model_validator(mode="after")
    def _shape(self) -> ScenarioEvent:
        if self.type == "GatewayQuote" and not self.contractId:
            raise ValueError("a GatewayQuote needs contractId")
        if self.type != "Restart" and not isinstance(self.data, dict):
            raise ValueError(f"{self.type} needs data: the bare gateway payload")
        return self


class Scenario(_Model):
    start: datetime
    end: datetime | None = None
    accounts: list[ScenarioAccount] = Field(min_length=1)
    general: dict[str, Any] = {}
    rules: dict[str, Any] = {}
    holidays: dict[str, Any] | None = None
    sim: ScenarioSim = ScenarioSim()
    snapshot: ScenarioSnapshot = ScenarioSnapshot()
    events: list[ScenarioEvent] = []


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What REST returns at start-up, as domain objects."""

    positions: list[Position]
    orders: list[Order]
    trades: list[Fill]


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    """A validated scenario with its config sections parsed by the config models."""

    path: Path
    scenario: Scenario
    general: GeneralConfig
    rules: RulesConfig
    holidays: HolidaysConfig | None
    snapshot: Snapshot


def load_scenario(path: Path) -> LoadedScenario:
    """Read and validate a scenario; raises ConfigError with ``<file>:<line>:`` problems."""
    doc = load_yaml(path)
    scenario = parse_model(Scenario, doc.data, doc, str(path))
    _check_order(scenario, doc, str(path))
    general = parse_model(GeneralConfig, scenario.general, doc, str(path), ("general",))
    rules = parse_model(RulesConfig, scenario.rules, doc, str(path), ("rules",))
    holidays = None
    if scenario.holidays is not None:
        holidays = parse_model(HolidaysConfig, scenario.holidays, doc, str(path), ("holidays",))
    return LoadedScenario(path, scenario, general, rules, holidays, _snapshot(scenario, doc, str(path)))


def _check_order(scenario: Scenario, doc: YamlDoc, path: str) -> None:
    """Events in time order from ``start``, and ``end`` after the last; each problem at its own line."""
    problems: list[ConfigProblem] = []
    last = scenario.start
    for index, event in enumerate(scenario.events):
        if event.at < last:
            line = doc.line_of(("events", index, "at")) or doc.line_of(("events", index))
            message = f"{event.at.isoformat()} is before the previous time {last.isoformat()}"
            problems.append(ConfigProblem(path, line, f"events[{index}].at", message))
        last = max(last, event.at)
    if scenario.end is not None and scenario.end < last:
        problems.append(ConfigProblem(path, doc.line_of(("end",)), "end", "is before the last event"))
    if problems:
        raise ConfigError(problems)


def _snapshot(scenario: Scenario, doc: YamlDoc, path: str) -> Snapshot:
    """Parse the REST snapshot with the gateway's own models; a bad row is a scenario error."""
    snap = scenario.snapshot
    ok = {"success": True, "errorCode": 0}
    try:
        return Snapshot(
            parse_positions({**ok, "positions": snap.positions}),
            parse_orders({**ok, "orders": snap.orders}),
            parse_trades({**ok, "trades": snap.trades}),
        )
    except WireError as exc:
        raise ConfigError([ConfigProblem(path, doc.line_of(("snapshot",)), "snapshot", str(exc))]) from exc


__all__ = ["ConfigError", "LoadedScenario", "Scenario", "ScenarioEvent", "load_scenario"]
