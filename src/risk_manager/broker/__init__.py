"""Brokers: the protocol the engine needs, the live ProjectX client and an in-process simulator."""

from risk_manager.broker.base import Broker, BrokerError, BrokerRejected, BrokerUnavailable, OutcomeUnknown

__all__ = ["Broker", "BrokerError", "BrokerRejected", "BrokerUnavailable", "OutcomeUnknown"]
