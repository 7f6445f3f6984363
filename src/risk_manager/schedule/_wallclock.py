"""Wall-clock times to UTC instants, with SPEC §4.3's DST rule.

Resets, session windows and early closes are written as local wall-clock times
("17:00 America/New_York"). Twice a year such a time is ambiguous (fall back) or
does not exist (spring forward); SPEC §4.3 picks the first occurrence of an
ambiguous time and the next valid instant for a non-existent one. Every
wall-clock conversion in this package goes through :func:`local_instant`, so the
rule lives in one place.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` in UTC; a naive datetime is a caller bug, so it raises ``ValueError``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(UTC)


def require_naive_time(value: time, name: str) -> time:
    """Wall-clock times take their zone from a separate field; an offset here would be ambiguous."""
    if value.tzinfo is not None:
        raise ValueError(f"{name} must be a wall-clock time without tzinfo (got {value.isoformat()})")
    return value


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The calendar date an aware instant falls on in ``zone``."""
    return instant.astimezone(zone).date()


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """UTC instant of wall-clock ``wall`` on ``day`` in ``zone`` (SPEC §4.3 DST rule).

    Ambiguous (clocks fall back): the first occurrence. Non-existent (clocks spring
    forward): the first instant whose local wall time is at or after ``wall``, i.e.
    the end of the gap (02:30 on a New York spring-forward day -> 03:00 EDT).
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    return _end_of_gap(naive, zone)


def _end_of_gap(naive: datetime, zone: ZoneInfo) -> datetime:
    """First instant whose local wall time is >= ``naive``, which lies inside a DST gap.

    zoneinfo exposes no transition table, so bisect on whole seconds between the two
    readings of the wall time (old offset, new offset); local time is monotonic there.
    """
    readings = [int(naive.replace(tzinfo=zone, fold=f).timestamp()) for f in (0, 1)]
    low, high = min(readings), max(readings) + 1  # wall(low) < naive <= wall(high)
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(middle, zone) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _wall(timestamp: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(timestamp, zone).replace(tzinfo=None)


__all__ = ["local_date", "local_instant", "require_aware", "require_naive_time"]
