"""Enforcement: executing decisions through the broker, with retries and in-flight tracking."""

from risk_manager.enforcement.executor import RETRY_DELAYS, Executor, Job, Outcome

__all__ = ["RETRY_DELAYS", "Executor", "Job", "Outcome"]
