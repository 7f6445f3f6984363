"""The engine: the one loop from event to enforcement, shared by the daemon, replay and benchmarks."""

from risk_manager.engine.engine import Engine, Source
from risk_manager.engine.merge import Plan, merge
from risk_manager.engine.records import Record, RecordSink
from risk_manager.engine.startup import restore, resync

__all__ = ["Engine", "Plan", "Record", "RecordSink", "Source", "merge", "restore", "resync"]
