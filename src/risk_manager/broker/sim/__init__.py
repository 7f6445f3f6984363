"""An in-process simulated broker for replay and unit tests (ARCHITECTURE.md, "Scenario and replay")."""

from risk_manager.broker.sim.book import AccountBook, FillOutcome, apply_fill
from risk_manager.broker.sim.broker import Emit, SimBroker
from risk_manager.broker.sim.faults import ENDPOINTS

__all__ = ["ENDPOINTS", "AccountBook", "Emit", "FillOutcome", "SimBroker", "apply_fill"]
