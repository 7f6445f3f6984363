"""The background writer: flush_soon commits off the hot path, in order, and loses nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from risk_manager.store import JournalRow, Store, StoreError, StoreFull

NOON = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def row(n: int) -> JournalRow:
    return JournalRow(
        None, NOON + timedelta(seconds=n), 7, "GatewayQuote", {"n": n}, {"event": "QuoteReceived"}
    )


def count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM event_journal").fetchone()[0])


def test_flush_soon_commits_in_the_background_and_keeps_the_order(db_path: Path) -> None:
    with Store.open(db_path) as store:
        for n in range(500):
            store.append_journal(row(n))
        store.flush_soon()
        for n in range(500, 700):
            store.append_journal(row(n))
        store.flush_soon()
        assert store.journal_backlog == 0
        seen = [r.raw["n"] for r in store.journal() if r.raw is not None]  # a read waits for the writer
    assert seen == list(range(700))
    assert count(db_path) == 700


def test_a_failed_background_batch_comes_back_and_is_written_later(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(db_path)
    real = Store._write_batch

    def full(self: Store, *args: object) -> None:
        raise StoreFull("database or disk is full", operation="flush", path=db_path)

    monkeypatch.setattr(Store, "_write_batch", full)
    for n in range(10):
        store.append_journal(row(n))
    store.flush_soon()
    store.append_journal(row(10))
    with pytest.raises(StoreError):
        store.flush_soon()  # the failure surfaces on the next call...
    assert store.journal_backlog == 11  # ...with its rows back, ahead of the newer one
    monkeypatch.setattr(Store, "_write_batch", real)
    store.flush_soon()
    store.close()
    with Store.open(db_path, read_only=True) as reader:
        assert [r.raw["n"] for r in reader.journal() if r.raw is not None] == list(range(11))


def test_close_waits_for_the_batch_in_flight(db_path: Path) -> None:
    store = Store.open(db_path)
    for n in range(2000):
        store.append_journal(row(n))
    store.flush_soon()
    store.close()
    assert count(db_path) == 2000
