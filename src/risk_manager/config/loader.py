"""Loading the whole config set of a config dir, validated as one (SPEC §4.7, §8).

``load_config_set`` reads accounts.yaml, risk_config.yaml and (if present)
holidays.yaml, migrates them, applies environment overrides, validates every file and
every account's effective rules, and either returns a ``ConfigSet`` or raises one
ConfigError listing every problem of every file, so a reload is all-or-nothing.

An account's effective rules are the base risk config deep-merged with its
``overrides`` (dicts merge, lists replace, ``null`` removes a rule), or the rules of
its own ``risk_config_file`` (whose ``general`` block, if any, merges over the base's).
Daemon-wide settings (reset time, logging, control API...) cannot differ per account.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from risk_manager.config.accounts import AccountEntry, AccountsConfig
from risk_manager.config.fields import LOG_LEVELS, Issue, show
from risk_manager.config.holidays import HolidaysConfig
from risk_manager.config.messages import translate
from risk_manager.config.migrations import ConfigKind, migrate, remap_lines
from risk_manager.config.paths import ACCOUNTS_FILE, HOLIDAYS_FILE, RISK_CONFIG_FILE
from risk_manager.config.problems import ConfigError, ConfigProblem, KeyPath, format_key
from risk_manager.config.risk import RiskConfig
from risk_manager.config.yamlsource import LineMap, line_for, read_yaml, sub_lines

M = TypeVar("M", bound=BaseModel)

USERNAME_ENV = "PROJECT_X_USERNAME"
API_KEY_ENV = "PROJECT_X_API_KEY"
LOG_LEVEL_ENV = "RISK_MANAGER_LOG_LEVEL"

#: ``general`` keys that belong to the daemon, not to an account (one reset, one log, one API).
DAEMON_WIDE_KEYS: tuple[str, ...] = (
    "daily_reset",
    "allow_admin_unlock",
    "logging",
    "protect_unlisted_accounts",
    "control",
    "metrics",
    "watchdog",
    "backups",
)


def display_path(path: Path, cwd: Path | None = None) -> str:
    """The path as shown in problems: relative to the cwd when inside it, else as given."""
    base = Path(os.path.normpath((cwd or Path.cwd()).absolute()))
    absolute = Path(os.path.normpath(path if path.is_absolute() else base / path))
    try:
        return str(absolute.relative_to(base))
    except ValueError:
        return str(path)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge key by key, anything else (lists too) replaces."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class _Source:
    """One file (or one account's overrides) as raw data plus where each key was written."""

    path: str
    lines: LineMap
    prefix: KeyPath = ()
    note: str = ""
    """Appended to messages, e.g. which account's effective config a base key broke."""

    def problem(self, key: KeyPath, message: str, line: int | None = None) -> ConfigProblem:
        """At ``line``, else the key's (or its nearest written ancestor's); an empty document: line 1."""
        shown = line if line is not None else line_for(self.lines, key)
        return ConfigProblem(self.path, shown or 1, format_key((*self.prefix, *key)), message + self.note)


@dataclass
class _Read:
    """A file after reading and migration: data, its source, and what went wrong so far."""

    data: object
    source: _Source
    problems: list[ConfigProblem] = field(default_factory=list)
    blocked: bool = False
    """True when the data cannot be validated (syntax error, unsupported version)."""


def _read(path: Path, kind: ConfigKind, env: Mapping[str, str], cwd: Path | None) -> _Read:
    doc = read_yaml(path, display_path(path, cwd), env)
    original = _Source(doc.path, doc.lines)
    problems = list(doc.problems)
    if doc.data is None and problems:
        return _Read(None, original, problems, blocked=True)
    migrated = migrate(kind, doc.data)
    problems += [original.problem(key, message) for key, message in migrated.issues]
    source = _Source(doc.path, remap_lines(doc.lines, migrated.moves))
    return _Read(migrated.data, source, problems, blocked=bool(migrated.issues))


def _attribute(sources: Sequence[_Source], key: KeyPath, message: str) -> ConfigProblem:
    """The problem in the source that wrote the deepest part of ``key`` (earlier sources win ties)."""
    for depth in range(len(key), -1, -1):
        for source in sources:
            line = source.lines.get(key[:depth])
            if line is not None:
                return source.problem(key, message, line)
    return sources[0].problem(key, message)


def _validate(
    model: type[M], data: object, sources: Sequence[_Source], context: dict[str, Any] | None = None
) -> tuple[M | None, list[ConfigProblem]]:
    try:
        return model.model_validate(data, context=context), []
    except ValidationError as exc:
        issues = [issue for error in exc.errors() for issue in translate(error, model)]
        return None, _unique([_attribute(sources, key, message) for key, message in issues])


def _unique(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    seen: list[ConfigProblem] = []
    for problem in problems:
        if problem not in seen:
            seen.append(problem)
    return seen


def _check(model: type[M], read: _Read, context: dict[str, Any] | None = None) -> M | None:
    """Validate a read file, adding its problems to ``read.problems`` (none twice for one key)."""
    if read.blocked:
        return None
    parsed, problems = _validate(model, read.data, [read.source], context)
    reported = {problem.key for problem in read.problems}
    read.problems += [problem for problem in problems if problem.key not in reported]
    read.problems.sort(key=lambda problem: problem.line or 0)
    return parsed if not read.problems else None


def _in_file_order(problems: list[ConfigProblem], files: Sequence[str]) -> list[ConfigProblem]:
    """Grouped by file (environment first, then files as read), then by line: how one fixes them."""
    order = {path: index for index, path in enumerate(["environment", *files])}
    return sorted(problems, key=lambda problem: (order.get(problem.path, len(order)), problem.line or 0))


def _override_credentials(data: object, env: Mapping[str, str]) -> None:
    """``PROJECT_X_USERNAME``/``PROJECT_X_API_KEY`` win over the file when set (SPEC §8); in place."""
    gateway = data.get("gateway") if isinstance(data, dict) else None
    if not isinstance(gateway, dict):
        return
    for key, name in (("username", USERNAME_ENV), ("api_key", API_KEY_ENV)):
        if env.get(name):
            gateway[key] = env[name]


def _env_log_level(env: Mapping[str, str]) -> tuple[str | None, list[ConfigProblem]]:
    value = env.get(LOG_LEVEL_ENV, "")
    if not value:
        return None, []
    if value.upper() in LOG_LEVELS:
        return value.upper(), []
    message = f"must be one of {', '.join(LOG_LEVELS)} (got {show(value)})"
    return None, [ConfigProblem("environment", None, LOG_LEVEL_ENV, message)]


def _with_log_level(data: object, level: str | None) -> object:
    """``RISK_MANAGER_LOG_LEVEL`` over ``general.logging.level`` (left alone if the shape is wrong)."""
    if level is None or not isinstance(data, dict):
        return data
    general = data.get("general", {})
    logging = general.get("logging", {}) if isinstance(general, dict) else None
    if not isinstance(logging, dict):
        return data
    return {**data, "general": {**general, "logging": {**logging, "level": level}}}


def _own_file(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """An account's own file: its rules replace the base's; its ``general`` merges over the base's."""
    base_general, own_general = base.get("general", {}), own.get("general", {})
    if isinstance(base_general, dict) and isinstance(own_general, dict):
        return {**own, "general": deep_merge(base_general, own_general)}
    return own


@dataclass(frozen=True)
class ConfigSet:
    """A validated config set: what the daemon runs with until the next good reload.

    ``warnings`` are doubtful-but-valid settings (SPEC §8) in the problems' form;
    ``files`` are every file read, for the reload's mtime polling (SPEC §4.7).
    """

    config_dir: Path
    accounts: AccountsConfig
    risk: RiskConfig
    holidays: HolidaysConfig | None
    warnings: list[ConfigProblem]
    files: tuple[Path, ...]
    account_risk: tuple[RiskConfig, ...] = field(repr=False)
    """Effective risk config of ``accounts.accounts[i]``, same order."""

    def effective_risk(self, account: AccountEntry | int | str) -> RiskConfig:
        """The rules an account runs under: by entry, id (int) or name (str).

        An account not in accounts.yaml (``protect_unlisted_accounts``) gets the base config.
        """
        ref = account.ref if isinstance(account, AccountEntry) else account
        entry = self.accounts.find(ref)
        if entry is None:
            return self.risk
        return self.account_risk[self.accounts.accounts.index(entry)]


class _SetLoader:
    """One load of a config dir; collects problems from every file before deciding."""

    def __init__(self, config_dir: Path, env: Mapping[str, str], cwd: Path | None) -> None:
        self.config_dir = config_dir
        self.env = env
        self.cwd = cwd
        self.problems: list[ConfigProblem] = []
        self.warnings: list[ConfigProblem] = []
        self.files: list[Path] = []
        self.level, env_problems = _env_log_level(env)
        self.problems += env_problems

    def read(self, name: str, kind: ConfigKind) -> _Read:
        path = self.config_dir / name
        self.files.append(path)
        return _read(path, kind, self.env, self.cwd)

    def finish(self, read: _Read) -> None:
        self.problems += read.problems

    def load(self) -> ConfigSet:
        accounts_read = self.read(ACCOUNTS_FILE, "accounts")
        _override_credentials(accounts_read.data, self.env)
        accounts = _check(AccountsConfig, accounts_read, {"config_dir": self.config_dir})
        self.finish(accounts_read)
        risk_read = self.read(RISK_CONFIG_FILE, "risk")
        risk_read.data = _with_log_level(risk_read.data, self.level)
        risk = _check(RiskConfig, risk_read)
        self.finish(risk_read)
        holidays = self._holidays()
        per_account = self._accounts(accounts_read, risk_read, risk) if risk is not None else []
        if self.problems or accounts is None or risk is None:
            shown = [display_path(path, self.cwd) for path in self.files]
            raise ConfigError(_in_file_order(self.problems, shown))
        self.warnings = _unique([risk_read.source.problem(k, m) for k, m in risk.warnings()] + self.warnings)
        return ConfigSet(
            self.config_dir, accounts, risk, holidays, self.warnings, tuple(self.files), tuple(per_account)
        )

    def _holidays(self) -> HolidaysConfig | None:
        if not (self.config_dir / HOLIDAYS_FILE).exists():
            return None
        read = self.read(HOLIDAYS_FILE, "holidays")
        holidays = _check(HolidaysConfig, read)
        self.finish(read)
        return holidays

    def _accounts(self, accounts_read: _Read, risk_read: _Read, base: RiskConfig) -> list[RiskConfig]:
        """Effective config of every well-formed entry (even if another entry is broken)."""
        entries = accounts_read.data.get("accounts") if isinstance(accounts_read.data, dict) else None
        if accounts_read.blocked or not isinstance(entries, list):
            return []
        effective: list[RiskConfig] = []
        for index, raw in enumerate(entries):
            try:
                entry = AccountEntry.model_validate(raw, context={"config_dir": self.config_dir})
            except ValidationError:
                continue  # reported by the accounts file's own validation
            result = self._effective(index, entry, accounts_read.source, risk_read, base)
            effective.append(result if result is not None else base)
        return effective

    def _effective(
        self, index: int, entry: AccountEntry, accounts: _Source, risk_read: _Read, base: RiskConfig
    ) -> RiskConfig | None:
        """The account's merged config, validated; problems name the file and key that caused them."""
        base_data: dict[str, Any] = risk_read.data if isinstance(risk_read.data, dict) else {}
        if entry.overrides is not None:
            prefix: KeyPath = ("accounts", index, "overrides")
            source = _Source(accounts.path, sub_lines(accounts.lines, prefix), prefix)
            merged: object = deep_merge(base_data, entry.overrides)
            reported: set[str] = set()
        elif entry.risk_config_file is not None:
            read = self.read(entry.risk_config_file, "risk")
            if read.blocked or not isinstance(read.data, dict):
                _check(RiskConfig, read)
                self.finish(read)
                return None
            self.finish(read)
            source, merged = read.source, _own_file(base_data, read.data)
            reported = {problem.key for problem in read.problems}
        else:
            return base
        note = f" (in the effective config of account {entry.display})"
        sources = [source, _Source(risk_read.source.path, risk_read.source.lines, note=note)]
        parsed, problems = _validate(RiskConfig, _with_log_level(merged, self.level), sources)
        self.problems += [problem for problem in problems if problem.key not in reported]
        if parsed is None:
            return None
        self.problems += self._daemon_wide(parsed, base, sources)
        self.warnings += [
            _attribute(sources, key, message) for key, message in self._new_warnings(parsed, base)
        ]
        return parsed

    @staticmethod
    def _daemon_wide(parsed: RiskConfig, base: RiskConfig, sources: Sequence[_Source]) -> list[ConfigProblem]:
        """Per-account configs may not move the reset, the log or the control API."""
        return [
            _attribute(
                sources, ("general", key), "daemon-wide setting: set it in risk_config.yaml, not per account"
            )
            for key in DAEMON_WIDE_KEYS
            if getattr(parsed.general, key) != getattr(base.general, key)
        ]

    @staticmethod
    def _new_warnings(parsed: RiskConfig, base: RiskConfig) -> list[Issue]:
        known = base.warnings()
        return [issue for issue in parsed.warnings() if issue not in known]


def load_config_set(
    config_dir: Path, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ConfigSet:
    """Load and validate the config set in ``config_dir``; ConfigError lists every problem.

    ``env`` replaces ``os.environ`` (``${VAR}`` expansion and the ``PROJECT_X_*`` /
    ``RISK_MANAGER_LOG_LEVEL`` overrides); ``cwd`` is what problem paths are shown
    relative to (default: the process's cwd).
    """
    if not config_dir.is_dir():
        shown = display_path(config_dir, cwd)
        message = "config dir not found; `risk_manager init` writes a working simulator config"
        raise ConfigError([ConfigProblem(shown, None, "", message)])
    loader = _SetLoader(config_dir, os.environ if env is None else env, cwd)
    return loader.load()


__all__ = [
    "API_KEY_ENV",
    "DAEMON_WIDE_KEYS",
    "LOG_LEVEL_ENV",
    "USERNAME_ENV",
    "ConfigSet",
    "deep_merge",
    "display_path",
    "load_config_set",
]
