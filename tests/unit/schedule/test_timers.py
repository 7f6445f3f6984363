"""Timers: named, persisted countdowns (SPEC §1 "Timer", §5 timers table, RULE-008 grace)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from risk_manager.schedule import ManualClock, Timer, TimerBook, grace_timer_name

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
CONTRACT = "CON.F.US.MNQ.H26"


def grace(account_id: int = 101, seconds: int = 10, contract: str = CONTRACT) -> Timer:
    return Timer(
        grace_timer_name(account_id, contract),
        account_id,
        "grace",
        T0 + timedelta(seconds=seconds),
        {"contract_id": contract},
    )


def test_grace_timer_names_follow_spec() -> None:
    assert grace_timer_name(101, CONTRACT) == "grace:101:CON.F.US.MNQ.H26"


def test_start_keeps_an_existing_timer_unless_replaced() -> None:
    book = TimerBook()
    first = grace(seconds=10)
    assert book.start(first)
    assert not book.start(grace(seconds=30))
    assert book.get(first.name) == first
    assert book.start(grace(seconds=30), replace=True)
    assert book.get(first.name) == grace(seconds=30)
    assert len(book) == 1


def test_cancel_returns_the_stopped_timer() -> None:
    book = TimerBook()
    timer = grace()
    book.start(timer)
    assert book.cancel(timer.name) == timer
    assert book.cancel(timer.name) is None
    assert book.get(timer.name) is None


def test_rule_008_example_grace_fires_ten_seconds_after_opening() -> None:
    clock, book = ManualClock(T0), TimerBook()
    book.start(grace(seconds=10))
    clock.advance(seconds=9)
    assert book.due(clock.now()) == []
    clock.advance(seconds=1)
    assert book.due(clock.now()) == [grace(seconds=10)]  # due at exactly expires_at
    assert book.due(clock.now()) == []  # removed once returned


def test_due_returns_expired_timers_in_expiry_order() -> None:
    book = TimerBook()
    late, early, tie = grace(1, 20), grace(2, 5), grace(3, 5, "CON.F.US.CLE.J26")
    pending = grace(4, 60)
    for timer in (late, early, tie, pending):
        book.start(timer)
    assert book.due(T0 + timedelta(seconds=30)) == [early, tie, late]
    assert book.all() == [pending]


def test_next_deadline_and_all() -> None:
    book = TimerBook()
    assert book.next_deadline() is None
    a, b = grace(1, 40), grace(2, 15)
    book.start(a)
    book.start(b)
    assert book.next_deadline() == T0 + timedelta(seconds=15)
    assert book.all() == [b, a]


def test_restored_timer_that_expired_while_down_fires_on_the_next_check() -> None:
    book = TimerBook()
    book.restore([grace(1, 10), grace(2, 600)])
    assert book.due(T0 + timedelta(minutes=5)) == [grace(1, 10)]
    assert book.all() == [grace(2, 600)]


def test_timer_expiry_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Timer("grace:1:X", 1, "grace", datetime(2026, 3, 10, 15, 0), {})


def test_a_daemon_wide_timer_has_no_account() -> None:
    book = TimerBook()
    book.start(Timer("reset", None, "reset", T0, {}))
    assert [t.account_id for t in book.due(T0)] == [None]
