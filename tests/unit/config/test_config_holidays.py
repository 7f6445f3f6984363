"""holidays.yaml: ISO dates, HH:MM close times, no duplicates, no date both holiday and early close."""

from __future__ import annotations

import datetime as dt

import pytest
from config_testkit import parse, problems

from risk_manager.config import HolidaysConfig

PATH = "config/holidays.yaml"

SPEC_EXAMPLE = """\
version: 1
timezone: America/New_York
holidays:
  - {date: 2025-12-25, name: Christmas}
  - {date: 2026-01-01, name: New Year}
early_closes:
  - {date: 2025-11-28, close_time: "13:00", name: Day after Thanksgiving}
  - {date: 2025-12-24, close_time: "13:00", name: Christmas Eve}
"""


def test_spec_example_parses() -> None:
    parsed = parse(HolidaysConfig, SPEC_EXAMPLE, PATH)
    assert parsed.holiday_dates() == {dt.date(2025, 12, 25): "Christmas", dt.date(2026, 1, 1): "New Year"}
    assert parsed.early_close_times() == {
        dt.date(2025, 11, 28): dt.time(13),
        dt.date(2025, 12, 24): dt.time(13),
    }
    assert parsed.zone.key == "America/New_York"


def test_defaults() -> None:
    parsed = HolidaysConfig.model_validate({})
    assert (parsed.version, parsed.timezone, parsed.holidays, parsed.early_closes) == (
        1,
        "America/New_York",
        [],
        [],
    )


def test_dates_may_arrive_as_date_objects() -> None:
    # Other YAML loaders (and code) hand over dates, ours hands over text: both are fine.
    parsed = HolidaysConfig.model_validate({"holidays": [{"date": dt.date(2025, 12, 25)}]})
    assert parsed.holidays[0].date == dt.date(2025, 12, 25)
    assert parsed.holidays[0].name == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "holidays:\n  - {date: 2025-12-25}\n  - {date: 2025-12-25}\n",
            ["config/holidays.yaml:3: holidays[1].date: duplicate of holidays[0] (2025-12-25)"],
            id="duplicate-holiday",
        ),
        pytest.param(
            "early_closes:\n  - {date: 2025-11-28, close_time: '13:00'}\n  - {date: 2025-11-28, "
            "close_time: '12:00'}\n",
            ["config/holidays.yaml:3: early_closes[1].date: duplicate of early_closes[0] (2025-11-28)"],
            id="duplicate-early-close",
        ),
        pytest.param(
            "holidays:\n  - {date: 2025-12-25}\nearly_closes:\n  - {date: 2025-12-25, close_time: '13:00'}\n",
            ["config/holidays.yaml:4: early_closes[0].date: also a holiday (holidays[0])"],
            id="both",
        ),
        pytest.param(
            "holidays:\n  - {date: 2025-13-01}\n",
            [
                "config/holidays.yaml:2: holidays[0].date: must be a date YYYY-MM-DD, e.g. 2025-12-25 "
                "(got '2025-13-01')"
            ],
            id="bad-month",
        ),
        pytest.param(
            "holidays:\n  - {date: 12/25/2025}\n",
            [
                "config/holidays.yaml:2: holidays[0].date: must be a date YYYY-MM-DD, e.g. 2025-12-25 "
                "(got '12/25/2025')"
            ],
            id="not-iso",
        ),
        pytest.param(
            "early_closes:\n  - {date: 2025-11-28, close_time: '1pm'}\n",
            [
                "config/holidays.yaml:2: early_closes[0].close_time: "
                "must be a time HH:MM (00:00..23:59), e.g. 17:00 (got '1pm')"
            ],
            id="bad-time",
        ),
        pytest.param(
            "early_closes:\n  - {date: 2025-11-28}\n",
            ["config/holidays.yaml:2: early_closes[0].close_time: required: a time HH:MM, e.g. 13:00"],
            id="missing-time",
        ),
        pytest.param(
            "timezone: Mars/Olympus\n",
            [
                "config/holidays.yaml:1: timezone: unknown time zone 'Mars/Olympus'; use an IANA name, "
                "e.g. America/New_York"
            ],
            id="bad-zone",
        ),
    ],
)
def test_holiday_problems(text: str, expected: list[str]) -> None:
    assert problems(lambda: parse(HolidaysConfig, text, PATH)) == expected
