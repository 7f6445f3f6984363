"""The journal: appends only buffer, flush or any other write puts them on disk, in order."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from risk_manager.store import JournalRow, Store, StoreLocked

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def _types(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    account_id: int | None = None,
) -> list[str]:
    return [row.type for row in store.journal(since=since, until=until, account_id=account_id)]


def test_appended_row_is_invisible_to_another_connection_until_flush(
    store: Store, db_path: Path, make_event: Callable[..., JournalRow]
) -> None:
    store.append_journal(make_event(type="A"))
    assert store.journal_backlog == 1
    with Store.open(db_path, read_only=True) as reader:
        assert _types(reader) == []
        store.flush()
        assert _types(reader) == ["A"]
    assert store.journal_backlog == 0


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda store: store.set_meta("heartbeat_at", "x"), id="set_meta"),
        pytest.param(lambda store: store.delete_timer("none"), id="delete_timer"),
        pytest.param(lambda store: store.prune(T0), id="prune"),
    ],
)
def test_any_other_write_flushes_the_buffer_first(
    store: Store, db_path: Path, make_event: Callable[..., JournalRow], write: Callable[[Store], None]
) -> None:
    store.append_journal(make_event(type="A"))
    write(store)
    with Store.open(db_path, read_only=True) as reader:
        assert _types(reader) == ["A"]


def test_journal_rows_come_back_in_append_order_with_increasing_seq(
    store: Store, make_event: Callable[..., JournalRow]
) -> None:
    # ts deliberately out of order: seq (arrival order) is what counts.
    for name, minute in [("first", 5), ("second", 1), ("third", 3)]:
        store.append_journal(make_event(type=name, ts=T0 + timedelta(minutes=minute)))
    rows = list(store.journal())
    assert [row.type for row in rows] == ["first", "second", "third"]
    assert [row.seq for row in rows] == [1, 2, 3]


def test_journal_round_trips_raw_and_payload_json(store: Store) -> None:
    row = JournalRow(
        seq=None,
        ts=T0,
        account_id=None,
        type="Decision",
        raw=None,
        payload={"reason": "daily P&L -550.00 <= -500.00", "limit": Decimal("-500.00"), "sizes": [1, 2]},
    )
    store.append_journal(row)
    (stored,) = store.journal()
    assert stored.seq == 1
    assert stored.raw is None
    assert stored.account_id is None
    assert stored.payload == {"reason": "daily P&L -550.00 <= -500.00", "limit": "-500.00", "sizes": [1, 2]}


def test_journal_filters_since_inclusive_until_exclusive_and_account(
    store: Store, make_event: Callable[..., JournalRow]
) -> None:
    for minute, account in [(0, 101), (1, 102), (2, 101), (3, None)]:
        store.append_journal(
            make_event(type=f"m{minute}", ts=T0 + timedelta(minutes=minute), account_id=account)
        )
    assert _types(store, since=T0 + timedelta(minutes=1)) == ["m1", "m2", "m3"]
    assert _types(store, until=T0 + timedelta(minutes=2)) == ["m0", "m1"]
    assert _types(store, account_id=101) == ["m0", "m2"]


def test_journal_reads_many_pages_and_ignores_rows_appended_while_iterating(
    store: Store, make_event: Callable[..., JournalRow]
) -> None:
    for index in range(12_000):
        store.append_journal(make_event(type=str(index)))
    seen = 0
    for row in store.journal():
        if seen == 0:
            store.append_journal(make_event(type="late"))
            store.flush()
        assert row.type == str(seen)
        seen += 1
    assert seen == 12_000


def test_unencodable_payload_is_journaled_as_a_marker_and_does_not_block_other_writes(store: Store) -> None:
    store.append_journal(JournalRow(None, T0, 101, "Broken", None, {"key": {(1, 2): "tuple keys"}}))
    store.set_meta("connection", "CONNECTED")
    (row,) = store.journal()
    assert "unencodable" in row.payload
    assert store.get_meta("connection") == "CONNECTED"


def test_append_with_naive_ts_raises_at_once(store: Store, make_event: Callable[..., JournalRow]) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.append_journal(make_event(ts=datetime(2026, 3, 10, 14, 0)))
    assert store.journal_backlog == 0


def test_close_flushes_the_buffer(db_path: Path, make_event: Callable[..., JournalRow]) -> None:
    with Store.open(db_path) as store:
        store.append_journal(make_event(type="last words"))
    with Store.open(db_path, read_only=True) as reader:
        assert _types(reader) == ["last words"]


def test_failed_flush_keeps_the_rows_for_the_next_flush(
    db_path: Path, make_event: Callable[..., JournalRow]
) -> None:
    with Store.open(db_path, busy_timeout_ms=0) as store:
        store.append_journal(make_event(type="kept"))
        blocker = sqlite3.connect(db_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        with pytest.raises(StoreLocked, match=r"flush failed on .*database is locked"):
            store.flush()
        assert store.journal_backlog == 1
        blocker.execute("ROLLBACK")
        blocker.close()
        store.flush()
        assert _types(store) == ["kept"]
