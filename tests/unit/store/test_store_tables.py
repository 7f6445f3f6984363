"""P&L, fills, timers, meta and the enforcement log: exact money, upserts, filters."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from risk_manager.store import DailyPnlRow, EnforcementRow, FillRow, JournalRow, Store, StoreError, TimerRow

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)


def _pnl(
    trading_date: date = TODAY, *, fees: str = "0.74", realized_net: str = "-550.00", unrealized: str = "0.1"
) -> DailyPnlRow:
    return DailyPnlRow(
        account_id=101,
        trading_date=trading_date,
        realized_gross=Decimal("-549.26"),
        fees=Decimal(fees),
        realized_net=Decimal(realized_net),
        unrealized=Decimal(unrealized),
        trade_count=3,
        updated_at=T0,
    )


@pytest.mark.parametrize(
    "amount",
    ["0.10", "-550.00", "12345678901234567890.123456789", "1E+2", "-0.000000001"],
)
def test_daily_pnl_money_comes_back_exactly(store: Store, amount: str) -> None:
    store.upsert_daily_pnl(_pnl(unrealized=amount, realized_net=amount))
    stored = store.daily_pnl(101, TODAY)
    assert stored is not None
    # as_tuple: same digits and same exponent ("0.10" stays "0.10", not 0.1 or a float)
    assert stored.unrealized.as_tuple() == Decimal(amount).as_tuple()
    assert stored.realized_net.as_tuple() == Decimal(amount).as_tuple()


def test_money_is_stored_as_text_not_float(store: Store, db_path: Path) -> None:
    store.upsert_daily_pnl(_pnl(fees="0.10"))
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT typeof(fees), fees FROM daily_pnl").fetchone() == ("text", "0.10")


def test_upsert_daily_pnl_replaces_the_row_of_that_day(store: Store) -> None:
    store.upsert_daily_pnl(_pnl(realized_net="-10.00"))
    store.upsert_daily_pnl(_pnl(realized_net="-20.00"))
    assert [row.realized_net for row in store.daily_pnl_history(101, TODAY)] == [Decimal("-20.00")]


def test_daily_pnl_of_an_unknown_day_is_none(store: Store) -> None:
    assert store.daily_pnl(101, TODAY) is None


def test_daily_pnl_history_starts_at_since_oldest_first(store: Store) -> None:
    for offset in (2, 0, 1, 3):
        store.upsert_daily_pnl(_pnl(trading_date=TODAY - timedelta(days=offset)))
    history = store.daily_pnl_history(101, TODAY - timedelta(days=2))
    assert [row.trading_date for row in history] == [TODAY - timedelta(days=n) for n in (2, 1, 0)]


def test_fill_round_trips_every_field(store: Store, make_fill: Callable[..., FillRow]) -> None:
    opening = make_fill(fill_id=1, pnl=None, is_entry=True, daemon_order=True)
    store.upsert_fill(opening)
    assert store.fills(101, TODAY) == [opening]


def test_late_voided_fill_updates_its_row(store: Store, make_fill: Callable[..., FillRow]) -> None:
    store.upsert_fill(make_fill(fill_id=5))
    store.upsert_fill(make_fill(fill_id=5, voided=True))
    (stored,) = store.fills(101, TODAY)
    assert stored.voided is True


def test_fills_and_fill_ids_are_per_account_and_trading_date(
    store: Store, make_fill: Callable[..., FillRow]
) -> None:
    store.upsert_fill(make_fill(fill_id=2, executed_at=T0 + timedelta(seconds=2)))
    store.upsert_fill(make_fill(fill_id=1, executed_at=T0 + timedelta(seconds=1)))
    store.upsert_fill(make_fill(fill_id=3, account_id=102))
    store.upsert_fill(make_fill(fill_id=4, trading_date=TODAY + timedelta(days=1)))
    assert [fill.fill_id for fill in store.fills(101, TODAY)] == [1, 2]
    assert store.fill_ids(101, TODAY) == {1, 2}


def test_timers_upsert_list_soonest_first_and_delete(store: Store) -> None:
    grace = TimerRow("grace:101:CON.F.US.MNQ.H26", 101, "grace", T0 + timedelta(seconds=30), {"size": 2})
    reset = TimerRow("reset", None, "daily_reset", T0 + timedelta(hours=7), {"at": Decimal("1.5")})
    store.upsert_timer(reset)
    store.upsert_timer(grace)
    store.upsert_timer(TimerRow(grace.name, 101, "grace", T0 + timedelta(seconds=45), {"size": 3}))
    assert [(t.name, t.expires_at, t.payload) for t in store.timers()] == [
        (grace.name, T0 + timedelta(seconds=45), {"size": 3}),
        ("reset", T0 + timedelta(hours=7), {"at": "1.5"}),
    ]
    store.delete_timer(grace.name)
    store.delete_timer("never existed")
    assert [timer.name for timer in store.timers()] == ["reset"]


def test_meta_set_get_and_set_many(store: Store) -> None:
    store.set_meta("daemon_pid", "4242")
    store.set_meta_many({"connection": "CONNECTED", "heartbeat_at": "2026-03-10T14:00:00.000000Z"})
    store.set_meta("connection", "DISCONNECTED")
    assert store.get_meta("daemon_pid") == "4242"
    assert store.get_meta("snapshot") is None
    assert store.meta() == {
        "schema_version": "1",
        "daemon_pid": "4242",
        "connection": "DISCONNECTED",
        "heartbeat_at": "2026-03-10T14:00:00.000000Z",
    }


def test_schema_version_cannot_be_set_by_hand(store: Store) -> None:
    with pytest.raises(ValueError, match="owned by the migrations"):
        store.set_meta("schema_version", "7")
    assert store.get_meta("schema_version") == "1"


def test_log_enforcement_returns_increasing_ids_and_round_trips(
    store: Store, make_enforcement: Callable[..., EnforcementRow]
) -> None:
    first = store.log_enforcement(make_enforcement())
    second = store.log_enforcement(
        make_enforcement(action="CLOSE_POSITION", contract_id="CON.F.US.MNQ.H26", quantity=2, result="FAILED",
                         error="HTTP 500", latency_ms=None)
    )  # fmt: skip
    assert second == first + 1
    assert store.enforcement_rows()[-1] == make_enforcement(
        id=second, action="CLOSE_POSITION", contract_id="CON.F.US.MNQ.H26", quantity=2, result="FAILED",
        error="HTTP 500", latency_ms=None,
    )  # fmt: skip


def test_enforcement_rows_filter_and_return_the_latest_newest_last(
    store: Store, make_enforcement: Callable[..., EnforcementRow]
) -> None:
    rows = [
        make_enforcement(ts=T0, reason="a"),
        make_enforcement(ts=T0 + timedelta(minutes=1), rule_id="RULE-006", reason="b"),
        make_enforcement(ts=T0 + timedelta(minutes=2), account_id=102, reason="c"),
        make_enforcement(ts=T0 + timedelta(minutes=3), rule_id=None, account_id=None, reason="d"),
        make_enforcement(ts=T0 + timedelta(minutes=4), reason="e"),
    ]
    for row in rows:
        store.log_enforcement(row)

    def reasons(
        *,
        account_id: int | None = None,
        rule_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = 50,
    ) -> list[str]:
        found = store.enforcement_rows(account_id=account_id, rule_id=rule_id, since=since, limit=limit)
        return [row.reason for row in found]

    assert reasons() == ["a", "b", "c", "d", "e"]
    assert reasons(limit=2) == ["d", "e"]
    assert reasons(limit=None) == ["a", "b", "c", "d", "e"]
    assert reasons(account_id=101) == ["a", "b", "e"]
    assert reasons(rule_id="RULE-003") == ["a", "c", "e"]
    assert reasons(since=T0 + timedelta(minutes=2)) == ["c", "d", "e"]
    assert reasons(account_id=101, rule_id="RULE-003", limit=1) == ["e"]


def test_enforcement_result_outside_spec_is_refused(
    store: Store, make_enforcement: Callable[..., EnforcementRow]
) -> None:
    with pytest.raises(StoreError, match="CHECK constraint failed"):
        store.log_enforcement(make_enforcement(result="MAYBE"))


def test_prune_deletes_journal_after_14_days_and_fills_after_90(
    store: Store, make_event: Callable[..., JournalRow], make_fill: Callable[..., FillRow]
) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    ages = {"older": timedelta(days=14, microseconds=1), "exactly": timedelta(days=14), "young": timedelta(0)}
    for name, age in ages.items():
        store.append_journal(make_event(type=name, ts=now - age))
    for fill_id, age in [
        (1, timedelta(days=90, microseconds=1)),
        (2, timedelta(days=90)),
        (3, timedelta(days=1)),
    ]:
        store.upsert_fill(make_fill(fill_id=fill_id, executed_at=now - age, trading_date=TODAY))
    store.prune(now)
    assert [row.type for row in store.journal()] == ["exactly", "young"]
    assert store.fill_ids(101, TODAY) == {2, 3}


def test_prune_takes_retention_as_keywords(store: Store, make_event: Callable[..., JournalRow]) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    store.append_journal(make_event(type="two days old", ts=now - timedelta(days=2)))
    store.prune(now, journal_days=3)
    assert len(list(store.journal())) == 1
    store.prune(now, journal_days=1)
    assert list(store.journal()) == []
    with pytest.raises(ValueError, match="retention must be >= 1 day"):
        store.prune(now, trade_days=0)
