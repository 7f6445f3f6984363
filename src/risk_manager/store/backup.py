"""Daily database backups in ``data/backups/`` (SPEC §5, ``general.backups.keep``)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from risk_manager.store.database import Store
from risk_manager.store.errors import store_error

_BACKUP_NAME = re.compile(r"risk_manager-\d{4}-\d{2}-\d{2}\.db")


def backup_database(store: Store, backups_dir: Path, now: datetime, keep: int = 7) -> Path | None:
    """Write ``risk_manager-YYYY-MM-DD.db`` (UTC date of ``now``) unless it exists; keep the newest ``keep``.

    Returns the new file, or None when today's backup was already there (so calling
    this every hour is cheap). The copy is written under a temporary name and renamed,
    so a crash mid-copy never leaves a file that passes for today's backup.
    Raises ValueError for a naive ``now`` or ``keep < 1``, StoreError when copying fails.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (UTC)")
    if keep < 1:
        raise ValueError(f"keep must be >= 1 (got {keep})")
    target = backups_dir / f"risk_manager-{now.astimezone(UTC).date().isoformat()}.db"
    if target.exists():
        return None
    partial = target.with_name(target.name + ".partial")
    try:
        backups_dir.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        store.backup_to(partial)
        os.replace(partial, target)
        _delete_oldest(backups_dir, keep)
    except OSError as exc:
        raise store_error(exc, f"backup to {target}", store.path) from exc
    return target


def _delete_oldest(backups_dir: Path, keep: int) -> None:
    """Remove backups beyond the newest ``keep``; the ISO date in the name sorts them."""
    backups = sorted(path for path in backups_dir.iterdir() if _BACKUP_NAME.fullmatch(path.name))
    for path in backups[:-keep]:
        path.unlink()


__all__ = ["backup_database"]
