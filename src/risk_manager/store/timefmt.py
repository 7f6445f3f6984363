"""Stored time format: UTC ISO-8601 with microseconds and a ``Z`` (SPEC §5).

Every stored timestamp has the same width, so SQL compares them as strings
(``ts >= ?``) in time order, and indexes on them work.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_iso(dt: datetime) -> str:
    """``2026-03-10T14:00:00.000000Z`` for an aware datetime, converted to UTC.

    Raises ValueError for a naive datetime: its zone is unknown, and guessing would
    move a lock's expiry by hours.
    """
    if dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no time zone; pass an aware UTC datetime")
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_iso(text: str) -> datetime:
    """Parse ``...Z`` or ``...+00:00`` (any offset) into an aware UTC datetime.

    Raises ValueError for text without an offset, for the same reason as :func:`to_iso`.
    """
    dt = datetime.fromisoformat(text)
    if dt.utcoffset() is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset; expected e.g. 2026-03-10T14:00:00.000000Z")
    return dt.astimezone(UTC)


__all__ = ["from_iso", "to_iso"]
