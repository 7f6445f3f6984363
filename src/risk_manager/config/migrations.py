"""Config file versions: each file carries ``version`` and is migrated one step at a time (SPEC §8).

A missing ``version`` means the current one (1); a higher one is refused, naming the
version we support; an older one goes through ``STEPS[kind][v]`` for v, v+1, ... until
current, on the raw dict before validation. Each step also reports where it moved keys,
so problems in a migrated file still point at the line the operator wrote.

Version 0 is the roadmap's format:

* risk_config: ``reset_time`` and ``timezone`` at top level (now ``general.daily_reset``)
  and the rule blocks at top level (now under ``rules:``);
* accounts: ``projectx: {username, api_key}`` (now ``gateway:``, firm topstepx);
* holidays: ``holidays`` as a list of dates and ``early_closes`` as a ``{date: "HH:MM"}``
  mapping (now lists of ``{date, name}`` and ``{date, close_time, name}``).

Steps are frozen in time: they name keys literally rather than importing today's models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from risk_manager.config.fields import Issue, show
from risk_manager.config.problems import KeyPath

CURRENT_VERSION = 1
ConfigKind = Literal["accounts", "risk", "holidays"]

#: (old key path, new key path): everything under the old path now lives under the new one.
Move = tuple[KeyPath, KeyPath]
Step = Callable[[dict[str, Any], list[Move]], dict[str, Any]]

_V0_RULE_KEYS: tuple[str, ...] = (
    "max_contracts",
    "max_contracts_per_instrument",
    "daily_realized_loss",
    "daily_unrealized_loss",
    "max_unrealized_profit",
    "trade_frequency_limit",
    "cooldown_after_loss",
    "no_stop_loss_grace",
    "session_block_outside",
    "auth_loss_guard",
    "symbol_blocks",
    "trade_management",
    "daily_realized_profit",
)


class MigrationError(Exception):
    """Old data that cannot be carried forward unambiguously (e.g. old and new key both set)."""

    def __init__(self, key: KeyPath, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass
class Migrated:
    """A migrated document: the current-version data, the key moves, and any problems."""

    data: object
    moves: list[Move] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    from_version: int = CURRENT_VERSION


def _risk_0_to_1(data: dict[str, Any], moves: list[Move]) -> dict[str, Any]:
    """Top-level ``reset_time``/``timezone`` -> ``general.daily_reset``; rule blocks -> ``rules``."""
    out = {key: value for key, value in data.items() if key not in ("reset_time", "timezone", *_V0_RULE_KEYS)}
    reset = {new: data[old] for old, new in (("reset_time", "time"), ("timezone", "timezone")) if old in data}
    if reset:
        general = out.get("general", {})
        if not isinstance(general, dict) or "daily_reset" in general:
            raise MigrationError(
                ("reset_time",), "version 0 sets reset_time/timezone: remove general.daily_reset"
            )
        out["general"] = {**general, "daily_reset": reset}
        moves += [
            ((old,), ("general", "daily_reset", new))
            for old, new in (("reset_time", "time"), ("timezone", "timezone"))
            if old in data
        ]
    rules = {key: data[key] for key in _V0_RULE_KEYS if key in data}
    if rules:
        if "rules" in out:
            raise MigrationError(("rules",), "version 0 has rule blocks at top level: move them under rules")
        out["rules"] = rules
        moves += [((key,), ("rules", key)) for key in rules]
    return out


def _accounts_0_to_1(data: dict[str, Any], moves: list[Move]) -> dict[str, Any]:
    """``projectx: {username, api_key}`` -> ``gateway: {firm: topstepx, username, api_key}``."""
    if "projectx" not in data:
        return dict(data)
    if "gateway" in data:
        raise MigrationError(("projectx",), "set projectx (version 0) or gateway, not both")
    projectx = data["projectx"]
    if not isinstance(projectx, dict):
        raise MigrationError(
            ("projectx",), f"must be a mapping with username and api_key (got {show(projectx)})"
        )
    out = {key: value for key, value in data.items() if key != "projectx"}
    out["gateway"] = {"firm": "topstepx", **projectx}
    moves.append((("projectx",), ("gateway",)))
    return out


def _holidays_0_to_1(data: dict[str, Any], moves: list[Move]) -> dict[str, Any]:
    """Bare holiday dates -> ``{date}`` entries; ``{date: "HH:MM"}`` early closes -> a list."""
    out = dict(data)
    holidays = data.get("holidays")
    if isinstance(holidays, list):
        out["holidays"] = [item if isinstance(item, dict) else {"date": item} for item in holidays]
        moves += [
            (("holidays", i), ("holidays", i, "date"))
            for i, item in enumerate(holidays)
            if not isinstance(item, dict)
        ]
    closes = data.get("early_closes")
    if isinstance(closes, dict):
        out["early_closes"] = [{"date": day, "close_time": close} for day, close in closes.items()]
        for index, day in enumerate(closes):
            moves += [(("early_closes", day), ("early_closes", index, key)) for key in ("date", "close_time")]
    return out


#: Migration steps by file kind and the version they start from.
STEPS: Mapping[ConfigKind, Mapping[int, Step]] = {
    "risk": {0: _risk_0_to_1},
    "accounts": {0: _accounts_0_to_1},
    "holidays": {0: _holidays_0_to_1},
}


def _version_of(data: dict[str, Any]) -> int | Issue:
    version = data.get("version", CURRENT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        return (("version",), f"must be an integer 0..{CURRENT_VERSION} (got {show(version)})")
    if version > CURRENT_VERSION:
        return (
            ("version",),
            f"version {version} is newer than this risk manager supports ({CURRENT_VERSION}); "
            "upgrade risk-manager",
        )
    return version


def migrate(kind: ConfigKind, data: object) -> Migrated:
    """Bring a raw document to the current version; problems come back as issues, not raised.

    Anything but a mapping is returned unchanged (validation reports it).
    """
    if not isinstance(data, dict):
        return Migrated(data)
    version = _version_of(data)
    if not isinstance(version, int):
        return Migrated(data, issues=[version])
    result = Migrated(data, from_version=version)
    current: dict[str, Any] = data
    try:
        for step_from in range(version, CURRENT_VERSION):
            current = STEPS[kind][step_from](current, result.moves)
    except MigrationError as exc:
        return Migrated(data, issues=[(exc.key, exc.message)], from_version=version)
    result.data = {**current, "version": CURRENT_VERSION}
    return result


def remap_lines(lines: Mapping[KeyPath, int], moves: list[Move]) -> dict[KeyPath, int]:
    """The line map with every moved key also known under its new path."""
    remapped = dict(lines)
    for old, new in moves:
        size = len(old)
        for key, line in list(remapped.items()):
            if key[:size] == old:
                remapped.setdefault(new + key[size:], line)
    return remapped


__all__ = [
    "CURRENT_VERSION",
    "STEPS",
    "ConfigKind",
    "Migrated",
    "MigrationError",
    "Move",
    "migrate",
    "remap_lines",
]
