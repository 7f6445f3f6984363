"""Replay: scenario files run through the engine with a simulated clock and broker."""

from risk_manager.replay.output import Printer, record_json, record_text
from risk_manager.replay.runner import ScenarioRun, replay
from risk_manager.replay.scenario import LoadedScenario, Scenario, load_scenario

__all__ = [
    "LoadedScenario",
    "Printer",
    "Scenario",
    "ScenarioRun",
    "load_scenario",
    "record_json",
    "record_text",
    "replay",
]
