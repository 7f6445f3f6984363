"""holidays.yaml: exchange holidays and early closes that win over the calendars (SPEC §8).

Dates are *trading dates*: the date on which the session would close, in exchange time.
A date may be a holiday or an early close, never both (which one would apply is unclear).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from risk_manager.config.fields import (
    ClockTime,
    ConfigModel,
    IsoDate,
    Issue,
    TimeZoneName,
    duplicates,
    fail,
    zone_of,
)
from risk_manager.schedule.calendar import HolidayOverrides


class Holiday(ConfigModel):
    """A trading date with no session."""

    date: IsoDate = Field(examples=["2025-12-25"])
    name: str = ""


class EarlyClose(ConfigModel):
    """A trading date whose session ends at ``close_time`` (in the file's zone)."""

    date: IsoDate = Field(examples=["2025-11-28"])
    close_time: ClockTime = Field(examples=["13:00"])
    name: str = ""


class HolidaysConfig(ConfigModel):
    """A whole holidays.yaml, or the ``holidays`` section of a scenario."""

    version: Literal[1] = 1
    timezone: TimeZoneName = Field(default="America/New_York", examples=["America/New_York"])
    holidays: list[Holiday] = Field(default_factory=list)
    early_closes: list[EarlyClose] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_dates(self) -> HolidaysConfig:
        holiday_dates = [holiday.date for holiday in self.holidays]
        close_dates = [close.date for close in self.early_closes]
        issues: list[Issue] = []
        for section, dates in (("holidays", holiday_dates), ("early_closes", close_dates)):
            issues += [
                ((section, later, "date"), f"duplicate of {section}[{first}] ({dates[later]})")
                for later, first in duplicates(dates)
            ]
        issues += [
            (("early_closes", index, "date"), f"also a holiday (holidays[{holiday_dates.index(day)}])")
            for index, day in enumerate(close_dates)
            if day in holiday_dates
        ]
        if issues:
            fail(issues)
        return self

    @property
    def zone(self) -> ZoneInfo:
        """Zone of the early close times."""
        return zone_of(self.timezone)

    def holiday_dates(self) -> dict[dt.date, str]:
        """Holidays by trading date, with their names."""
        return {holiday.date: holiday.name for holiday in self.holidays}

    def early_close_times(self) -> dict[dt.date, dt.time]:
        """Early close times (wall clock in ``zone``) by trading date."""
        return {close.date: close.close_time for close in self.early_closes}

    def overrides(self) -> HolidayOverrides:
        """This file as the exchange calendars' overrides (a date listed here wins)."""
        early = {close.date: (close.close_time, close.name or "Early close") for close in self.early_closes}
        return HolidayOverrides(zone_of(self.timezone), self.holiday_dates(), early)


__all__ = ["EarlyClose", "Holiday", "HolidaysConfig"]
