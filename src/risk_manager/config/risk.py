"""risk_config.yaml: the ``general`` block (SPEC §8) and one model per rule (SPEC §3).

Every key, default, range and cross-field check of the SPEC lives here, so rules read
typed values and never ``.get("x", default)``. A rule block that is absent is ``None``
(disabled); one that is present needs ``enabled`` (SPEC §2).
"""

from __future__ import annotations

import datetime as dt
from fnmatch import fnmatchcase
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, field_validator, model_validator

from risk_manager.config.fields import (
    WEEKDAYS,
    ClockTime,
    ConfigModel,
    Day,
    Duration,
    Issue,
    LogLevel,
    Money,
    Symbol,
    SymbolPattern,
    TimeZoneName,
    Weekday,
    duplicates,
    fail,
    is_loopback_host,
    show,
    zone_of,
)
from risk_manager.domain.contracts import TickSpec
from risk_manager.domain.money import cents

_WEEKDAYS_DEFAULT: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")


def _unique_symbols(value: object) -> object:
    """Symbols are case-insensitive (SPEC §1), so ``mnq`` and ``MNQ`` keys would silently merge."""
    if isinstance(value, dict):
        seen: dict[str, str] = {}
        for key in value:
            if isinstance(key, str) and (first := seen.setdefault(key.upper(), key)) != key:
                raise ValueError(f"{first} and {key} are the same symbol (symbols ignore case)")
    return value


# --------------------------------------------------------------------------- general


class DailyReset(ConfigModel):
    """When the trading day ends (SPEC §4.3): a wall-clock time in a zone, every calendar day."""

    time: ClockTime = Field(default=dt.time(17, 0), examples=["17:00"])
    timezone: TimeZoneName = Field(default="America/New_York", examples=["America/New_York"])

    @property
    def zone(self) -> ZoneInfo:
        """The reset's zone; DST follows the wall clock."""
        return zone_of(self.timezone)


class InstrumentSpec(ConfigModel):
    """A tick spec that wins over the broker's and the built-in table (SPEC §4.4)."""

    tick_size: Money = Field(gt=0, examples=[0.25])
    tick_value: Money = Field(gt=0, examples=[0.5])

    def tick_spec(self) -> TickSpec:
        """As the domain type the ledger and contract catalog use."""
        return TickSpec(self.tick_size, self.tick_value)


class LoggingConfig(ConfigModel):
    """Daemon log: level (``RISK_MANAGER_LOG_LEVEL`` overrides it), rotation and retention."""

    level: LogLevel = Field(default="INFO", examples=["INFO"])
    retention_days: int = Field(default=30, ge=1, le=365, examples=[30])
    max_bytes: int = Field(default=10_485_760, ge=65_536, le=1_073_741_824, examples=[10_485_760])
    backups: int = Field(default=5, ge=0, le=100, examples=[5])


class ControlConfig(ConfigModel):
    """The daemon's control API; loopback only, since it accepts admin commands."""

    host: str = Field(default="127.0.0.1", examples=["127.0.0.1"])
    port: int = Field(default=8766, ge=1, le=65535, examples=[8766])

    @field_validator("host")
    @classmethod
    def _loopback(cls, host: str) -> str:
        if not is_loopback_host(host):
            raise ValueError(f"must be a loopback host: 127.0.0.1, ::1 or localhost (got {show(host)})")
        return host


class MetricsConfig(ConfigModel):
    """Prometheus endpoint on loopback."""

    enabled: bool = False
    port: int = Field(default=9108, ge=1, le=65535, examples=[9108])


class WatchdogConfig(ConfigModel):
    """Dead-man check of the daemon's heartbeat."""

    stale_seconds: int = Field(default=15, ge=5, le=3600, examples=[15])
    flatten_on_stale: bool = False


class BackupsConfig(ConfigModel):
    """Daily database backups kept in ``data/backups/``."""

    keep: int = Field(default=7, ge=1, le=365, examples=[7])


SymbolMap = Annotated[dict[Symbol, Symbol], BeforeValidator(_unique_symbols)]
InstrumentMap = Annotated[dict[Symbol, InstrumentSpec], BeforeValidator(_unique_symbols)]


class GeneralConfig(ConfigModel):
    """The ``general:`` block of risk_config.yaml; every key optional with SPEC §8's default."""

    daily_reset: DailyReset = Field(default_factory=DailyReset)
    pnl_includes_fees: bool = True
    mark_price: Literal["last", "mid"] = "last"
    allow_admin_unlock: bool = True
    instruments: InstrumentMap = Field(default_factory=dict)
    symbol_aliases: SymbolMap = Field(default_factory=dict)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    protect_unlisted_accounts: bool = True
    control: ControlConfig = Field(default_factory=ControlConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    watchdog: WatchdogConfig = Field(default_factory=WatchdogConfig)
    backups: BackupsConfig = Field(default_factory=BackupsConfig)

    @model_validator(mode="after")
    def _ports_differ(self) -> GeneralConfig:
        if self.metrics.enabled and self.metrics.port == self.control.port:
            fail([(("metrics", "port"), f"must differ from control.port ({self.control.port})")])
        return self

    def tick_specs(self) -> dict[str, TickSpec]:
        """Configured tick specs by (upper-case) symbol, for the ContractCatalog."""
        return {symbol: spec.tick_spec() for symbol, spec in self.instruments.items()}


# --------------------------------------------------------------------------- rules


class RuleConfig(ConfigModel):
    """Base of a rule block: ``enabled`` is required, so a block never switches on by accident."""

    enabled: bool


Enforcement = Literal["reduce_to_limit", "close_all"]


class MaxContractsConfig(RuleConfig):
    """RULE-001 Max Contracts: contracts held account-wide."""

    limit: int = Field(ge=1, le=1000, examples=[5])
    count_type: Literal["gross", "net"] = "gross"
    enforcement: Enforcement = "reduce_to_limit"


SymbolLimits = Annotated[
    dict[Symbol, Annotated[int, Field(ge=0, le=1000, examples=[4])]], BeforeValidator(_unique_symbols)
]


class MaxContractsPerInstrumentConfig(RuleConfig):
    """RULE-002 Max Contracts per Instrument: contracts held per symbol (0 = never hold)."""

    limits: SymbolLimits = Field(default_factory=dict)
    default_limit: int | None = Field(default=None, ge=1, le=1000, examples=[2])
    unknown_symbol_action: Literal["block", "allow"] = "block"
    enforcement: Enforcement = "reduce_to_limit"

    def limit_for(self, symbol: str) -> int | None:
        """``limits[sym]`` -> ``default_limit`` -> 0 (block) or ``None`` = unlimited (allow)."""
        limit = self.limits.get(symbol.upper(), self.default_limit)
        if limit is not None:
            return limit
        return 0 if self.unknown_symbol_action == "block" else None


class DailyRealizedLossConfig(RuleConfig):
    """RULE-003 Daily Realized Loss: lock the day at the loss limit (inclusive)."""

    limit: Money = Field(ge=-1_000_000, le=-1, examples=[-500.0])
    include_unrealized: bool = True


class DailyUnrealizedLossConfig(RuleConfig):
    """RULE-004 Daily Unrealized Loss: close one position at this floating loss."""

    limit: Money = Field(lt=0, examples=[-300.0])


class MaxUnrealizedProfitConfig(RuleConfig):
    """RULE-005 Max Unrealized Profit: close one position at this floating profit."""

    target: Money = Field(gt=0, examples=[500.0])


_WINDOWS: tuple[str, ...] = ("per_minute", "per_hour", "per_session")


class FrequencyLimits(ConfigModel):
    """RULE-006 trade counts allowed per window; ``null`` turns a window off."""

    per_minute: int | None = Field(default=None, ge=1, le=1000, examples=[3])
    per_hour: int | None = Field(default=None, ge=1, le=1000, examples=[10])
    per_session: int | None = Field(default=None, ge=1, le=1000, examples=[40])

    @model_validator(mode="after")
    def _ordered(self) -> FrequencyLimits:
        # A shorter window with a higher count than a longer one could never bite first.
        values = [(name, getattr(self, name)) for name in _WINDOWS if getattr(self, name) is not None]
        if not values:
            fail([((), "set at least one of per_minute, per_hour, per_session (1..1000, null = off)")])
        issues: list[Issue] = []
        for index, (name, value) in enumerate(values):
            shorter = [(other, limit) for other, limit in values[:index] if limit > value]
            if shorter:
                other, limit = shorter[-1]
                issues.append(((name,), f"must be >= {other} ({limit}) (got {value})"))
        if issues:
            fail(issues)
        return self


class FrequencyCooldowns(ConfigModel):
    """RULE-006 cooldown per breached window (the longest breached one applies)."""

    per_minute: Duration = Field(default=dt.timedelta(seconds=60), examples=["60s"])
    per_hour: Duration = Field(default=dt.timedelta(minutes=30), examples=["30m"])
    per_session: Duration = Field(default=dt.timedelta(hours=1), examples=["1h"])


class TradeFrequencyLimitConfig(RuleConfig):
    """RULE-006 Trade Frequency Limit: entries per minute/hour/session, then a cooldown."""

    limits: FrequencyLimits
    cooldowns: FrequencyCooldowns = Field(default_factory=FrequencyCooldowns)


class LossTier(ConfigModel):
    """One RULE-007 tier: a loss at or below ``loss_amount`` forces a break of ``duration``."""

    loss_amount: Money = Field(lt=0, examples=[-100.0])
    duration: Duration = Field(examples=["5m"])


class CooldownAfterLossConfig(RuleConfig):
    """RULE-007 Cooldown After Loss: the deepest matching tier wins, whatever the list order."""

    tiers: list[LossTier] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _unique_amounts(self) -> CooldownAfterLossConfig:
        amounts = [cents(tier.loss_amount) for tier in self.tiers]
        issues: list[Issue] = [
            (("tiers", later, "loss_amount"), f"duplicate of tiers[{first}] ({amounts[later]})")
            for later, first in duplicates(amounts)
        ]
        if issues:
            fail(issues)
        return self


class NoStopLossGraceConfig(RuleConfig):
    """RULE-008 No-Stop-Loss Grace: seconds a position may stay without a full stop."""

    grace_period_seconds: int = Field(default=10, ge=1, le=3600, examples=[10])


class SessionWindow(ConfigModel):
    """A trading window [start, end) in its zone, opening on ``days``; end < start wraps midnight."""

    start: ClockTime = Field(examples=["09:30"])
    end: ClockTime = Field(examples=["16:00"])
    timezone: TimeZoneName = Field(default="America/New_York", examples=["America/New_York"])
    days: list[Day] = Field(
        default_factory=lambda: list(_WEEKDAYS_DEFAULT), min_length=1, examples=["[mon, fri]"]
    )

    @model_validator(mode="after")
    def _sane(self) -> SessionWindow:
        issues: list[Issue] = [
            (("days", later), f"duplicate of days[{first}] ({self.days[later]})")
            for later, first in duplicates(self.days)
        ]
        if self.start == self.end:
            issues.append(
                (("end",), f"must differ from start ({show(self.start)}); end < start wraps midnight")
            )
        if issues:
            fail(issues)
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The window's zone (its own, not the reset's)."""
        return zone_of(self.timezone)

    @property
    def weekdays(self) -> frozenset[int]:
        """Opening days as ``date.weekday()`` numbers (Monday = 0)."""
        return frozenset(WEEKDAYS.index(day) for day in self.days)


SessionMap = Annotated[dict[Symbol, SessionWindow], BeforeValidator(_unique_symbols)]


class SessionBlockOutsideConfig(RuleConfig):
    """RULE-009 Session Block Outside Hours: trade only inside the window, never on holidays."""

    session: SessionWindow
    per_instrument: SessionMap = Field(default_factory=dict)
    respect_holidays: bool = True
    close_at_session_end: bool = True

    def window_for(self, symbol: str) -> SessionWindow:
        """``per_instrument[sym]``, else the account-wide ``session``."""
        return self.per_instrument.get(symbol.upper(), self.session)


class AuthLossGuardConfig(RuleConfig):
    """RULE-010 Auth Loss Guard: mirror the broker's canTrade; poll in case an event is missed."""

    poll_interval_seconds: int = Field(default=30, ge=10, le=300, examples=[30])


class SymbolBlocksConfig(RuleConfig):
    """RULE-011 Symbol Blocks: symbols (or shell wildcards) never to trade."""

    blocked_symbols: list[SymbolPattern] = Field(default_factory=list, examples=["[RTY, M2K]"])

    def is_blocked(self, symbol: str) -> bool:
        """True if any entry matches the symbol (fnmatch, case-insensitive)."""
        return any(fnmatchcase(symbol.upper(), pattern) for pattern in self.blocked_symbols)


class TicksOrderConfig(ConfigModel):
    """RULE-012 auto stop-loss or take-profit ``ticks`` from the average price."""

    enabled: bool
    ticks: int = Field(ge=1, le=10_000, examples=[40])


class BreakevenConfig(ConfigModel):
    """RULE-012 breakeven: once ``trigger_ticks`` in profit, stop to avg + ``offset_ticks``."""

    enabled: bool
    trigger_ticks: int = Field(ge=1, le=10_000, examples=[20])
    offset_ticks: int = Field(default=0, ge=0, le=10_000, examples=[1])

    @model_validator(mode="after")
    def _offset_below_trigger(self) -> BreakevenConfig:
        # An offset at or past the trigger would put the stop beyond the mark that armed it.
        if self.offset_ticks >= self.trigger_ticks:
            fail(
                [
                    (
                        ("offset_ticks",),
                        f"must be < trigger_ticks ({self.trigger_ticks}) (got {self.offset_ticks})",
                    )
                ]
            )
        return self


class TrailingStopConfig(ConfigModel):
    """RULE-012 trailing stop: after ``activation_ticks`` of profit, ``trail_ticks`` behind the best."""

    enabled: bool
    activation_ticks: int = Field(ge=1, le=10_000, examples=[40])
    trail_ticks: int = Field(ge=1, le=10_000, examples=[20])


class TradeManagementConfig(RuleConfig):
    """RULE-012 Trade Management: protective orders; an absent sub-block is off."""

    auto_stop_loss: TicksOrderConfig | None = None
    auto_take_profit: TicksOrderConfig | None = None
    breakeven: BreakevenConfig | None = None
    trailing_stop: TrailingStopConfig | None = None


class DailyRealizedProfitConfig(RuleConfig):
    """RULE-013 Daily Realized Profit Target: lock the day once the target is banked."""

    target: Money = Field(gt=0, examples=[1000.0])
    include_unrealized: bool = True
    message: str | None = Field(default=None, max_length=200, examples=["Target reached - done for today."])


#: YAML key -> rule id, in SPEC §3 order.
RULE_IDS: dict[str, str] = {
    "max_contracts": "RULE-001",
    "max_contracts_per_instrument": "RULE-002",
    "daily_realized_loss": "RULE-003",
    "daily_unrealized_loss": "RULE-004",
    "max_unrealized_profit": "RULE-005",
    "trade_frequency_limit": "RULE-006",
    "cooldown_after_loss": "RULE-007",
    "no_stop_loss_grace": "RULE-008",
    "session_block_outside": "RULE-009",
    "auth_loss_guard": "RULE-010",
    "symbol_blocks": "RULE-011",
    "trade_management": "RULE-012",
    "daily_realized_profit": "RULE-013",
}

#: Rule id -> YAML key.
RULE_KEYS: dict[str, str] = {rule_id: key for key, rule_id in RULE_IDS.items()}


def rule_key(rule: str) -> str:
    """The YAML key of a rule named by id (``RULE-003``, any case) or key; ValueError if neither."""
    if rule in RULE_IDS:
        return rule
    key = RULE_KEYS.get(rule.upper())
    if key is None:
        known = ", ".join(f"{rule_id} ({name})" for name, rule_id in RULE_IDS.items())
        raise ValueError(f"unknown rule {rule!r}; known: {known}")
    return key


class RulesConfig(ConfigModel):
    """The ``rules:`` block: one optional block per SPEC §3 rule; absent (``None``) = disabled."""

    max_contracts: MaxContractsConfig | None = None
    max_contracts_per_instrument: MaxContractsPerInstrumentConfig | None = None
    daily_realized_loss: DailyRealizedLossConfig | None = None
    daily_unrealized_loss: DailyUnrealizedLossConfig | None = None
    max_unrealized_profit: MaxUnrealizedProfitConfig | None = None
    trade_frequency_limit: TradeFrequencyLimitConfig | None = None
    cooldown_after_loss: CooldownAfterLossConfig | None = None
    no_stop_loss_grace: NoStopLossGraceConfig | None = None
    session_block_outside: SessionBlockOutsideConfig | None = None
    auth_loss_guard: AuthLossGuardConfig | None = None
    symbol_blocks: SymbolBlocksConfig | None = None
    trade_management: TradeManagementConfig | None = None
    daily_realized_profit: DailyRealizedProfitConfig | None = None

    def get(self, rule: str) -> RuleConfig | None:
        """A rule's block by id (``RULE-003``) or YAML key; ``None`` if absent. ValueError if unknown."""
        block: RuleConfig | None = getattr(self, rule_key(rule))
        return block

    def enabled_rules(self) -> dict[str, RuleConfig]:
        """Blocks that are present and enabled, by rule id, in SPEC §3 order."""
        found = {rule_id: self.get(key) for key, rule_id in RULE_IDS.items()}
        return {rule_id: block for rule_id, block in found.items() if block is not None and block.enabled}


class RiskConfig(ConfigModel):
    """A whole risk_config.yaml (after migration to the current version)."""

    version: Literal[1] = 1
    general: GeneralConfig = Field(default_factory=GeneralConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)

    def warnings(self) -> list[Issue]:
        """Doubtful but valid settings (SPEC §8: they warn, never fail), as (key path, message)."""
        enabled = self.rules.enabled_rules()
        issues = [issue for issue in (self._loss_limits_warning(enabled),) if issue is not None]
        if not enabled:
            issues.append((("rules",), "no rule is enabled: the account is watched but not protected"))
        return issues

    @staticmethod
    def _loss_limits_warning(enabled: dict[str, RuleConfig]) -> Issue | None:
        # A per-position limit at or beyond the daily one rarely acts: the daily lock comes first.
        realized, unrealized = enabled.get("RULE-003"), enabled.get("RULE-004")
        if not isinstance(realized, DailyRealizedLossConfig) or not isinstance(
            unrealized, DailyUnrealizedLossConfig
        ):
            return None
        if unrealized.limit > realized.limit:
            return None
        message = (
            f"{unrealized.limit} <= rules.daily_realized_loss.limit ({realized.limit}): "
            "the daily loss lock usually comes first, so this per-position limit may never act"
        )
        return (("rules", "daily_unrealized_loss", "limit"), message)


__all__ = [
    "RULE_IDS",
    "RULE_KEYS",
    "AuthLossGuardConfig",
    "BackupsConfig",
    "BreakevenConfig",
    "ControlConfig",
    "CooldownAfterLossConfig",
    "DailyRealizedLossConfig",
    "DailyRealizedProfitConfig",
    "DailyReset",
    "DailyUnrealizedLossConfig",
    "FrequencyCooldowns",
    "FrequencyLimits",
    "GeneralConfig",
    "InstrumentSpec",
    "LoggingConfig",
    "LossTier",
    "MaxContractsConfig",
    "MaxContractsPerInstrumentConfig",
    "MaxUnrealizedProfitConfig",
    "MetricsConfig",
    "NoStopLossGraceConfig",
    "RiskConfig",
    "RuleConfig",
    "RulesConfig",
    "SessionBlockOutsideConfig",
    "SessionWindow",
    "SymbolBlocksConfig",
    "TicksOrderConfig",
    "TradeFrequencyLimitConfig",
    "TradeManagementConfig",
    "TrailingStopConfig",
    "WatchdogConfig",
    "rule_key",
]
