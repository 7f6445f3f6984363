"""Field types and the base model shared by every config file (SPEC §2, §8).

Config models are strict: YAML ``"yes"`` is not a boolean and ``"500"`` is not a
number, because a quoted value usually means the author meant something else. The
types here add the few conversions SPEC §8 allows (an int where a number is expected,
``"HH:MM"`` text for a time, ``5m`` for a duration) and reject the rest with a message
that says what is allowed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic_core import PydanticCustomError

from risk_manager.config.problems import KeyPath, format_key
from risk_manager.domain.money import to_decimal

#: A cross-field problem: the key path relative to the model that found it, and the message.
Issue = tuple[KeyPath, str]

#: Error type of a model validator's bundle of issues; the message translator unpacks it.
ISSUES_ERROR = "rm_issues"

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_MAX_SHOWN = 40
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DURATION_RE = re.compile(r"^(\d+)([smh])$")
_SYMBOL_RE = re.compile(r"^[A-Z0-9]{1,12}$")
_PATTERN_RE = re.compile(r"^[A-Z0-9*?\[\]!]{1,24}$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
DURATION_MIN = timedelta(seconds=1)
DURATION_MAX = timedelta(hours=24)


class ConfigModel(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable, types strict."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def show(value: object) -> str:
    """A value as the operator wrote it, for ``(got ...)``: text quoted, YAML spelling for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        text = value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 3] + "..."
        return repr(text)
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def fail(issues: Sequence[Issue]) -> NoReturn:
    """Raise every cross-field issue of a model at once (pydantic keeps one error per validator).

    The translator in ``messages`` turns the bundle back into one problem per issue,
    each at its own key, so the operator sees all of them with their lines.
    """
    summary = "; ".join(f"{format_key(loc)}: {message}" if loc else message for loc, message in issues)
    # "summary" last: pydantic-core substitutes keys in order, so its text is never re-scanned.
    raise PydanticCustomError(ISSUES_ERROR, "{summary}", {"issues": tuple(issues), "summary": summary})


def _error(kind: str, message: str) -> PydanticCustomError:
    # Without a context pydantic-core leaves the text alone, so user input with braces is safe.
    return PydanticCustomError(kind, message)


def _to_money(value: object) -> object:
    """Accept int/float/Decimal as a Decimal (via repr, so 0.1 stays 0.1); leave the rest to fail."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _error("rm_number", f"must be a number (got {show(value)})")
    number = to_decimal(value)
    if not number.is_finite():
        raise _error("rm_number", f"must be a finite number (got {show(value)})")
    return number


def _money_json(value: Decimal) -> float:
    # JSON/YAML dumps (admin writes, `config show`) spell money as the plain number it was written as.
    return float(value)


def _to_duration(value: object) -> object:
    """Seconds (int) or ``<n>s|m|h`` text, within 1 s..24 h (SPEC §2)."""
    if isinstance(value, timedelta):
        seconds = value
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = timedelta(seconds=value)
    elif isinstance(value, str) and (match := _DURATION_RE.match(value)):
        seconds = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    else:
        raise _error(
            "rm_duration", f"must be a duration: seconds or <n>s, <n>m, <n>h, e.g. 5m (got {show(value)})"
        )
    if not DURATION_MIN <= seconds <= DURATION_MAX:
        raise _error("rm_duration_range", f"must be 1s..24h (got {show(value)})")
    return seconds


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of a duration: ``300 s`` -> ``5m``."""
    seconds = int(value.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _to_time(value: object) -> object:
    """``"HH:MM"`` (24 h) text, or a ``time`` given in code."""
    if isinstance(value, time):
        return value
    if isinstance(value, str) and (match := _TIME_RE.match(value)):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise _error("rm_time", f"must be a time HH:MM (00:00..23:59), e.g. 17:00 (got {show(value)})")


def _to_date(value: object) -> object:
    """An ISO date: YAML may hand over text (our loader) or a ``date`` (other loaders, code)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_RE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _error("rm_date", f"must be a date YYYY-MM-DD, e.g. 2025-12-25 (got {show(value)})")


def _check_zone(name: str) -> str:
    """An IANA zone name that this machine's tz database (or the tzdata package) knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _error(
            "rm_timezone", f"unknown time zone {show(name)}; use an IANA name, e.g. America/New_York"
        ) from None
    return name


def _to_symbol(value: object) -> object:
    """Symbols are case-insensitive in config (SPEC §1): stored upper-case."""
    if isinstance(value, str) and _SYMBOL_RE.match(value.upper()):
        return value.upper()
    raise _error("rm_symbol", f"must be a symbol of letters and digits, e.g. MNQ (got {show(value)})")


def _to_symbol_pattern(value: object) -> object:
    """A symbol or a shell wildcard over symbols (RULE-011: ``*ES``)."""
    if isinstance(value, str) and _PATTERN_RE.match(value.upper()):
        return value.upper()
    raise _error("rm_symbol", f"must be a symbol or wildcard, e.g. RTY or *ES (got {show(value)})")


def _one_of(choices: tuple[str, ...], fold: Callable[[str], str]) -> Callable[[object], object]:
    """A case-insensitive choice; the message shows the value as written, not as folded."""

    def check(value: object) -> object:
        if isinstance(value, str) and fold(value) in choices:
            return fold(value)
        raise _error("rm_choice", f"must be one of {', '.join(choices)} (got {show(value)})")

    return check


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IPs (127.0.0.0/8, ::1): the only hosts allowed plain text."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def zone_of(name: str) -> ZoneInfo:
    """The ZoneInfo of a validated zone name (kept as text in models so they dump as written)."""
    return ZoneInfo(name)


#: Money and other decimal amounts (SPEC §2: Decimal, never float); ints accepted.
Money = Annotated[Decimal, BeforeValidator(_to_money), PlainSerializer(_money_json, when_used="json")]
#: ``60``, ``60s``, ``5m``, ``1h``: 1 s..24 h, as a timedelta.
Duration = Annotated[timedelta, BeforeValidator(_to_duration), PlainSerializer(format_duration)]
#: ``"HH:MM"`` wall-clock time.
ClockTime = Annotated[time, BeforeValidator(_to_time), PlainSerializer(lambda t: t.strftime("%H:%M"))]
#: ISO date ``YYYY-MM-DD``.
IsoDate = Annotated[date, BeforeValidator(_to_date), PlainSerializer(lambda d: d.isoformat())]
#: IANA time zone name, validated.
TimeZoneName = Annotated[str, AfterValidator(_check_zone)]
#: Upper-cased symbol root (``mnq`` -> ``MNQ``).
Symbol = Annotated[str, BeforeValidator(_to_symbol)]
#: Upper-cased symbol or fnmatch wildcard.
SymbolPattern = Annotated[str, BeforeValidator(_to_symbol_pattern)]
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")
#: Weekday name, case-insensitive.
Day = Annotated[Weekday, BeforeValidator(_one_of(WEEKDAYS, str.lower))]
#: Log level, case-insensitive.
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_one_of(LOG_LEVELS, str.upper))
]


def duplicates(values: Sequence[Any]) -> list[tuple[int, int]]:
    """``(later index, first index)`` of every repeated value, for "duplicate of [i]" messages."""
    first: dict[Any, int] = {}
    repeated: list[tuple[int, int]] = []
    for index, value in enumerate(values):
        if value in first:
            repeated.append((index, first[value]))
        else:
            first[value] = index
    return repeated


__all__ = [
    "DURATION_MAX",
    "DURATION_MIN",
    "ISSUES_ERROR",
    "LOG_LEVELS",
    "WEEKDAYS",
    "ClockTime",
    "ConfigModel",
    "Day",
    "Duration",
    "IsoDate",
    "Issue",
    "LogLevel",
    "Money",
    "Symbol",
    "SymbolPattern",
    "TimeZoneName",
    "Weekday",
    "duplicates",
    "fail",
    "format_duration",
    "is_loopback_host",
    "show",
    "zone_of",
]
