"""SQLite persistence (SPEC §5): schema and migrations, journal, lockouts, P&L, fills,
enforcement log, timers, meta, backups and the one-daemon-per-data-dir lock.

Only the engine, enforcement and the CLI/TUI shell use it; rules never do.
"""

from risk_manager.store.backup import backup_database
from risk_manager.store.daemon_lock import DaemonLock
from risk_manager.store.database import Store
from risk_manager.store.errors import AlreadyRunning, StoreError, StoreFull, StoreLocked
from risk_manager.store.rows import (
    ClearedBy,
    DailyPnlRow,
    EnforcementResult,
    EnforcementRow,
    FillRow,
    JournalRow,
    LockRow,
    TimerRow,
)
from risk_manager.store.schema import SCHEMA_VERSION
from risk_manager.store.timefmt import from_iso, to_iso

#: The database file inside a data dir (SPEC §5).
DATABASE_FILENAME = "risk_manager.db"

__all__ = [
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
]
