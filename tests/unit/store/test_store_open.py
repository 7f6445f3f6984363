"""Opening the store: read-only beside a writer, and sqlite3 errors as StoreError."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from risk_manager.store import (
    JournalRow,
    LockRow,
    Store,
    StoreError,
    StoreFull,
    StoreLocked,
)

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def test_read_only_sees_what_a_live_writer_commits(db_path: Path, make_lock: Callable[..., LockRow]) -> None:
    with Store.open(db_path) as writer, Store.open(db_path, read_only=True) as reader:
        writer.insert_lockout(make_lock(id=1))
        assert [lock.id for lock in reader.active_lockouts()] == [1]
        writer.set_meta("heartbeat_at", "2026-03-10T14:00:01.000000Z")
        assert reader.get_meta("heartbeat_at") == "2026-03-10T14:00:01.000000Z"
        assert reader.read_only


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda store, lock, event: store.insert_lockout(lock), id="insert_lockout"),
        pytest.param(lambda store, lock, event: store.set_meta("daemon_pid", "1"), id="set_meta"),
        pytest.param(lambda store, lock, event: store.append_journal(event), id="append_journal"),
        pytest.param(lambda store, lock, event: store.prune(T0), id="prune"),
    ],
)
def test_read_only_store_refuses_writes(
    db_path: Path,
    make_lock: Callable[..., LockRow],
    make_event: Callable[..., JournalRow],
    write: Callable[[Store, LockRow, JournalRow], None],
) -> None:
    Store.open(db_path).close()
    with Store.open(db_path, read_only=True) as reader:
        with pytest.raises(StoreError, match="opened read-only"):
            write(reader, make_lock(), make_event())
        assert reader.active_lockouts() == []


def test_read_only_connection_is_refused_by_sqlite_itself(db_path: Path) -> None:
    Store.open(db_path).close()
    with (
        Store.open(db_path, read_only=True) as reader,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        reader._conn.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")


def test_read_only_open_of_a_missing_file_fails_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "risk_manager.db"
    with pytest.raises(StoreError, match="no such database file") as caught:
        Store.open(missing, read_only=True)
    assert caught.value.operation == "open"
    assert caught.value.path == missing
    assert not missing.parent.exists()


def test_read_only_open_of_an_unmigrated_file_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(StoreError, match="schema_version 0 is older"):
        Store.open(empty, read_only=True)


def test_open_a_directory_raises_store_error_from_the_sqlite_error(tmp_path: Path) -> None:
    directory = tmp_path / "is_a_dir.db"
    directory.mkdir()
    with pytest.raises(StoreError, match=re.escape(f"open failed on {directory}: ")) as caught:
        Store.open(directory)
    assert isinstance(caught.value.__cause__, sqlite3.Error)


def test_open_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a database"):
        Store.open(junk)


def test_write_while_another_connection_holds_the_lock_raises_store_locked(db_path: Path) -> None:
    with Store.open(db_path, busy_timeout_ms=0) as store:
        blocker = sqlite3.connect(db_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreLocked, match=r"set_meta failed on .*database is locked") as caught:
                store.set_meta("connection", "CONNECTED")
            assert caught.value.operation == "set_meta"
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        store.set_meta("connection", "CONNECTED")  # recovered once the lock is gone
        assert store.get_meta("connection") == "CONNECTED"


def test_disk_full_raises_store_full_and_the_store_recovers(db_path: Path) -> None:
    with Store.open(db_path) as store:
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL without filling a disk
        with pytest.raises(StoreFull, match=r"set_meta failed on .*full"):
            store.set_meta("snapshot", "x" * 100_000)
        store._conn.execute("PRAGMA max_page_count = 1073741823")
        store.set_meta("snapshot", "x" * 100_000)
        assert store.get_meta("snapshot") == "x" * 100_000


def test_closed_store_refuses_writes_and_reads(db_path: Path) -> None:
    store = Store.open(db_path)
    store.close()
    store.close()  # twice is harmless
    with pytest.raises(StoreError, match="the store is closed"):
        store.set_meta("x", "y")
    with pytest.raises(StoreError, match="get_meta failed"):
        store.get_meta("x")


CRASH_AFTER_A_LOCK = """
import os, sys
from datetime import UTC, datetime
from pathlib import Path
from risk_manager.store import LockRow, Store
store = Store.open(Path(sys.argv[1]))
at = datetime(2026, 3, 10, 14, 45, tzinfo=UTC)
store.insert_lockout(LockRow(1, 7, "RULE-003", "account", "hard", "daily P&L -550.00 <= -500.00", at, None))
os._exit(0)  # killed: no checkpoint, the lock is only in the WAL
"""


def test_a_reader_that_may_not_replay_a_crashed_daemons_wal_still_sees_its_last_lock(tmp_path: Path) -> None:
    """The trader's account cannot write next to the service's database, so SQLite cannot replay
    the WAL a crash left; the reader replays a private copy instead (and misses nothing)."""
    import subprocess
    import sys

    from risk_manager.store import database

    db = tmp_path / "risk_manager.db"
    subprocess.run([sys.executable, "-c", CRASH_AFTER_A_LOCK, str(db)], check=True, timeout=60)
    assert db.with_name(db.name + "-wal").stat().st_size > 0
    conn = database._private_copy(db, 1000)
    rows = conn.execute("SELECT rule_id, reason FROM lockouts WHERE cleared_at IS NULL").fetchall()
    conn.close()
    assert rows == [("RULE-003", "daily P&L -550.00 <= -500.00")]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "risk_manager.db",
        "risk_manager.db-shm",
        "risk_manager.db-wal",
    ]


def test_a_reader_that_may_not_write_reads_a_cleanly_closed_database_as_immutable(tmp_path: Path) -> None:
    """No WAL left (the daemon stopped cleanly): the file is complete; reading it creates nothing."""
    from datetime import UTC, datetime

    from risk_manager.store import LockRow, Store, database

    db = tmp_path / "risk_manager.db"
    at = datetime(2026, 3, 10, 14, 45, tzinfo=UTC)
    with Store.open(db) as store:
        store.insert_lockout(LockRow(1, 7, "RULE-003", "account", "hard", "daily P&L -550.00", at, None))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["risk_manager.db"]
    conn = database._without_writing(db, 1000)
    assert conn.execute("SELECT rule_id FROM lockouts").fetchall() == [("RULE-003",)]
    conn.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["risk_manager.db"]
