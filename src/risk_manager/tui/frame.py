"""One frame of the trader's status (SPEC §6): the data model both screens draw.

:class:`StatusReader` reads the database read-only (meta snapshot, lockouts, timers,
enforcement_log), so locks stay visible while the daemon is down, and adds what the config
dir says about time (reset, sessions, holidays; :mod:`risk_manager.tui.context`). The live
Textual screen and ``--once`` draw the same :class:`Frame`; ``--json`` prints
:meth:`Frame.as_json`. Every countdown is taken against the frame's ``now``, which comes
from the caller's clock, so a fixed clock gives a fixed frame.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from risk_manager import __version__
from risk_manager.config.risk import RiskConfig
from risk_manager.schedule import AccountMode, CalendarDay, LockoutBook, grace_timer_name
from risk_manager.schedule.lockouts import Lockout
from risk_manager.store import Store
from risk_manager.store.rows import EnforcementRow, LockRow, TimerRow
from risk_manager.store.timefmt import from_iso
from risk_manager.tui.context import ConfigContext, ConfigWatch, SessionState

#: SPEC §5: RUNNING = heartbeat at most 3 s old.
STALE_AFTER = timedelta(seconds=3)
#: How many enforcement rows the screen lists (SPEC §6).
LAST_ACTIONS = 5

DaemonState = Literal["RUNNING", "STALE", "NOT RUNNING"]


def countdown(until: datetime, now: datetime) -> str:
    """``HH:MM:SS`` from ``now`` to ``until`` (hours may pass 24); never negative."""
    seconds = max(0, int((until - now).total_seconds()))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def pid_alive(pid: str | None) -> bool:
    """Whether a process with this id runs (the daemon's, from meta ``daemon_pid``)."""
    if not pid or not pid.isdigit() or int(pid) <= 0:
        return False  # 0 would ask about our own process group, not a daemon
    if os.name == "nt":
        return _windows_pid_alive(int(pid))
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user (the service account)
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    """Windows has no signal 0 (``os.kill(pid, 0)`` would send CTRL_C_EVENT): ask the kernel."""
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259
    finally:
        kernel32.CloseHandle(handle)


def daemon_state(meta: Mapping[str, str], now: datetime) -> DaemonState:
    """RUNNING, STALE or NOT RUNNING, as SPEC §5 defines them."""
    beat = meta.get("heartbeat_at")
    if beat and now - from_iso(beat) <= STALE_AFTER:
        return "RUNNING"
    return "STALE" if pid_alive(meta.get("daemon_pid")) else "NOT RUNNING"


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class LockView:
    """An active lock; ``until`` None = until a condition (canTrade for RULE-010, an admin)."""

    account_id: int
    rule: str
    kind: str
    scope: str
    reason: str
    until: datetime | None

    @property
    def waits_for(self) -> str:
        """What ends a lock with no expiry, in the trader's words."""
        return "until canTrade" if self.kind == "broker" else "until cleared"

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "rule": self.rule,
            "kind": self.kind,
            "scope": self.scope,
            "reason": self.reason,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass(frozen=True, slots=True)
class PositionView:
    """One open position; ``protection`` is ``protected``, a grace countdown, or what is missing."""

    contract_id: str
    symbol: str
    size: int
    avg_price: str
    mark: str | None
    unrealized: str | None
    protection: str
    grace_until: datetime | None = None

    @property
    def side(self) -> str:
        return "long" if self.size > 0 else "short"


@dataclass(frozen=True, slots=True)
class UsageView:
    """One rule figure as the daemon computed it (:mod:`risk_manager.engine.usage`)."""

    rule: str
    label: str
    text: str
    ratio: float | None
    level: str


@dataclass(frozen=True)
class AccountView:
    """One account as the screen shows it; money as strings of cents, None when unknown."""

    id: int
    name: str
    balance: str | None
    can_trade: bool | None
    realized: str | None
    fees: str | None
    unrealized: str | None
    trading_date: str | None
    mode: AccountMode = AccountMode.ACTIVE
    #: latest expiry of the active account locks; None with none, or when one has no expiry
    unlock_at: datetime | None = None
    locks: tuple[LockView, ...] = ()
    symbol_locks: tuple[LockView, ...] = ()
    blocked_symbols: tuple[str, ...] = ()
    positions: tuple[PositionView, ...] = ()
    rules: tuple[UsageView, ...] = ()
    sessions: tuple[SessionState, ...] = ()
    #: RULE-013's message while its lock holds (SPEC §3)
    message: str | None = None
    #: the daemon's snapshot of this account, as written (``--json`` keeps every key of it)
    snapshot: Mapping[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.name} ({self.id})" if self.name else str(self.id)

    @property
    def total(self) -> str | None:
        """Realized (net) + unrealized: the day's P&L as the limits see it."""
        if self.realized is None:
            return None
        try:
            return f"{Decimal(self.realized) + Decimal(self.unrealized or '0'):.2f}"
        except InvalidOperation:
            return None


@dataclass(frozen=True, slots=True)
class ActionView:
    """One enforcement_log row."""

    at: datetime
    account_id: int | None
    rule: str | None
    action: str
    result: str
    reason: str
    error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "account_id": self.account_id,
            "rule": self.rule,
            "action": self.action,
            "result": self.result,
            "reason": self.reason,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class PendingConfig:
    """Loosening changes waiting for the reset (SPEC §4.7; meta ``pending_config``).

    ``problems``: why some of what was asked cannot be applied (the daemon's words).
    """

    apply_at: datetime | None
    changes: tuple[str, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frame:
    """Everything one redraw shows. Times are UTC; ``tz`` is the zone they are shown in
    (None: the machine's local zone at each instant, so DST changes show right)."""

    now: datetime
    tz: tzinfo | None
    database: Path
    daemon: DaemonState
    version: str = __version__
    daemon_version: str | None = None
    connection: str | None = None
    heartbeat_at: datetime | None = None
    store_error: str | None = None
    config_state: str | None = None
    config_error: str | None = None
    pending: PendingConfig | None = None
    account_errors: tuple[tuple[str, str], ...] = ()
    accounts: tuple[AccountView, ...] = ()
    actions: tuple[ActionView, ...] = ()
    next_reset: datetime | None = None
    holidays: tuple[CalendarDay, ...] = ()
    #: why the screen could not read the config dir (reset, sessions, holidays then unknown)
    config_problem: str | None = None

    @property
    def failed_actions(self) -> tuple[ActionView, ...]:
        return tuple(a for a in self.actions if a.result == "FAILED")

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` form: the first frame format's keys, and everything added since."""
        return _frame_json(self)


# --------------------------------------------------------------------------- reading


class StatusReader:
    """Builds frames from one database and config dir; cheap to call every second.

    ``account``: an id or a name, to show that account only (``--account``).
    """

    def __init__(
        self, database: Path, config_dir: Path | None, *, tz: tzinfo | None = None, account: str | None = None
    ) -> None:
        self.database = database
        self.tz = tz
        self.account = account
        self._config = ConfigWatch(config_dir)

    def read(self, now: datetime) -> Frame:
        """The frame at ``now`` (aware); raises StoreError when the database cannot be read."""
        context = self._config.current()
        base = Frame(now, self.tz, self.database, "NOT RUNNING", config_problem=context.problem,
                     next_reset=context.next_reset(now), holidays=tuple(context.holidays(now)))  # fmt: skip
        if not self.database.exists():
            return base
        with Store.open(self.database, read_only=True) as store:
            meta = store.meta()
            locks = store.active_lockouts()
            timers = store.timers()
            rows = store.enforcement_rows(account_id=self._account_id(meta), limit=LAST_ACTIONS)
        return _with_database(base, meta, locks, timers, rows, context, self.account)

    def _account_id(self, meta: Mapping[str, str]) -> int | None:
        """The ``--account`` filter as an id (a name is looked up in the snapshot)."""
        if self.account is None:
            return None
        if self.account.isdigit():
            return int(self.account)
        for snap in _snapshot(meta).get("accounts", []):
            if snap.get("name") == self.account:
                return int(snap["id"])
        return -1  # an unknown name shows nothing rather than everything


def _snapshot(meta: Mapping[str, str]) -> dict[str, Any]:
    try:
        data = json.loads(meta.get("snapshot") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _with_database(
    base: Frame,
    meta: Mapping[str, str],
    lock_rows: list[LockRow],
    timers: list[TimerRow],
    rows: list[EnforcementRow],
    context: ConfigContext,
    account: str | None,
) -> Frame:
    now = base.now
    snap = _snapshot(meta)
    book = LockoutBook()
    book.restore([_lockout(row) for row in lock_rows], now)  # expired-while-down locks drop out
    graces = {timer.name: timer.expires_at for timer in timers}
    snaps = {int(a["id"]): a for a in snap.get("accounts", []) if isinstance(a, dict) and "id" in a}
    for lock in book.active():  # a locked account shows even if the snapshot never listed it
        snaps.setdefault(lock.account_id, {"id": lock.account_id})
    accounts = [
        _account(snaps[a], book, graces, context, now)
        for a in sorted(snaps)
        if account is None or str(a) == account or snaps[a].get("name") == account
    ]
    return Frame(
        now, base.tz, base.database, daemon_state(meta, now),
        daemon_version=meta.get("version"),
        connection=meta.get("connection"),
        heartbeat_at=from_iso(meta["heartbeat_at"]) if meta.get("heartbeat_at") else None,
        store_error=meta.get("store_error") or None,
        config_state=meta.get("config_state"),
        config_error=meta.get("config_error") or None,
        pending=_pending(meta.get("pending_config")),
        account_errors=_account_errors(snap),
        accounts=tuple(accounts),
        actions=tuple(_action(row) for row in rows),
        next_reset=base.next_reset, holidays=base.holidays, config_problem=base.config_problem,
    )  # fmt: skip


def _account_errors(snap: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Accounts the daemon could not monitor (SPEC §8), as (account as configured, message)."""
    return tuple((str(e.get("account")), str(e.get("error"))) for e in snap.get("account_errors", []))


def _lockout(row: LockRow) -> Lockout:
    return Lockout(row.id, row.account_id, row.rule_id, row.scope, row.kind, row.reason, row.created_at,
                   row.expires_at, row.cleared_at, row.cleared_by)  # fmt: skip


def _lock_view(lock: Lockout) -> LockView:
    return LockView(lock.account_id, lock.rule_id, lock.kind, lock.scope, lock.reason, lock.expires_at)


def _account(
    snap: Mapping[str, Any],
    book: LockoutBook,
    graces: Mapping[str, datetime],
    context: ConfigContext,
    now: datetime,
) -> AccountView:
    account_id = int(snap["id"])
    name = str(snap.get("name") or "")
    info = book.get_lockout_info(account_id, now)
    rules = tuple(_usage(u) for u in snap.get("rules", []))
    grace_on = any(u.rule == "RULE-008" for u in rules)
    config = context.rules_of(account_id, name or None)
    locks = info.locks if info is not None else ()
    symbol_locks = info.symbol_locks if info is not None else ()
    return AccountView(
        account_id, name, snap.get("balance"), snap.get("can_trade"), snap.get("realized"), snap.get("fees"),
        snap.get("unrealized"), snap.get("trading_date"),
        mode=info.mode if info is not None else AccountMode.ACTIVE,
        unlock_at=info.until if info is not None else None,
        locks=tuple(_lock_view(lock) for lock in locks),
        symbol_locks=tuple(_lock_view(lock) for lock in symbol_locks),
        blocked_symbols=tuple(snap.get("blocked_symbols", ())),
        positions=tuple(_position(account_id, p, graces, grace_on, now) for p in snap.get("positions", [])),
        rules=rules,
        sessions=tuple(context.sessions(config, now)),
        message=_target_message(config, locks),
        snapshot=snap,
    )  # fmt: skip


def _target_message(config: RiskConfig | None, locks: Iterable[Lockout]) -> str | None:
    """RULE-013's own words while its lock holds ("Target reached - done for today.")."""
    block = config.rules.daily_realized_profit if config is not None else None
    if block is None or not any(lock.rule_id == "RULE-013" for lock in locks):
        return None
    return block.message


def _usage(raw: Mapping[str, Any]) -> UsageView:
    ratio = raw.get("ratio")
    return UsageView(str(raw.get("rule", "")), str(raw.get("label", "")), str(raw.get("text", "")),
                     None if ratio is None else float(ratio), str(raw.get("level", "ok")))  # fmt: skip


def _position(
    account_id: int, raw: Mapping[str, Any], graces: Mapping[str, datetime], grace_on: bool, now: datetime
) -> PositionView:
    contract_id = str(raw["contract_id"])
    grace_until = graces.get(grace_timer_name(account_id, contract_id))
    if raw.get("protected"):
        protection = "protected"
    elif grace_until is not None:
        protection = f"grace {countdown(grace_until, now)}" if grace_until > now else "grace over: closing"
    else:
        protection = "unprotected" if grace_on else "no stop"
    return PositionView(contract_id, str(raw.get("symbol") or contract_id), int(raw["size"]),
                        str(raw.get("avg_price")), raw.get("mark"), raw.get("unrealized"), protection,
                        grace_until)  # fmt: skip


def _action(row: EnforcementRow) -> ActionView:
    return ActionView(row.ts, row.account_id, row.rule_id, row.action, row.result, row.reason, row.error)


def _pending(raw: str | None) -> PendingConfig | None:
    """Meta ``pending_config``: ``{"apply_at": iso, "changes": [{"text": ...}], "problems": [...]}``."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
        apply_at = from_iso(data["apply_at"]) if isinstance(data.get("apply_at"), str) else None
    except (json.JSONDecodeError, ValueError, AttributeError):
        return PendingConfig(None, (), ("pending config present but unreadable",))
    changes = tuple(
        str(c.get("text", c)) if isinstance(c, dict) else str(c) for c in data.get("changes") or ()
    )
    problems = tuple(str(problem) for problem in data.get("problems") or ())
    return PendingConfig(apply_at, changes, problems) if changes or problems else None


# --------------------------------------------------------------------------- JSON


def _frame_json(frame: Frame) -> dict[str, Any]:
    now = frame.now
    return {
        "version": frame.version,
        "now": now.isoformat(),
        "daemon": frame.daemon,
        "database": str(frame.database),
        "daemon_version": frame.daemon_version,
        "connection": frame.connection,
        "heartbeat_at": frame.heartbeat_at.isoformat() if frame.heartbeat_at else None,
        "store_error": frame.store_error,
        "config_state": frame.config_state,
        "config_error": frame.config_error,
        "pending_config": None if frame.pending is None else {
            "apply_at": frame.pending.apply_at.isoformat() if frame.pending.apply_at else None,
            "changes": list(frame.pending.changes),
            "problems": list(frame.pending.problems),
        },
        "account_errors": [{"account": a, "error": e} for a, e in frame.account_errors],
        "next_reset": None if frame.next_reset is None else {
            "at": frame.next_reset.isoformat(), "in": countdown(frame.next_reset, now),
        },
        "holidays": [_holiday_json(day) for day in frame.holidays],
        "config_problem": frame.config_problem,
        "accounts": [_account_json(account, now) for account in frame.accounts],
        "locks": [lock.as_json() for a in frame.accounts for lock in (*a.locks, *a.symbol_locks)],
        "last_actions": [action.as_json() for action in frame.actions],
    }  # fmt: skip


def _holiday_json(day: CalendarDay) -> dict[str, Any]:
    return {"date": day.date.isoformat(), "name": day.name, "kind": day.kind,
            "close_at": day.close_at.isoformat() if day.close_at else None}  # fmt: skip


def _account_json(account: AccountView, now: datetime) -> dict[str, Any]:
    data = dict(account.snapshot)
    protections = {p.contract_id: p.protection for p in account.positions}
    data["positions"] = [
        {**p, "protection": protections.get(str(p.get("contract_id")))} for p in data.get("positions", [])
    ]
    data.update(
        {
            "mode": account.mode.value,
            "unlock_at": account.unlock_at.isoformat() if account.unlock_at else None,
            "countdown": countdown(account.unlock_at, now) if account.unlock_at else None,
            "total": account.total,
            "blocked_symbols": sorted({*account.blocked_symbols, *(s.scope for s in account.symbol_locks)}),
            "sessions": [
                {
                    "scope": s.scope,
                    "open": s.is_open,
                    "next_change": s.next_change.isoformat() if s.next_change else None,
                }
                for s in account.sessions
            ],
            "message": account.message,
        }
    )
    return data


__all__ = [
    "LAST_ACTIONS",
    "STALE_AFTER",
    "AccountView",
    "ActionView",
    "DaemonState",
    "Frame",
    "LockView",
    "PendingConfig",
    "PositionView",
    "StatusReader",
    "UsageView",
    "countdown",
    "daemon_state",
    "pid_alive",
]
