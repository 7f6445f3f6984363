"""Which way a config change goes: tighter, looser or neither (SPEC §4.7).

A valid new config set applies at once when it only tightens; anything that lets more
through ("loosening") waits for the next daily reset unless an admin overrides it. This
module compares two validated sets key by key and says, for every effective change,
which way it goes, in words: ``rules.max_contracts.limit 5 -> 8 (looser)``.

Every field of every config model has an entry in :data:`KEYS` (a test fails when a
model gains a field the table does not know), so the direction of a new key is a
decision, never an accident. **When unsure, a change is looser** (the safe side: it
waits for the reset). The choices:

- A rule (or a RULE-012 sub-block) switched off or removed is looser, switched on or
  added tighter, whatever its values; changes inside a block that is off are neutral.
- Limits: a higher max/frequency/poll interval/grace/stop distance, a more negative loss
  limit, a higher profit target, a shorter cooldown, ``null`` (off) for a frequency
  window, a lower breakeven offset are looser.
- Orders of strictness (strictest first): RULE-001 ``count_type`` gross, net;
  ``enforcement`` close_all, reduce_to_limit (closing everything beats cutting the
  excess).
- RULE-002 compares what each symbol may hold (``limits`` -> ``default_limit`` ->
  block/allow), so a removed symbol limit is looser when it falls back to more.
- RULE-007 compares the cooldown every loss would get (deepest matching tier):
  shorter anywhere is looser.
- RULE-011: a pattern removed is looser, only added tighter.
- Any change of a time zone, the reset time, a session window (RULE-009 ``session``,
  ``per_instrument``), ``include_unrealized`` (either way can let a trade through: a
  floating profit offsets a realized loss), ``mark_price``, tick specs, symbol aliases
  or the gateway (another gateway watches other accounts) is looser.
- ``pnl_includes_fees``, ``respect_holidays``, ``close_at_session_end``,
  ``protect_unlisted_accounts``, ``watchdog.flatten_on_stale`` switched off are looser;
  ``allow_admin_unlock`` switched on is looser; a longer ``watchdog.stale_seconds`` is looser.
- Logging, metrics, control API, backups, labels, messages, ``version``: neutral.
- Accounts: removed or disabled is looser, added or enabled tighter; each account's
  effective rules are compared too (its overrides or own file).
- Holidays: a holiday or early close removed is looser, added tighter; a later early
  close is looser; a different time zone is looser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, SecretStr

from risk_manager.config.accounts import AccountEntry, AccountsConfig, GatewayConfig
from risk_manager.config.fields import format_duration
from risk_manager.config.holidays import EarlyClose, Holiday, HolidaysConfig
from risk_manager.config.loader import ConfigSet
from risk_manager.config.problems import KeyPath, format_key
from risk_manager.config.risk import (
    AuthLossGuardConfig,
    BackupsConfig,
    BreakevenConfig,
    ControlConfig,
    CooldownAfterLossConfig,
    DailyRealizedLossConfig,
    DailyRealizedProfitConfig,
    DailyReset,
    DailyUnrealizedLossConfig,
    FrequencyCooldowns,
    FrequencyLimits,
    GeneralConfig,
    InstrumentSpec,
    LoggingConfig,
    LossTier,
    MaxContractsConfig,
    MaxContractsPerInstrumentConfig,
    MaxUnrealizedProfitConfig,
    MetricsConfig,
    NoStopLossGraceConfig,
    RiskConfig,
    RulesConfig,
    SessionBlockOutsideConfig,
    SessionWindow,
    SymbolBlocksConfig,
    TicksOrderConfig,
    TradeFrequencyLimitConfig,
    TradeManagementConfig,
    TrailingStopConfig,
    WatchdogConfig,
)
from risk_manager.control.protocol import Change, ConfigFile, Direction

RISK_FILE: ConfigFile = "risk_config.yaml"
ACCOUNTS_FILE: ConfigFile = "accounts.yaml"
HOLIDAYS_FILE: ConfigFile = "holidays.yaml"
WORDS: dict[str, str] = {"tighten": "tighter", "loosen": "looser", "neutral": "no effect on enforcement"}


@dataclass(frozen=True)
class Delta:
    """One changed key of one model: where (from the file root), the values as shown, which way."""

    path: KeyPath
    old: str
    new: str
    direction: Direction

    @property
    def text(self) -> str:
        return f"{format_key(self.path)} {self.old} -> {self.new} ({WORDS[self.direction]})"


# --------------------------------------------------------------------------- values as shown


def shown(value: Any) -> str:
    """A config value the way the files spell it: ``5m``, ``"17:00"`` as 17:00, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, SecretStr):
        return "****" if value.get_secret_value() else '""'
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return "{" + ", ".join(f"{name}: {shown(getattr(value, name))}" for name in fields) + "}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {shown(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple | frozenset | set):
        return "[" + ", ".join(shown(item) for item in value) + "]"
    return str(value)


# --------------------------------------------------------------------------- comparators


Compare = Callable[[Any, Any], Direction]
"""Old and new value of one key (known to differ) -> which way the change goes."""


def _number(value: Any) -> Decimal:
    """A comparable number; ``None`` (off, unlimited) is infinitely loose."""
    if value is None:
        return Decimal("Infinity")
    if isinstance(value, dt.timedelta):
        return Decimal(int(value.total_seconds()))
    return Decimal(value)


def higher_looser(old: Any, new: Any) -> Direction:
    """Max contracts, frequency limits, grace, stop distance, profit target: more is looser."""
    return "loosen" if _number(new) > _number(old) else "tighten"


def lower_looser(old: Any, new: Any) -> Direction:
    """Loss limits (negative: further from 0), cooldowns, breakeven offset: less is looser."""
    return "loosen" if _number(new) < _number(old) else "tighten"


def off_looser(old: Any, new: Any) -> Direction:
    """A safeguard flag: turning it off is looser."""
    return "loosen" if not new else "tighten"


def on_looser(old: Any, new: Any) -> Direction:
    """A permission flag (``allow_admin_unlock``): turning it on is looser."""
    return "loosen" if new else "tighten"


def any_looser(old: Any, new: Any) -> Direction:
    """Keys where no direction is safe to assume (time zones, windows, tick specs): looser."""
    return "loosen"


def neutral(old: Any, new: Any) -> Direction:
    """Keys that change no enforcement (logging, ports, labels)."""
    return "neutral"


def strictness(*strict_to_loose: str) -> Compare:
    """A choice ordered from the strictest to the loosest value."""

    def compare(old: Any, new: Any) -> Direction:
        return "loosen" if strict_to_loose.index(new) > strict_to_loose.index(old) else "tighten"

    return compare


def fewer_looser(old: Any, new: Any) -> Direction:
    """A list of blocked things: an entry removed is looser (even if another is added)."""
    return "loosen" if set(old) - set(new) else "tighten" if set(new) - set(old) else "neutral"


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Leaf:
    """A key compared by its value."""

    compare: Compare

    def deltas(self, path: KeyPath, old: BaseModel, new: BaseModel, live: bool) -> list[Delta]:
        name = path[-1]
        before, after = getattr(old, str(name)), getattr(new, str(name))
        if before == after:
            return []
        return [Delta(path, shown(before), shown(after), self.compare(before, after) if live else "neutral")]


@dataclass(frozen=True)
class Block:
    """A nested model, compared key by key. A ``switch`` (a rule block, a RULE-012 sub-block)
    is on when present and ``enabled``: off/absent vs on decides the direction, whatever the
    values; inside a switch that is on, its own keys do; inside one that is off, nothing counts."""

    switch: bool = False

    def deltas(self, path: KeyPath, old: BaseModel, new: BaseModel, live: bool) -> list[Delta]:
        name = str(path[-1])
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            return []
        if not self.switch:
            return compare_models(path, before, after, live)
        was, now = _is_on(before), _is_on(after)
        if was and now:
            return compare_models(path, before, after, live)
        if was != now:
            direction: Direction = ("tighten" if now else "loosen") if live else "neutral"
            return [Delta(path, _state(before), _state(after), direction)]
        if before is not None and after is not None:
            return compare_models(path, before, after, live=False)
        return [Delta(path, _state(before), _state(after), "neutral")]


def _is_on(block: BaseModel | None) -> bool:
    return block is not None and bool(getattr(block, "enabled", True))


def _state(block: BaseModel | None) -> str:
    if block is None:
        return "absent"
    return "enabled" if _is_on(block) else "disabled"


@dataclass(frozen=True)
class Covered:
    """A key compared together with another one (``by``), or by ``classify`` itself."""

    by: str

    def deltas(self, path: KeyPath, old: BaseModel, new: BaseModel, live: bool) -> list[Delta]:
        return []


@dataclass(frozen=True)
class Custom:
    """A key whose direction needs its whole model (RULE-002 fall-backs, RULE-007 tiers)."""

    compare: Callable[[KeyPath, Any, Any], list[Delta]]

    def deltas(self, path: KeyPath, old: BaseModel, new: BaseModel, live: bool) -> list[Delta]:
        found = self.compare(path, old, new)
        return found if live else [replace(delta, direction="neutral") for delta in found]


Key = Leaf | Block | Covered | Custom


def _symbol_limits(path: KeyPath, old: MaxContractsPerInstrumentConfig, new: Any) -> list[Delta]:
    """RULE-002: what each listed symbol may hold, through the fall-backs (None = unlimited)."""
    deltas: list[Delta] = []
    for symbol in sorted(set(old.limits) | set(new.limits)):
        if old.limits.get(symbol) == new.limits.get(symbol):
            continue
        before, after = old.limit_for(symbol), new.limit_for(symbol)
        direction = "neutral" if before == after else higher_looser(before, after)
        deltas.append(
            Delta((*path, symbol), _symbol_limit(old, symbol), _symbol_limit(new, symbol), direction)
        )
    return deltas


def _symbol_limit(config: MaxContractsPerInstrumentConfig, symbol: str) -> str:
    if symbol in config.limits:
        return str(config.limits[symbol])
    limit = config.limit_for(symbol)
    return f"unlisted ({'unlimited' if limit is None else limit})"


def _unlisted(config: MaxContractsPerInstrumentConfig) -> int | None:
    return config.default_limit if config.default_limit is not None else (
        0 if config.unknown_symbol_action == "block" else None
    )  # fmt: skip


def _unlisted_limit(path: KeyPath, old: MaxContractsPerInstrumentConfig, new: Any) -> list[Delta]:
    """RULE-002 ``default_limit`` + ``unknown_symbol_action``: what an unlisted symbol may hold."""
    keys = ("default_limit", "unknown_symbol_action")
    if all(getattr(old, key) == getattr(new, key) for key in keys):
        return []
    before, after = _unlisted(old), _unlisted(new)
    direction = "neutral" if before == after else higher_looser(before, after)
    changed = [key for key in keys if getattr(old, key) != getattr(new, key)]
    return [
        Delta(
            (*path[:-1], changed[0]),
            f"{shown(getattr(old, changed[0]))} (unlisted symbols: {_unlimited(before)})",
            f"{shown(getattr(new, changed[0]))} (unlisted symbols: {_unlimited(after)})",
            direction,
        )
    ]


def _unlimited(limit: int | None) -> str:
    return "unlimited" if limit is None else "blocked" if limit == 0 else f"{limit}"


def _cooldown_of(tiers: Sequence[LossTier], loss: Decimal) -> dt.timedelta:
    """RULE-007: the deepest tier the loss reaches decides (no tier: no cooldown)."""
    reached = [tier for tier in tiers if loss <= tier.loss_amount]
    return min(reached, key=lambda tier: tier.loss_amount).duration if reached else dt.timedelta(0)


def _tiers(path: KeyPath, old: CooldownAfterLossConfig, new: Any) -> list[Delta]:
    """RULE-007: compare the cooldown every loss gets; it only changes at a tier's amount."""
    if old.tiers == new.tiers:
        return []
    amounts = {tier.loss_amount for tier in [*old.tiers, *new.tiers]}
    before = [_cooldown_of(old.tiers, amount) for amount in amounts]
    after = [_cooldown_of(new.tiers, amount) for amount in amounts]
    if any(b > a for b, a in zip(before, after, strict=True)):
        direction: Direction = "loosen"
    elif any(a > b for b, a in zip(before, after, strict=True)):
        direction = "tighten"
    else:
        direction = "neutral"
    return [Delta(path, _tier_text(old.tiers), _tier_text(new.tiers), direction)]


def _tier_text(tiers: Sequence[LossTier]) -> str:
    return "[" + ", ".join(f"{tier.loss_amount}: {format_duration(tier.duration)}" for tier in tiers) + "]"


def _per_key_any(path: KeyPath, old: Any, new: Any) -> list[Delta]:
    """A mapping (per symbol) where any change is looser: one change per key."""
    name = str(path[-1])
    before: Mapping[str, Any] = getattr(old, name)
    after: Mapping[str, Any] = getattr(new, name)
    return [
        Delta((*path, key), shown(before.get(key, "absent")), shown(after.get(key, "absent")), "loosen")
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def _holidays(path: KeyPath, old: HolidaysConfig, new: Any) -> list[Delta]:
    """A holiday removed lets a session open (looser); one added closes it (tighter)."""
    before, after = old.holiday_dates(), new.holiday_dates()
    deltas: list[Delta] = []
    for day in sorted(set(before) | set(after)):
        if day not in after:
            where = (*path, _index(new.holidays, day, old.holidays))
            deltas.append(Delta(where, day.isoformat(), "removed", "loosen"))
        elif day not in before:
            deltas.append(Delta((*path, _index(new.holidays, day)), "absent", day.isoformat(), "tighten"))
        elif before[day] != after[day]:
            deltas.append(Delta((*path, _index(new.holidays, day)), before[day], after[day], "neutral"))
    return deltas


def _early_closes(path: KeyPath, old: HolidaysConfig, new: Any) -> list[Delta]:
    """An early close removed or made later lets trading run longer (looser)."""
    before = {close.date: close for close in old.early_closes}
    after = {close.date: close for close in new.early_closes}
    deltas: list[Delta] = []
    for day in sorted(set(before) | set(after)):
        where = (*path, _index(new.early_closes, day, old.early_closes))
        was, now = before.get(day), after.get(day)
        if now is None and was is not None:
            deltas.append(Delta(where, _close(was), "removed", "loosen"))
        elif was is None and now is not None:
            deltas.append(Delta(where, "absent", _close(now), "tighten"))
        elif was is not None and now is not None and was != now:
            direction: Direction = (
                "neutral" if was.close_time == now.close_time else higher_looser(_minutes(was), _minutes(now))
            )
            deltas.append(Delta(where, _close(was), _close(now), direction))
    return deltas


def _close(close: EarlyClose) -> str:
    return f"{close.date} {shown(close.close_time)}" + (f" ({close.name})" if close.name else "")


def _minutes(close: EarlyClose) -> int:
    return close.close_time.hour * 60 + close.close_time.minute


def _index(
    entries: Sequence[Holiday | EarlyClose], day: dt.date, fallback: Sequence[Holiday | EarlyClose] = ()
) -> int:
    """Where a date sits in the new list (else in the old one, for a removed date)."""
    for source in (entries, fallback):
        for index, entry in enumerate(source):
            if entry.date == day:
                return index
    return 0


_BLOCK = Block()
_SWITCH = Block(switch=True)

#: Every field of every config model -> how a change of it is classified. Complete by test.
KEYS: dict[type[BaseModel], dict[str, Key]] = {
    RiskConfig: {"version": Leaf(neutral), "general": _BLOCK, "rules": _BLOCK},
    GeneralConfig: {
        "daily_reset": _BLOCK,
        "pnl_includes_fees": Leaf(off_looser),
        "mark_price": Leaf(any_looser),
        "allow_admin_unlock": Leaf(on_looser),
        "instruments": Custom(_per_key_any),
        "symbol_aliases": Custom(_per_key_any),
        "logging": _BLOCK,
        "protect_unlisted_accounts": Leaf(off_looser),
        "control": _BLOCK,
        "metrics": _BLOCK,
        "watchdog": _BLOCK,
        "backups": _BLOCK,
    },
    DailyReset: {"time": Leaf(any_looser), "timezone": Leaf(any_looser)},
    InstrumentSpec: {
        "tick_size": Covered("general.instruments"),
        "tick_value": Covered("general.instruments"),
    },
    LoggingConfig: {name: Leaf(neutral) for name in ("level", "retention_days", "max_bytes", "backups")},
    ControlConfig: {"host": Leaf(neutral), "port": Leaf(neutral)},
    MetricsConfig: {"enabled": Leaf(neutral), "port": Leaf(neutral)},
    WatchdogConfig: {"stale_seconds": Leaf(higher_looser), "flatten_on_stale": Leaf(off_looser)},
    BackupsConfig: {"keep": Leaf(neutral)},
    RulesConfig: {name: _SWITCH for name in RulesConfig.model_fields},
    MaxContractsConfig: {
        "enabled": Covered("the block's switch"),
        "limit": Leaf(higher_looser),
        "count_type": Leaf(strictness("gross", "net")),
        "enforcement": Leaf(strictness("close_all", "reduce_to_limit")),
    },
    MaxContractsPerInstrumentConfig: {
        "enabled": Covered("the block's switch"),
        "limits": Custom(_symbol_limits),
        "default_limit": Custom(_unlisted_limit),
        "unknown_symbol_action": Covered("default_limit"),
        "enforcement": Leaf(strictness("close_all", "reduce_to_limit")),
    },
    DailyRealizedLossConfig: {
        "enabled": Covered("the block's switch"),
        "limit": Leaf(lower_looser),
        "include_unrealized": Leaf(any_looser),
    },
    DailyUnrealizedLossConfig: {"enabled": Covered("the block's switch"), "limit": Leaf(lower_looser)},
    MaxUnrealizedProfitConfig: {"enabled": Covered("the block's switch"), "target": Leaf(higher_looser)},
    TradeFrequencyLimitConfig: {
        "enabled": Covered("the block's switch"),
        "limits": _BLOCK,
        "cooldowns": _BLOCK,
    },
    FrequencyLimits: {name: Leaf(higher_looser) for name in ("per_minute", "per_hour", "per_session")},
    FrequencyCooldowns: {name: Leaf(lower_looser) for name in ("per_minute", "per_hour", "per_session")},
    CooldownAfterLossConfig: {"enabled": Covered("the block's switch"), "tiers": Custom(_tiers)},
    LossTier: {"loss_amount": Covered("tiers"), "duration": Covered("tiers")},
    NoStopLossGraceConfig: {
        "enabled": Covered("the block's switch"),
        "grace_period_seconds": Leaf(higher_looser),
    },
    SessionBlockOutsideConfig: {
        "enabled": Covered("the block's switch"),
        "session": _BLOCK,
        "per_instrument": Custom(_per_key_any),
        "respect_holidays": Leaf(off_looser),
        "close_at_session_end": Leaf(off_looser),
    },
    SessionWindow: {name: Leaf(any_looser) for name in ("start", "end", "timezone", "days")},
    AuthLossGuardConfig: {
        "enabled": Covered("the block's switch"),
        "poll_interval_seconds": Leaf(higher_looser),
    },
    SymbolBlocksConfig: {"enabled": Covered("the block's switch"), "blocked_symbols": Leaf(fewer_looser)},
    TradeManagementConfig: {
        "enabled": Covered("the block's switch"),
        "auto_stop_loss": _SWITCH,
        "auto_take_profit": _SWITCH,
        "breakeven": _SWITCH,
        "trailing_stop": _SWITCH,
    },
    TicksOrderConfig: {"enabled": Covered("the block's switch"), "ticks": Leaf(higher_looser)},
    BreakevenConfig: {
        "enabled": Covered("the block's switch"),
        "trigger_ticks": Leaf(higher_looser),
        "offset_ticks": Leaf(lower_looser),
    },
    TrailingStopConfig: {
        "enabled": Covered("the block's switch"),
        "activation_ticks": Leaf(higher_looser),
        "trail_ticks": Leaf(higher_looser),
    },
    DailyRealizedProfitConfig: {
        "enabled": Covered("the block's switch"),
        "target": Leaf(higher_looser),
        "include_unrealized": Leaf(any_looser),
        "message": Leaf(neutral),
    },
    AccountsConfig: {
        "version": Leaf(neutral),
        "gateway": _BLOCK,
        "accounts": Covered("classify: per account"),
    },
    GatewayConfig: {
        name: Leaf(any_looser)
        for name in ("firm", "api_url", "user_hub_url", "market_hub_url", "username", "api_key")
    },
    AccountEntry: {
        "id": Covered("classify: identity"),
        "name": Covered("classify: identity"),
        "label": Covered("classify: neutral"),
        "enabled": Covered("classify: enabled = added, disabled = removed"),
        "overrides": Covered("classify: the account's effective rules"),
        "risk_config_file": Covered("classify: the account's effective rules"),
    },
    HolidaysConfig: {
        "version": Leaf(neutral),
        "timezone": Leaf(any_looser),
        "holidays": Custom(_holidays),
        "early_closes": Custom(_early_closes),
    },
    Holiday: {"date": Covered("holidays"), "name": Covered("holidays")},
    EarlyClose: {
        "date": Covered("early_closes"),
        "close_time": Covered("early_closes"),
        "name": Covered("early_closes"),
    },
}


def compare_models(path: KeyPath, old: BaseModel, new: BaseModel, live: bool = True) -> list[Delta]:
    """Every changed key of two models of one type, by :data:`KEYS`; ``live`` False makes them
    neutral (the block they sit in is off). A field missing from the table counts as looser."""
    table = KEYS.get(type(old), {})
    deltas: list[Delta] = []
    for name in type(old).model_fields:
        key = table.get(name, Leaf(any_looser))
        deltas += key.deltas((*path, name), old, new, live)
    return deltas


# --------------------------------------------------------------------------- config sets


def _change(delta: Delta, file: ConfigFile, path: KeyPath, account: str | None = None) -> Change:
    text = delta.text if account is None else f"{delta.text} for account {account}"
    return Change(text=text, direction=delta.direction, file=file, path=list(path), account=account)


def _accounts(old: ConfigSet, new: ConfigSet, base: list[Delta]) -> list[Change]:
    """Accounts added, removed, switched, and each kept account's effective rules."""
    before = {entry.ref: (index, entry) for index, entry in enumerate(old.accounts.accounts)}
    after = {entry.ref: (index, entry) for index, entry in enumerate(new.accounts.accounts)}
    changes: list[Change] = []
    for ref, (index, entry) in before.items():
        if ref not in after:
            changes.append(_account_change(index, entry, "removed", "loosen" if entry.enabled else "neutral"))
    for ref, (index, entry) in after.items():
        if ref not in before:
            changes.append(_account_change(index, entry, "added", "tighten" if entry.enabled else "neutral"))
            continue
        changes += _kept_account(old, new, before[ref][1], entry, index, base)
    return changes


def _account_change(index: int, entry: AccountEntry, what: str, direction: Direction) -> Change:
    name = f"{entry.display} ({entry.ref})" if entry.display != str(entry.ref) else entry.display
    text = f"account {name} {what}{'' if entry.enabled else ' (disabled)'} ({WORDS[direction]})"
    return Change(
        text=text, direction=direction, file=ACCOUNTS_FILE, path=["accounts", index], account=str(entry.ref)
    )


def _kept_account(
    old: ConfigSet, new: ConfigSet, was: AccountEntry, entry: AccountEntry, index: int, base: list[Delta]
) -> list[Change]:
    ref = str(entry.ref)
    changes: list[Change] = []
    if was.enabled != entry.enabled:
        path: KeyPath = ("accounts", index, "enabled")
        delta = Delta(
            path, shown(was.enabled), shown(entry.enabled), "tighten" if entry.enabled else "loosen"
        )
        changes.append(_change(delta, ACCOUNTS_FILE, path, ref))
    if was.label != entry.label:
        path = ("accounts", index, "label")
        changes.append(
            _change(Delta(path, shown(was.label), shown(entry.label), "neutral"), ACCOUNTS_FILE, path, ref)
        )
    if not (was.enabled and entry.enabled):
        return changes  # switched on/off above; a disabled account's rules protect nobody
    known = {(delta.path, delta.old, delta.new) for delta in base}
    for delta in compare_models((), old.effective_risk(was), new.effective_risk(entry)):
        if (delta.path, delta.old, delta.new) not in known:
            changes.append(_change(delta, ACCOUNTS_FILE, _account_source(entry, index, delta.path), ref))
    return changes


def _account_source(entry: AccountEntry, index: int, path: KeyPath) -> KeyPath:
    """Where an account's own change comes from: its overrides, else its own rules file."""
    if entry.overrides is not None:
        return ("accounts", index, "overrides", *path)
    if entry.risk_config_file is not None:
        return ("accounts", index, "risk_config_file")
    return ("accounts", index)


def classify(old: ConfigSet, new: ConfigSet) -> list[Change]:
    """Every effective change from ``old`` (in force) to ``new``, with its direction (SPEC §4.7).

    Base rules and ``general`` come once (``account`` None, risk_config.yaml); an account's
    own changes (its overrides or rules file, added/removed/switched) name the account;
    holidays.yaml absent counts as an empty file. Order: risk_config.yaml, accounts.yaml,
    holidays.yaml, each in model field order.
    """
    base = compare_models((), old.risk, new.risk)
    changes = [_change(delta, RISK_FILE, delta.path) for delta in base]
    changes += [
        _change(delta, ACCOUNTS_FILE, delta.path) for delta in compare_models((), old.accounts, new.accounts)
    ]
    changes += _accounts(old, new, base)
    holidays_before = old.holidays or HolidaysConfig()
    holidays_after = new.holidays or HolidaysConfig()
    changes += [
        _change(delta, HOLIDAYS_FILE, delta.path)
        for delta in compare_models((), holidays_before, holidays_after)
    ]
    return changes


def is_loosening(changes: Sequence[Change]) -> bool:
    """True if any change lets more through: the set waits for the reset (SPEC §4.7)."""
    return any(change.direction == "loosen" for change in changes)


__all__ = [
    "KEYS",
    "WORDS",
    "Block",
    "Covered",
    "Custom",
    "Delta",
    "Leaf",
    "classify",
    "compare_models",
    "is_loosening",
    "shown",
]
