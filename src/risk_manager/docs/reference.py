"""The configuration reference, generated from the pydantic models of the three config files.

Every key's type, default and allowed range come from the model itself (its annotation,
``Field`` bounds, ``Literal`` choices, default); its meaning comes from the field's own
``description`` when the config package gives one, else from :data:`DESCRIPTIONS` below,
keyed ``Model.field`` so a block used in several places (a session window, a tick spec)
is explained once. A test fails when a field has neither, when a catalog entry names a
field that no longer exists, or when the generated page misses a key, so adding a config
key without documenting it breaks the build of the manual, not the trader's night.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from risk_manager.config.accounts import AccountsConfig
from risk_manager.config.fields import (
    ClockTime,
    Duration,
    IsoDate,
    Money,
    Symbol,
    SymbolPattern,
    TimeZoneName,
    format_duration,
)
from risk_manager.config.holidays import HolidaysConfig
from risk_manager.config.messages import FieldFacts, describe_range
from risk_manager.config.risk import RiskConfig

#: The three files a config dir holds, with the model that validates each.
CONFIG_FILES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("accounts.yaml", AccountsConfig),
    ("risk_config.yaml", RiskConfig),
    ("holidays.yaml", HolidaysConfig),
)

#: Placeholder of a mapping's key in a key path: ``general.instruments.<SYMBOL>.tick_size``.
SYMBOL_KEY = "<SYMBOL>"


def _marker(alias: Any) -> tuple[Any, ...]:
    """The metadata objects an ``Annotated`` alias adds; a field carrying them is of that alias."""
    return tuple(get_args(alias)[1:])


#: Our annotated field types, recognised by their validator objects, as a trader would name them.
_ALIASES: tuple[tuple[tuple[Any, ...], str], ...] = (
    (_marker(Money), "number"),
    (_marker(Duration), "duration: seconds, or `30s`, `5m`, `1h`"),
    (_marker(ClockTime), 'time `"HH:MM"` (24 h, quoted)'),
    (_marker(IsoDate), "date `YYYY-MM-DD`"),
    (_marker(TimeZoneName), "time zone (IANA name)"),
    (_marker(SymbolPattern), "symbol or wildcard"),
    (_marker(Symbol), "symbol"),
)

_PLAIN_TYPES: dict[Any, str] = {
    bool: "true/false",
    int: "integer",
    float: "number",
    Decimal: "number",
    str: "text",
    SecretStr: "text (secret)",
    timedelta: "duration",
    time: "time",
    date: "date",
}


@dataclass(frozen=True, slots=True)
class KeyDoc:
    """One key of a config file as the reference shows it."""

    path: str
    """Dotted key path in its file, e.g. ``rules.max_contracts.limit``."""
    owner: str
    """``Model.field``: where its description lives in :data:`DESCRIPTIONS`."""
    type: str
    allowed: str
    """Range, choices or lengths ("" when any value of the type will do)."""
    nullable: bool
    default: str
    example: str | None
    description: str | None

    @property
    def name(self) -> str:
        """The key's own name (last part of the path)."""
        return self.path.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class Section:
    """One block of a file (a model): its path, summary and keys."""

    file: str
    path: str
    """Dotted path of the block ("" = the top of the file)."""
    summary: str
    keys: list[KeyDoc] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """HTML id of the block's heading, stable for links from other pages."""
        stem = self.file.removesuffix(".yaml").replace("_", "-")
        if not self.path:
            return stem
        return (stem + "-" + self.path).replace(".", "-").replace("[]", "").replace(SYMBOL_KEY, "symbol")

    @property
    def title(self) -> str:
        """Heading text: the block's path, or the file name for the top level."""
        return f"`{self.path}`" if self.path else f"`{self.file}` (top level)"


# --------------------------------------------------------------------------- type analysis


def _split(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any], bool]:
    """Strip ``Annotated`` and ``X | None``: the inner type, all metadata, and whether null is allowed."""
    nullable = False
    metadata = list(metadata)
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extras = get_args(annotation)
            for extra in extras:
                metadata.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            nullable = nullable or len(members) < len(get_args(annotation))
            if len(members) != 1:
                return annotation, metadata, nullable
            annotation = members[0]
        else:
            return annotation, metadata, nullable


def _alias_name(metadata: list[Any]) -> str | None:
    for marker, name in _ALIASES:
        if marker and all(any(item is m for item in metadata) for m in marker):
            return name
    return None


def _annotated_parts(annotation: Any) -> tuple[Any, list[Any]]:
    """A container argument (``dict[Symbol, X]``) keeps its ``Annotated`` metadata: split it off."""
    if get_origin(annotation) is Annotated:
        inner, *extras = get_args(annotation)
        metadata: list[Any] = []
        for extra in extras:
            metadata.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
        return inner, metadata
    return annotation, []


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _type_name(annotation: Any, metadata: list[Any]) -> str:
    """What kind of value a key holds, in a trader's words."""
    alias = _alias_name(metadata)
    if alias is not None:
        return alias
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of"
    if origin is list:
        inner, inner_meta = _annotated_parts(get_args(annotation)[0])
        inner, more, _ = _split(inner, inner_meta)
        if _is_model(inner):
            return "list of blocks (below)"
        if get_origin(inner) is Literal:
            return "list, each one of"
        return f"list of: {_type_name(inner, more)}"
    if origin is dict:
        key, value = get_args(annotation)
        key, key_meta = _annotated_parts(key)
        value, value_meta = _annotated_parts(value)
        value, more, _ = _split(value, value_meta)
        key_name = _type_name(key, key_meta)
        if value is Any:
            return "mapping"
        value_name = "block (below)" if _is_model(value) else _type_name(value, more)
        return f"mapping: {key_name} → {value_name}"
    if _is_model(annotation):
        return "block (below)"
    return _PLAIN_TYPES.get(annotation, "value")


def _allowed(annotation: Any, metadata: list[Any]) -> str:
    """Range, choices or length limits ("" when the type says it all)."""
    parts: list[str] = []
    origin = get_origin(annotation)
    if origin is Literal:
        parts.append(", ".join(f"`{choice}`" for choice in get_args(annotation)))
    elif origin is list:
        inner, inner_meta = _annotated_parts(get_args(annotation)[0])
        inner, more, _ = _split(inner, inner_meta)
        if get_origin(inner) is Literal:
            parts.append(", ".join(f"`{choice}`" for choice in get_args(inner)))
    elif origin is dict:
        value, value_meta = _annotated_parts(get_args(annotation)[1])
        value, more, _ = _split(value, value_meta)
        value_range = describe_range(FieldFacts(metadata=more))
        if value_range:
            parts.append(f"values {value_range}")
    bounds = describe_range(FieldFacts(metadata=metadata))
    if bounds:
        parts.append(bounds)
    lengths = _lengths(metadata, "characters" if annotation is str else "entries")
    if lengths:
        parts.append(lengths)
    return "; ".join(parts)


_SINGULAR = {"characters": "character", "entries": "entry"}


def _lengths(metadata: list[Any], unit: str) -> str:
    low = next((m.min_length for m in metadata if hasattr(m, "min_length")), None)
    high = next((m.max_length for m in metadata if hasattr(m, "max_length")), None)
    if low is not None and high is not None:
        return f"{low}..{high} {unit}"
    if high is not None:
        return f"at most {high} {unit}"
    if low is not None:
        return f"at least {low} {_SINGULAR[unit] if low == 1 else unit}"
    return ""


# --------------------------------------------------------------------------- values


def plain(value: Any) -> Any:
    """A Python default as the YAML a trader would write (durations ``5m``, times ``17:00``)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, BaseModel):
        return {key: plain(item) for key, item in value}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    return value


def yaml_value(value: Any) -> str:
    """One value in YAML flow style, as it would appear after ``key:``."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        return value  # the models' examples spell collections as YAML already
    if isinstance(value, str) and _CLOCK.match(value):
        return f'"{value}"'  # HH:MM unquoted can read as a number in YAML 1.1: always quote times
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value  # as the sample files write dates
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    if len(text) > 1 and text[0] == text[-1] == "'" and '"' not in text:
        text = f'"{text[1:-1]}"'  # the sample files quote times with double quotes: "17:00"
    return text


def _default(info: FieldInfo, inner: Any) -> str:
    if info.is_required():
        return "**required**"
    factory = info.default_factory
    value = factory() if factory is not None else info.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return "**required**"
    if _is_model(inner) and isinstance(value, BaseModel):
        return "the defaults below"
    if value is None and _is_model(inner):
        return "absent (off)"
    return f"`{yaml_value(plain(value))}`"


def _example(name: str, info: FieldInfo, owner: str) -> str | None:
    if info.examples:
        value: Any = info.examples[0]
    elif owner in EXAMPLES:
        value = EXAMPLES[owner]
    elif not info.is_required() and info.default_factory is None and info.default is not None:
        value = plain(info.default)
    else:
        return None
    return f"{name}: {yaml_value(plain(value))}"


# --------------------------------------------------------------------------- walking the models


_CLOCK = re.compile(r"^\d{1,2}:\d{2}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPEC_REF = re.compile(r"\s*\(SPEC §[\d.]+(?:, [^)]*)?\)|\s*with SPEC §[\d.]+'s default")


def _model_summary(model: type[BaseModel]) -> str:
    """The model docstring's first paragraph, in Markdown, without the SPEC section numbers."""
    doc = (model.__doc__ or "").strip().split("\n\n", 1)[0].replace("\n", " ")
    return _SPEC_REF.sub("", doc).replace("``", "`")


def _walk(file: str, model: type[BaseModel], path: str) -> Iterator[Section]:
    """The block of ``model`` at ``path`` and, after it, every block nested in it (depth first)."""
    section = Section(file, path, _model_summary(model))
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        key_path = f"{path}.{name}" if path else name
        owner = f"{model.__name__}.{name}"
        inner, metadata, nullable = _split(info.annotation, list(info.metadata))
        section.keys.append(
            KeyDoc(
                path=key_path,
                owner=owner,
                type=_type_name(inner, metadata),
                allowed=_allowed(inner, metadata),
                nullable=nullable,
                default=_default(info, inner),
                example=_example(name, info, owner),
                description=info.description or DESCRIPTIONS.get(owner),
            )
        )
        child = _child_model(inner)
        if child is not None:
            nested.append((key_path + child[1], child[0]))
    yield section
    for child_path, child_model in nested:
        yield from _walk(file, child_model, child_path)


def _child_model(annotation: Any) -> tuple[type[BaseModel], str] | None:
    """A nested block's model and the path suffix: ``""``, ``"[]"`` for a list, ``.<SYMBOL>`` for a map."""
    if _is_model(annotation):
        return annotation, ""
    origin = get_origin(annotation)
    if origin is list:
        inner, _ = _annotated_parts(get_args(annotation)[0])
        inner, _, _ = _split(inner, [])
        return (inner, "[]") if _is_model(inner) else None
    if origin is dict:
        inner, _ = _annotated_parts(get_args(annotation)[1])
        inner, _, _ = _split(inner, [])
        return (inner, f".{SYMBOL_KEY}") if _is_model(inner) else None
    return None


def file_sections(file: str) -> list[Section]:
    """Every block of one config file, top level first."""
    model = dict(CONFIG_FILES)[file]
    return list(_walk(file, model, ""))


def all_sections() -> list[Section]:
    """Every block of the three files."""
    return [section for file, _ in CONFIG_FILES for section in file_sections(file)]


def section_for(path: str, file: str = "risk_config.yaml") -> list[Section]:
    """The block at ``path`` and the blocks nested in it (a rule's page shows its own keys)."""
    return [s for s in file_sections(file) if s.path == path or s.path.startswith(path + ".")]


def all_keys() -> list[KeyDoc]:
    """Every key of every file."""
    return [key for section in all_sections() for key in section.keys]


def missing_descriptions() -> list[str]:
    """``Model.field`` of every key with no description (the reference test wants none)."""
    return sorted({key.owner for key in all_keys() if not key.description})


def missing_examples() -> list[str]:
    """``Model.field`` of every key with no example (the reference test wants none)."""
    return sorted({key.owner for key in all_keys() if key.example is None})


def stale_catalog_entries() -> list[str]:
    """Catalog entries naming a field that no longer exists (or that now documents itself)."""
    owners = {key.owner for key in all_keys()}
    return sorted((set(DESCRIPTIONS) | set(EXAMPLES)) - owners)


# --------------------------------------------------------------------------- markdown


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_sections(sections: list[Section], level: int = 3) -> str:
    """Markdown: one heading and one table per block."""
    out: list[str] = []
    hashes = "#" * level
    for section in sections:
        out.append(f"{hashes} {section.title} {{#{section.anchor}}}\n")
        if section.summary:
            out.append(f"{section.summary}\n")
        out.append("| Key | What it does | Type and allowed values | Default | Example |")
        out.append("|---|---|---|---|---|")
        for key in section.keys:
            allowed = f"{key.type}: {key.allowed}" if key.allowed else key.type
            allowed += ", or `null`" if key.nullable else ""
            example = f"`{key.example}`" if key.example else "—"
            out.append(
                f"| `{key.name}` | {_cell(key.description or '**undocumented**')} | {_cell(allowed)} "
                f"| {_cell(key.default)} | {_cell(example)} |"
            )
        out.append("")
    return "\n".join(out)


def config_reference() -> str:
    """The whole reference: the three files, each block with every key."""
    out: list[str] = []
    for file, _ in CONFIG_FILES:
        out.append(f"## {file}\n")
        out.append(FILE_INTROS[file] + "\n")
        out.append(render_sections(file_sections(file)))
    return "\n".join(out)


FILE_INTROS: dict[str, str] = {
    "accounts.yaml": (
        "Which gateway to talk to, with which login, and which accounts to protect. "
        "Required; at least one account must be enabled."
    ),
    "risk_config.yaml": (
        "The `general` settings and the thirteen rules. Required. A rule block you leave out is "
        "off; a block you write needs `enabled`."
    ),
    "holidays.yaml": (
        "Optional. Exchange holidays and early closes that win over the built-in exchange "
        "calendars (RULE-009). Dates are *trading dates*: the date the session would close."
    ),
}


#: What each key means, by ``Model.field``, for fields whose model gives no ``description``.
DESCRIPTIONS: dict[str, str] = {
    # accounts.yaml
    "AccountsConfig.version": "File format version. Leave it at 1; older files are upgraded on load.",
    "AccountsConfig.gateway": "The ProjectX gateway and your login.",
    "AccountsConfig.accounts": "The accounts to protect, each by `id` or `name`.",
    "GatewayConfig.firm": (
        "Your firm's gateway: `topstepx` for TopstepX, `simulator` for the local simulator on port 8765, "
        "or `custom` with the three URLs below."
    ),
    "GatewayConfig.api_url": (
        "REST address of the gateway; only to override the firm's (https; http only to 127.0.0.1)."
    ),
    "GatewayConfig.user_hub_url": "Address of the user hub (your orders, fills, positions); https or wss.",
    "GatewayConfig.market_hub_url": "Address of the market hub (quotes); https or wss.",
    "GatewayConfig.username": (
        "Your ProjectX username. `PROJECT_X_USERNAME` in the environment wins over it."
    ),
    "GatewayConfig.api_key": (
        "Your ProjectX API key. Leave it empty and keep the key in the OS keyring (or `secrets.yaml`); "
        "`PROJECT_X_API_KEY` in the environment wins over both."
    ),
    "AccountEntry.id": "The account's number at the broker. Give `id` or `name`.",
    "AccountEntry.name": "The account's name at the broker (e.g. `PRAC-V2-…`), looked up at start-up.",
    "AccountEntry.label": "Your own name for the account, shown on the status screen and in logs.",
    "AccountEntry.enabled": "`false` stops protecting this account without deleting its entry.",
    "AccountEntry.overrides": (
        "Changes to risk_config.yaml for this account only, merged over it (mappings merge, lists replace)."
    ),
    "AccountEntry.risk_config_file": (
        "This account's own rules file, relative to the config dir (instead of `overrides`, not both)."
    ),
    # risk_config.yaml
    "RiskConfig.version": "File format version. Leave it at 1.",
    "RiskConfig.general": "Settings for the whole program.",
    "RiskConfig.rules": "The thirteen rules; leave a block out to turn that rule off.",
    "GeneralConfig.daily_reset": "When the trading day ends and a new one starts, every calendar day.",
    "GeneralConfig.pnl_includes_fees": "`true`: P&L is net of fees (as TopstepX counts); `false`: gross.",
    "GeneralConfig.mark_price": (
        "Price used for unrealized P&L: the `last` trade, or the `mid` of bid and ask."
    ),
    "GeneralConfig.allow_admin_unlock": (
        "`false` refuses `risk-admin unlock` and `reset-day`: no break-glass."
    ),
    "GeneralConfig.instruments": (
        "Tick size and value per symbol; they win over the broker's and the built-in table."
    ),
    "GeneralConfig.symbol_aliases": (
        "Extra ProjectX root → symbol names (EP→ES, ENQ→NQ, CLE→CL… are built in)."
    ),
    "GeneralConfig.logging": "The daemon's log file: level, rotation, retention.",
    "GeneralConfig.protect_unlisted_accounts": (
        "`true`: every other account your API key can see gets these rules too."
    ),
    "GeneralConfig.control": "Where the daemon listens for `risk-admin` (loopback only).",
    "GeneralConfig.metrics": "Prometheus metrics endpoint (loopback).",
    "GeneralConfig.watchdog": "The dead-man check that notices when the daemon stops beating.",
    "GeneralConfig.backups": "Daily copies of the database.",
    "DailyReset.time": "Wall-clock time of the daily reset (17:00 is the CME futures day).",
    "DailyReset.timezone": "Zone of that time; daylight saving follows the wall clock.",
    "InstrumentSpec.tick_size": "Smallest price step of the contract, in points.",
    "InstrumentSpec.tick_value": "Money one tick is worth for one contract, in USD.",
    "LoggingConfig.level": "How much to log; `RISK_MANAGER_LOG_LEVEL` wins over it.",
    "LoggingConfig.retention_days": "Days of log files to keep.",
    "LoggingConfig.max_bytes": "Size at which the log file is rotated.",
    "LoggingConfig.backups": "Rotated log files to keep.",
    "ControlConfig.host": "Address of the control API; must be a loopback address.",
    "ControlConfig.port": "Port of the control API.",
    "MetricsConfig.enabled": "Serve Prometheus metrics.",
    "MetricsConfig.port": "Port of the metrics endpoint (not the control port).",
    "WatchdogConfig.stale_seconds": "Seconds without a heartbeat before the watchdog calls the daemon stale.",
    "WatchdogConfig.flatten_on_stale": (
        "`true`: the watchdog flattens your accounts itself when the daemon is stale."
    ),
    "BackupsConfig.keep": "Daily database backups to keep in `data/backups/`.",
    "RulesConfig.max_contracts": "RULE-001 Max Contracts.",
    "RulesConfig.max_contracts_per_instrument": "RULE-002 Max Contracts per Instrument.",
    "RulesConfig.daily_realized_loss": "RULE-003 Daily Realized Loss.",
    "RulesConfig.daily_unrealized_loss": "RULE-004 Daily Unrealized Loss (per position).",
    "RulesConfig.max_unrealized_profit": "RULE-005 Max Unrealized Profit (per position).",
    "RulesConfig.trade_frequency_limit": "RULE-006 Trade Frequency Limit.",
    "RulesConfig.cooldown_after_loss": "RULE-007 Cooldown After Loss.",
    "RulesConfig.no_stop_loss_grace": "RULE-008 No-Stop-Loss Grace.",
    "RulesConfig.session_block_outside": "RULE-009 Session Block Outside Hours.",
    "RulesConfig.auth_loss_guard": "RULE-010 Auth Loss Guard.",
    "RulesConfig.symbol_blocks": "RULE-011 Symbol Blocks.",
    "RulesConfig.trade_management": "RULE-012 Trade Management.",
    "RulesConfig.daily_realized_profit": "RULE-013 Daily Realized Profit Target.",
    "MaxContractsConfig.enabled": "Turns the rule on or off.",
    "MaxContractsConfig.limit": "Most contracts you may hold across the account.",
    "MaxContractsConfig.count_type": (
        "`gross` adds up every position's size; `net` lets longs and shorts cancel out."
    ),
    "MaxContractsConfig.enforcement": (
        "`reduce_to_limit` trims the excess; `close_all` closes every position."
    ),
    "MaxContractsPerInstrumentConfig.enabled": "Turns the rule on or off.",
    "MaxContractsPerInstrumentConfig.limits": (
        "Most contracts per symbol (all contract months together); 0 = never hold."
    ),
    "MaxContractsPerInstrumentConfig.default_limit": (
        "Limit for symbols not in `limits`; `null` = see `unknown_symbol_action`."
    ),
    "MaxContractsPerInstrumentConfig.unknown_symbol_action": (
        "With no `default_limit`: `block` closes any unlisted symbol, `allow` leaves it alone."
    ),
    "MaxContractsPerInstrumentConfig.enforcement": (
        "`reduce_to_limit` trims the excess; `close_all` closes that symbol's positions."
    ),
    "DailyRealizedLossConfig.enabled": "Turns the rule on or off.",
    "DailyRealizedLossConfig.limit": "Daily loss (negative) that ends your day; reaching it exactly counts.",
    "DailyRealizedLossConfig.include_unrealized": (
        "`true`: open positions' floating P&L counts towards the limit."
    ),
    "DailyUnrealizedLossConfig.enabled": "Turns the rule on or off.",
    "DailyUnrealizedLossConfig.limit": "Floating loss (negative) at which one position is closed.",
    "MaxUnrealizedProfitConfig.enabled": "Turns the rule on or off.",
    "MaxUnrealizedProfitConfig.target": "Floating profit at which one position is closed (profit taken).",
    "TradeFrequencyLimitConfig.enabled": "Turns the rule on or off.",
    "TradeFrequencyLimitConfig.limits": "Most trades per window; at least one window must be set.",
    "TradeFrequencyLimitConfig.cooldowns": "How long the break lasts after each window is exceeded.",
    "FrequencyLimits.per_minute": "Most trades in any 60 seconds; `null` = no limit.",
    "FrequencyLimits.per_hour": "Most trades in any 60 minutes (≥ per_minute); `null` = no limit.",
    "FrequencyLimits.per_session": "Most trades since the daily reset (≥ per_hour); `null` = no limit.",
    "FrequencyCooldowns.per_minute": "Break after too many trades in a minute.",
    "FrequencyCooldowns.per_hour": "Break after too many trades in an hour.",
    "FrequencyCooldowns.per_session": "Break after too many trades in the day.",
    "CooldownAfterLossConfig.enabled": "Turns the rule on or off.",
    "CooldownAfterLossConfig.tiers": "Loss amounts and their breaks; the deepest tier a loss reaches wins.",
    "LossTier.loss_amount": "A losing exit at or below this (negative) amount triggers this tier.",
    "LossTier.duration": "How long the break lasts, from the losing fill.",
    "NoStopLossGraceConfig.enabled": "Turns the rule on or off.",
    "NoStopLossGraceConfig.grace_period_seconds": (
        "Seconds a position may stay without a full stop before it is closed."
    ),
    "SessionBlockOutsideConfig.enabled": "Turns the rule on or off.",
    "SessionBlockOutsideConfig.session": "Your trading window for the whole account.",
    "SessionBlockOutsideConfig.per_instrument": "Windows of their own for some symbols.",
    "SessionBlockOutsideConfig.respect_holidays": (
        "`true`: no window opens on an exchange holiday; early closes end it early."
    ),
    "SessionBlockOutsideConfig.close_at_session_end": (
        "`true`: open positions are closed when the window ends."
    ),
    "SessionWindow.start": "Time the window opens (`end` earlier than `start` wraps past midnight).",
    "SessionWindow.end": "Time the window closes (not included); must differ from `start`.",
    "SessionWindow.timezone": "Zone of `start` and `end`.",
    "SessionWindow.days": "Days on which the window opens.",
    "AuthLossGuardConfig.enabled": "Turns the rule on or off.",
    "AuthLossGuardConfig.poll_interval_seconds": (
        "How often the account is polled, in case a broker event is missed."
    ),
    "SymbolBlocksConfig.enabled": "Turns the rule on or off.",
    "SymbolBlocksConfig.blocked_symbols": (
        "Symbols never to trade; shell wildcards allowed (`*ES` = ES and MES)."
    ),
    "TradeManagementConfig.enabled": "Turns the rule on or off.",
    "TradeManagementConfig.auto_stop_loss": "Place a stop-loss on every new position.",
    "TradeManagementConfig.auto_take_profit": "Place a take-profit limit on every new position.",
    "TradeManagementConfig.breakeven": "Move the stop to breakeven once the trade is far enough in profit.",
    "TradeManagementConfig.trailing_stop": "Trail the stop behind the best price once in profit.",
    "TicksOrderConfig.enabled": "Turns this order on or off.",
    "TicksOrderConfig.ticks": (
        "Distance from your average price, in ticks (loss side for the stop, profit side for the target)."
    ),
    "BreakevenConfig.enabled": "Turns breakeven on or off.",
    "BreakevenConfig.trigger_ticks": "Profit, in ticks from the average price, that arms breakeven.",
    "BreakevenConfig.offset_ticks": (
        "Where the stop goes: this many ticks past the average price, on the profit side."
    ),
    "TrailingStopConfig.enabled": "Turns the trailing stop on or off.",
    "TrailingStopConfig.activation_ticks": "Profit, in ticks, after which the stop starts trailing.",
    "TrailingStopConfig.trail_ticks": "How far behind the best price the stop trails, in ticks.",
    "DailyRealizedProfitConfig.enabled": "Turns the rule on or off.",
    "DailyRealizedProfitConfig.target": "Daily profit that ends your day; reaching it exactly counts.",
    "DailyRealizedProfitConfig.include_unrealized": (
        "`true`: open positions' floating P&L counts towards the target."
    ),
    "DailyRealizedProfitConfig.message": "What the status screen shows once the target is reached.",
    # holidays.yaml
    "HolidaysConfig.version": "File format version. Leave it at 1.",
    "HolidaysConfig.timezone": "Zone of the early close times.",
    "HolidaysConfig.holidays": "Trading dates with no session at all.",
    "HolidaysConfig.early_closes": "Trading dates whose session ends early.",
    "Holiday.date": "The trading date (the date the session would close).",
    "Holiday.name": "A name for the status screen, e.g. Christmas.",
    "EarlyClose.date": "The trading date that closes early.",
    "EarlyClose.close_time": "The early close time, in the file's `timezone`.",
    "EarlyClose.name": "A name for the status screen.",
}

#: Examples for fields whose model gives none and whose default does not show a useful value.
EXAMPLES: dict[str, Any] = {
    "AccountsConfig.gateway": "{firm: topstepx, username: jane.trader}",
    "AccountsConfig.accounts": "[{id: 9876543, label: Combine 50K}]",
    "AccountsConfig.version": 1,
    "GatewayConfig.username": "jane.trader",
    "GatewayConfig.api_key": "${PROJECT_X_API_KEY:-}",
    "AccountEntry.label": "Combine 50K",
    "RiskConfig.version": 1,
    "RiskConfig.general": '{daily_reset: {time: "17:00", timezone: America/New_York}}',
    "RiskConfig.rules": "{daily_realized_loss: {enabled: true, limit: -500.0}}",
    "GeneralConfig.daily_reset": '{time: "17:00", timezone: America/New_York}',
    "GeneralConfig.instruments": "{MNQ: {tick_size: 0.25, tick_value: 0.50}}",
    "GeneralConfig.symbol_aliases": "{MNQE: MNQ}",
    "GeneralConfig.logging": "{level: INFO, retention_days: 30}",
    "GeneralConfig.control": "{host: 127.0.0.1, port: 8766}",
    "GeneralConfig.metrics": "{enabled: true, port: 9108}",
    "GeneralConfig.watchdog": "{stale_seconds: 15, flatten_on_stale: false}",
    "GeneralConfig.backups": "{keep: 7}",
    "MetricsConfig.enabled": True,
    "WatchdogConfig.flatten_on_stale": True,
    "RulesConfig.max_contracts": "{enabled: true, limit: 5}",
    "RulesConfig.max_contracts_per_instrument": "{enabled: true, limits: {MNQ: 4, ES: 1}}",
    "RulesConfig.daily_realized_loss": "{enabled: true, limit: -500.0}",
    "RulesConfig.daily_unrealized_loss": "{enabled: true, limit: -300.0}",
    "RulesConfig.max_unrealized_profit": "{enabled: true, target: 500.0}",
    "RulesConfig.trade_frequency_limit": "{enabled: true, limits: {per_minute: 3}}",
    "RulesConfig.cooldown_after_loss": "{enabled: true, tiers: [{loss_amount: -100.0, duration: 5m}]}",
    "RulesConfig.no_stop_loss_grace": "{enabled: true, grace_period_seconds: 10}",
    "RulesConfig.session_block_outside": '{enabled: true, session: {start: "09:30", end: "16:00"}}',
    "RulesConfig.auth_loss_guard": "{enabled: true}",
    "RulesConfig.symbol_blocks": "{enabled: true, blocked_symbols: [RTY]}",
    "RulesConfig.trade_management": "{enabled: true, auto_stop_loss: {enabled: true, ticks: 40}}",
    "RulesConfig.daily_realized_profit": "{enabled: true, target: 1000.0}",
    "MaxContractsPerInstrumentConfig.limits": "{MNQ: 4, ES: 1}",
    "TradeFrequencyLimitConfig.limits": "{per_minute: 3, per_hour: 10, per_session: 40}",
    "TradeFrequencyLimitConfig.cooldowns": "{per_minute: 60s, per_hour: 30m}",
    "CooldownAfterLossConfig.tiers": (
        "[{loss_amount: -100.0, duration: 5m}, {loss_amount: -300.0, duration: 30m}]"
    ),
    "SessionBlockOutsideConfig.session": '{start: "09:30", end: "16:00", days: [mon, tue, wed, thu, fri]}',
    "SessionBlockOutsideConfig.per_instrument": (
        '{CL: {start: "17:00", end: "16:00", timezone: America/Chicago, days: [sun, mon, tue, wed, thu]}}'
    ),
    "TradeManagementConfig.auto_stop_loss": "{enabled: true, ticks: 40}",
    "TradeManagementConfig.auto_take_profit": "{enabled: true, ticks: 80}",
    "TradeManagementConfig.breakeven": "{enabled: true, trigger_ticks: 20, offset_ticks: 1}",
    "TradeManagementConfig.trailing_stop": "{enabled: true, activation_ticks: 40, trail_ticks: 20}",
    "HolidaysConfig.version": 1,
    "HolidaysConfig.holidays": "[{date: 2025-12-25, name: Christmas}]",
    "HolidaysConfig.early_closes": '[{date: 2025-11-28, close_time: "13:00", name: Day after Thanksgiving}]',
    "Holiday.name": "Christmas",
    "EarlyClose.name": "Day after Thanksgiving",
    "MaxContractsConfig.enabled": True,
    "MaxContractsPerInstrumentConfig.enabled": True,
    "DailyRealizedLossConfig.enabled": True,
    "DailyUnrealizedLossConfig.enabled": True,
    "MaxUnrealizedProfitConfig.enabled": True,
    "TradeFrequencyLimitConfig.enabled": True,
    "CooldownAfterLossConfig.enabled": True,
    "NoStopLossGraceConfig.enabled": True,
    "SessionBlockOutsideConfig.enabled": True,
    "AuthLossGuardConfig.enabled": True,
    "SymbolBlocksConfig.enabled": True,
    "TradeManagementConfig.enabled": True,
    "TicksOrderConfig.enabled": True,
    "BreakevenConfig.enabled": True,
    "TrailingStopConfig.enabled": True,
    "DailyRealizedProfitConfig.enabled": True,
}


__all__ = [
    "CONFIG_FILES",
    "DESCRIPTIONS",
    "EXAMPLES",
    "FILE_INTROS",
    "SYMBOL_KEY",
    "KeyDoc",
    "Section",
    "all_keys",
    "all_sections",
    "config_reference",
    "file_sections",
    "missing_descriptions",
    "missing_examples",
    "plain",
    "render_sections",
    "section_for",
    "stale_catalog_entries",
    "yaml_value",
]
