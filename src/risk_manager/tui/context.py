"""What the status screen works out from the config dir itself: reset, sessions, holidays.

These depend only on the config and the clock, not on the daemon, so the screen computes
them live: the next reset and the session state stay right while the daemon is down,
when its snapshot in the database is frozen. Files are read-only here and reloaded when
one of them changes; a config that cannot be read leaves these parts blank and says why,
and everything read from the database is still shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from risk_manager.config.loader import ConfigSet, load_config_set
from risk_manager.config.problems import ConfigError
from risk_manager.config.risk import RiskConfig, SessionBlockOutsideConfig
from risk_manager.config.risk import SessionWindow as WindowConfig
from risk_manager.schedule import CalendarDay, DailyReset, ExchangeCalendar, SessionSchedule, SessionWindow

#: How far ahead the screen lists holidays and early closes (SPEC §6).
HOLIDAY_DAYS = 7


@dataclass(frozen=True, slots=True)
class SessionState:
    """One trading window now: ``scope`` is ``account`` or a symbol with a window of its own.

    ``next_change`` (UTC) is the close while open, the next opening while closed; None when
    no opening is found within a year.
    """

    scope: str
    is_open: bool
    next_change: datetime | None


@dataclass(frozen=True)
class ConfigContext:
    """A loaded config set (or why there is none) with the calendar built from its holidays."""

    config_set: ConfigSet | None
    problem: str | None = None
    calendar: ExchangeCalendar = field(default_factory=ExchangeCalendar)

    @property
    def reset(self) -> DailyReset | None:
        if self.config_set is None:
            return None
        daily = self.config_set.risk.general.daily_reset
        return DailyReset(daily.time, daily.zone)

    def next_reset(self, now: datetime) -> datetime | None:
        reset = self.reset
        return None if reset is None else reset.next_reset(now)

    def holidays(self, now: datetime) -> list[CalendarDay]:
        """Holidays and early closes of the next :data:`HOLIDAY_DAYS` trading dates (exchange time)."""
        reset = self.reset
        if reset is None:
            return []
        today = now.astimezone(reset.zone).date()
        return self.calendar.upcoming(None, today, HOLIDAY_DAYS)

    def rules_of(self, account_id: int, name: str | None) -> RiskConfig | None:
        """The account's effective rules: its entry by id, else by name, else the base set."""
        if self.config_set is None:
            return None
        accounts = self.config_set.accounts
        entry = accounts.find(account_id) or (accounts.find(name) if name else None)
        return self.config_set.effective_risk(entry) if entry is not None else self.config_set.risk

    def sessions(self, rules: RiskConfig | None, now: datetime) -> list[SessionState]:
        """RULE-009's windows for these rules at ``now``: the account's first, then per symbol."""
        block = rules.rules.session_block_outside if rules is not None else None
        if block is None or not block.enabled:
            return []
        windows: list[tuple[str, str | None, WindowConfig]] = [("account", None, block.session)]
        windows += [(symbol, symbol, block.per_instrument[symbol]) for symbol in sorted(block.per_instrument)]
        return [self._session(block, scope, symbol, window, now) for scope, symbol, window in windows]

    def _session(
        self,
        block: SessionBlockOutsideConfig,
        scope: str,
        symbol: str | None,
        window: WindowConfig,
        now: datetime,
    ) -> SessionState:
        times = SessionWindow(window.start, window.end, window.zone, window.weekdays)
        schedule = SessionSchedule(times, self.calendar, symbol, block.respect_holidays)
        try:
            change: datetime | None = schedule.next_change(now)
        except LookupError:
            change = None
        return SessionState(scope, schedule.is_open(now), change)


class ConfigWatch:
    """The config dir, loaded once and again whenever one of its files changes."""

    def __init__(self, config_dir: Path | None) -> None:
        self.config_dir = config_dir
        self._stamp: tuple[tuple[str, float], ...] | None = None
        self._context = ConfigContext(None, "no config dir given")

    def current(self) -> ConfigContext:
        """The context for this frame; a changed or new file is picked up on the next call."""
        if self.config_dir is None:
            return self._context
        stamp = _stamp(self.config_dir)
        if stamp != self._stamp:
            self._stamp = stamp
            self._context = load_context(self.config_dir)
        return self._context


def load_context(config_dir: Path) -> ConfigContext:
    """Read the config set; an unreadable one becomes a context with a ``problem`` (its first line)."""
    try:
        config_set = load_config_set(config_dir)
    except ConfigError as exc:
        return ConfigContext(None, str(exc).splitlines()[0] if str(exc) else "invalid config")
    except OSError as exc:
        return ConfigContext(None, f"{config_dir}: {exc.strerror or exc}")
    holidays = config_set.holidays
    return ConfigContext(config_set, None, ExchangeCalendar(holidays.overrides() if holidays else None))


def _stamp(config_dir: Path) -> tuple[tuple[str, float], ...]:
    """Names and mtimes of the dir's YAML files: a change to any of them means reload."""
    try:
        files = sorted(config_dir.glob("*.yaml"))
        return tuple((path.name, path.stat().st_mtime) for path in files)
    except OSError:
        return ()


__all__ = ["HOLIDAY_DAYS", "ConfigContext", "ConfigWatch", "SessionState", "load_context"]
