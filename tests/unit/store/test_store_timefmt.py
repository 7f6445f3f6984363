"""Stored times: fixed-width UTC text with a Z, parsed back to aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from risk_manager.store import from_iso, to_iso


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        pytest.param(datetime(2026, 3, 10, 14, 0, tzinfo=UTC), "2026-03-10T14:00:00.000000Z", id="utc"),
        pytest.param(
            datetime(2026, 3, 10, 10, 0, 0, 123456, tzinfo=ZoneInfo("America/New_York")),
            "2026-03-10T14:00:00.123456Z",
            id="new-york-edt",
        ),
        pytest.param(
            datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
            "2025-12-31T23:30:00.000000Z",
            id="offset-crosses-year",
        ),
    ],
)
def test_to_iso_writes_utc_with_microseconds_and_z(moment: datetime, text: str) -> None:
    assert to_iso(moment) == text


def test_to_iso_when_naive_then_raises_value_error() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_iso(datetime(2026, 3, 10, 14, 0))


@pytest.mark.parametrize(
    "text",
    ["2026-03-10T14:00:00.000000Z", "2026-03-10T14:00:00+00:00", "2026-03-10T09:00:00-05:00"],
)
def test_from_iso_accepts_z_and_offsets_and_returns_aware_utc(text: str) -> None:
    parsed = from_iso(text)
    assert parsed == datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    assert parsed.tzinfo is UTC


def test_from_iso_when_no_offset_then_raises_value_error() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        from_iso("2026-03-10T14:00:00")


def test_round_trip_keeps_the_instant_and_text_order_is_time_order() -> None:
    moments = [datetime(2026, 3, 10, 14, 0, 0, micro, tzinfo=UTC) for micro in (999999, 1, 500000)]
    texts = [to_iso(moment) for moment in moments]
    assert [from_iso(text) for text in texts] == moments
    assert sorted(texts) == [to_iso(moment) for moment in sorted(moments)]
