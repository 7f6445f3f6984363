"""The ledger: folds events into per-account state for the current trading day."""

from risk_manager.ledger.market import Market, MarkPrice
from risk_manager.ledger.state import AccountState, FillEffect

__all__ = ["AccountState", "FillEffect", "MarkPrice", "Market"]
