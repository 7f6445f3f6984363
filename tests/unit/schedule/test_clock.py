"""The clock: only SystemClock reads the system time; ManualClock moves when told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from risk_manager.schedule import Clock, ManualClock, SystemClock

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def test_system_clock_returns_the_current_utc_instant() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after


def test_both_clocks_satisfy_the_clock_protocol() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(ManualClock(START), Clock)


def test_manual_clock_reports_its_start_in_utc() -> None:
    clock = ManualClock(datetime(2026, 3, 10, 9, 0, tzinfo=timezone(timedelta(hours=-5))))
    assert clock.now() == START
    assert clock.now().tzinfo is UTC


def test_manual_clock_stands_still_until_advanced() -> None:
    clock = ManualClock(START)
    assert clock.now() == clock.now() == START


def test_advance_moves_forward_by_timedelta_keywords() -> None:
    clock = ManualClock(START)
    assert clock.advance(minutes=5) == START + timedelta(minutes=5)
    clock.advance(hours=1, seconds=30)
    assert clock.now() == START + timedelta(hours=1, minutes=5, seconds=30)


def test_advance_by_zero_is_allowed() -> None:
    clock = ManualClock(START)
    assert clock.advance(seconds=0) == START


def test_advance_refuses_to_move_backwards() -> None:
    clock = ManualClock(START)
    with pytest.raises(ValueError, match="cannot move backwards"):
        clock.advance(seconds=-1)
    assert clock.now() == START


def test_advance_rejects_unknown_units() -> None:
    with pytest.raises(TypeError):
        ManualClock(START).advance(fortnights=1)


def test_set_may_jump_backwards_explicitly() -> None:
    clock = ManualClock(START)
    earlier = START - timedelta(days=1)
    assert clock.set(earlier) == earlier
    assert clock.now() == earlier


@pytest.mark.parametrize("use", ["start", "set"])
def test_naive_datetimes_are_rejected(use: str) -> None:
    naive = datetime(2026, 3, 10, 14, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        if use == "start":
            ManualClock(naive)
        else:
            ManualClock(START).set(naive)
