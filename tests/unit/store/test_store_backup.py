"""Daily backups: one per UTC date, the newest ``keep`` kept, each a readable database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from risk_manager.store import JournalRow, LockRow, Store, backup_database

DAY1 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_backup_writes_a_readable_copy_named_by_utc_date(
    store: Store, tmp_path: Path, make_lock: Callable[..., LockRow]
) -> None:
    store.insert_lockout(make_lock(id=3))
    # 21:30 in New York on 2026-02-28 is already 2026-03-01 in UTC.
    evening_new_york = datetime(2026, 2, 28, 21, 30, tzinfo=timezone(timedelta(hours=-5)))
    created = backup_database(store, tmp_path / "backups", evening_new_york)
    assert created == tmp_path / "backups" / "risk_manager-2026-03-01.db"
    with Store.open(created, read_only=True) as copy:
        assert [lock.id for lock in copy.active_lockouts()] == [3]
    assert sorted(path.name for path in created.parent.iterdir()) == ["risk_manager-2026-03-01.db"]


def test_second_backup_on_the_same_date_does_nothing(store: Store, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    first = backup_database(store, backups, DAY1)
    assert first is not None
    before = first.read_bytes()
    store.set_meta("version", "changed")
    assert backup_database(store, backups, DAY1 + timedelta(hours=11)) is None
    assert first.read_bytes() == before


def test_backups_keep_the_newest_seven(store: Store, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "notes.txt").write_text("not a backup, never deleted")
    for day in range(10):
        backup_database(store, backups, DAY1 + timedelta(days=day))
    names = sorted(path.name for path in backups.iterdir())
    assert names == ["notes.txt", *(f"risk_manager-2026-03-{day:02d}.db" for day in range(4, 11))]


def test_backup_keep_is_configurable(store: Store, tmp_path: Path) -> None:
    for day in range(4):
        backup_database(store, tmp_path, DAY1 + timedelta(days=day), keep=2)
    assert sorted(p.name for p in tmp_path.glob("risk_manager-*.db")) == [
        "risk_manager-2026-03-03.db",
        "risk_manager-2026-03-04.db",
    ]


def test_backup_includes_buffered_journal_rows(
    store: Store, tmp_path: Path, make_event: Callable[..., JournalRow]
) -> None:
    store.append_journal(make_event(type="buffered"))
    created = backup_database(store, tmp_path, DAY1)
    assert created is not None
    with Store.open(created, read_only=True) as copy:
        assert [row.type for row in copy.journal()] == ["buffered"]


@pytest.mark.parametrize(
    ("now", "keep", "message"),
    [
        pytest.param(datetime(2026, 3, 1, 12, 0), 7, "aware", id="naive-now"),
        pytest.param(DAY1, 0, "keep must be >= 1", id="keep-zero"),
    ],
)
def test_backup_rejects_bad_arguments(
    store: Store, tmp_path: Path, now: datetime, keep: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        backup_database(store, tmp_path, now, keep=keep)
