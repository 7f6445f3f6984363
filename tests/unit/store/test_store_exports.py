"""The public surface of ``risk_manager.store`` is its ``__all__``; this fails if it drifts."""

from __future__ import annotations

import risk_manager.store as store_package

EXPECTED = {
    "DATABASE_FILENAME",
    "SCHEMA_VERSION",
    "AlreadyRunning",
    "ClearedBy",
    "DaemonLock",
    "DailyPnlRow",
    "EnforcementResult",
    "EnforcementRow",
    "FillRow",
    "JournalRow",
    "LockRow",
    "Store",
    "StoreError",
    "StoreFull",
    "StoreLocked",
    "TimerRow",
    "backup_database",
    "from_iso",
    "to_iso",
}


def test_all_lists_exactly_the_public_names() -> None:
    assert set(store_package.__all__) == EXPECTED
    assert all(hasattr(store_package, name) for name in store_package.__all__)


def test_error_tree() -> None:
    assert issubclass(store_package.StoreLocked, store_package.StoreError)
    assert issubclass(store_package.StoreFull, store_package.StoreError)
    assert not issubclass(store_package.AlreadyRunning, store_package.StoreError)
