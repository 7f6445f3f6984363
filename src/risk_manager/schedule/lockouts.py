"""The in-memory lockout book: which restrictions are active, per account (SPEC §1, §4.3, §4.5).

Pure: no I/O, no clock. Every method that changes the book returns the locks it
created or cleared, and the engine persists exactly those (lock rows are committed
before any broker call); an expired lock cleared to free its key for a new one is
handed out by the next :meth:`LockoutBook.check_expired_lockouts`. At most one lock
is active per (account, rule, scope), matching the store's constraint (SPEC §5).

A lock past its ``expires_at`` no longer restricts anything, even before
:meth:`LockoutBook.check_expired_lockouts` has cleared it; expiry is absolute UTC,
so downtime counts (SPEC §4.5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal, cast, get_args

from risk_manager.domain import ACCOUNT_SCOPE, LockKind
from risk_manager.schedule._wallclock import require_aware

#: Who ended a lock (SPEC §5 lockouts.cleared_by).
ClearedBy = Literal["expiry", "reset", "session", "broker", "admin"]
CLEARED_BY: frozenset[str] = frozenset(get_args(ClearedBy))

_Key = tuple[str, str]  # (rule_id, scope)


class AccountMode(StrEnum):
    """An account's trading state, shown green/yellow/red on the status screen."""

    ACTIVE = "ACTIVE"
    COOLDOWN = "COOLDOWN"
    LOCKED = "LOCKED"


@dataclass(frozen=True, slots=True)
class Lockout:
    """One lock row. ``scope`` is ``"account"`` or a symbol (upper case, e.g. ``"RTY"``).

    ``expires_at`` None = until a condition (``canTrade``, admin). ``cleared_at`` None
    = not cleared. All datetimes UTC.
    """

    id: int
    account_id: int
    rule_id: str
    scope: str
    kind: LockKind
    reason: str
    created_at: datetime
    expires_at: datetime | None
    cleared_at: datetime | None = None
    cleared_by: ClearedBy | None = None

    @property
    def is_account_wide(self) -> bool:
        return self.scope == ACCOUNT_SCOPE

    def is_active(self, now: datetime) -> bool:
        """Uncleared and not yet expired at ``now`` (a lock ends at its ``expires_at``)."""
        return self.cleared_at is None and (self.expires_at is None or now < self.expires_at)

    def cleared(self, at: datetime, by: ClearedBy) -> Lockout:
        """A copy marked cleared at ``at`` by ``by``."""
        return replace(self, cleared_at=at, cleared_by=by)


@dataclass(frozen=True, slots=True)
class LockoutInfo:
    """What the status screen shows for one account.

    ``mode``: LOCKED if any active account lock isn't a cooldown, COOLDOWN if all
    are, ACTIVE if only symbol locks are held. ``until``: latest expiry of the active
    account locks, None if any has none (or there are none). ``locks``: active
    account locks; ``symbol_locks``: active symbol locks; both in creation order.
    """

    mode: AccountMode
    until: datetime | None
    locks: tuple[Lockout, ...]
    symbol_locks: tuple[Lockout, ...]


class LockoutBook:
    """Active locks indexed by account, so the per-event :meth:`is_locked_out` stays cheap.

    Lock ids come from the book's counter (``next_id``), continued past restored ids.
    """

    def __init__(self, next_id: int = 1) -> None:
        self._next_id = next_id
        self._active: dict[int, dict[_Key, Lockout]] = {}
        # Locks cleared by expiry to free their key for a new lock, until check_expired_lockouts
        # hands them out.
        self._expired: list[Lockout] = []

    @property
    def next_id(self) -> int:
        return self._next_id

    # -- creating --------------------------------------------------------------------------------

    def set_lockout(
        self,
        account_id: int,
        rule_id: str,
        reason: str,
        until: datetime | None,
        now: datetime,
        *,
        scope: str = ACCOUNT_SCOPE,
        kind: LockKind = "hard",
    ) -> Lockout | None:
        """Lock (account, rule, scope) until ``until`` (None = until a condition).

        Returns the new lock, or None when that key is already actively locked: an
        existing lock is never shortened or duplicated.
        """
        now = require_aware(now, "now")
        scope = _normal_scope(scope)
        if self._current(account_id, rule_id, scope, now) is not None:
            return None
        expires_at = None if until is None else require_aware(until, "until")
        return self._add(account_id, rule_id, reason, scope, kind, now, expires_at)

    def set_cooldown(
        self, account_id: int, rule_id: str, reason: str, until: datetime, now: datetime
    ) -> tuple[Lockout, Lockout | None]:
        """An account cooldown ending at max(current end, ``until``) (RULE-006/007).

        Returns ``(lock in force, replaced lock)``. An active lock of that rule ending
        at or after ``until`` is kept and returned with None. One ending earlier is
        cleared at ``now`` (``cleared_by="expiry"``: SPEC §5 has no "replaced") and
        returned second, after the new lock that takes over without a gap.
        """
        now = require_aware(now, "now")
        until = require_aware(until, "until")
        current = self._current(account_id, rule_id, ACCOUNT_SCOPE, now)
        if current is not None and (current.expires_at is None or current.expires_at >= until):
            return current, None
        replaced = None if current is None else self._remove(current).cleared(now, "expiry")
        lock = self._add(account_id, rule_id, reason, ACCOUNT_SCOPE, "cooldown", now, until)
        return lock, replaced

    # -- reading ---------------------------------------------------------------------------------

    def is_locked_out(self, account_id: int, now: datetime, symbol: str | None = None) -> bool:
        """True if an account lock, or a lock on ``symbol`` (when given), is active at ``now``."""
        locks = self._active.get(account_id)
        if not locks:
            return False
        scopes = {ACCOUNT_SCOPE} if symbol is None else {ACCOUNT_SCOPE, symbol.upper()}
        return any(lock.scope in scopes and lock.is_active(now) for lock in locks.values())

    def mode(self, account_id: int, now: datetime) -> AccountMode:
        """ACTIVE, COOLDOWN or LOCKED from the account locks active at ``now``."""
        info = self.get_lockout_info(account_id, now)
        return AccountMode.ACTIVE if info is None else info.mode

    def get_lockout_info(self, account_id: int, now: datetime) -> LockoutInfo | None:
        """Status of the account's locks active at ``now``; None when it holds none."""
        active = [lock for lock in self.active(account_id) if lock.is_active(now)]
        if not active:
            return None
        account = tuple(lock for lock in active if lock.is_account_wide)
        symbols = tuple(lock for lock in active if not lock.is_account_wide)
        return LockoutInfo(_mode(account), _latest_expiry(account), account, symbols)

    def active(self, account_id: int | None = None) -> list[Lockout]:
        """Uncleared locks (of one account, or all), in creation order.

        A lock past its expiry stays listed until :meth:`check_expired_lockouts` clears
        it (or a new lock takes its key); use :meth:`Lockout.is_active` to filter.
        """
        if account_id is None:
            locks = [lock for by_key in self._active.values() for lock in by_key.values()]
        else:
            locks = list(self._active.get(account_id, {}).values())
        return sorted(locks, key=lambda lock: lock.id)

    def held_by(self, account_id: int, rule_id: str, scope: str = ACCOUNT_SCOPE) -> Lockout | None:
        """The uncleared lock of (account, rule, scope), if any (expired but uncleared included)."""
        return self._active.get(account_id, {}).get((rule_id, _normal_scope(scope)))

    def next_expiry(self) -> datetime | None:
        """Earliest ``expires_at`` among uncleared locks: when to call check_expired_lockouts next."""
        expiries = [lock.expires_at for lock in self.active() if lock.expires_at is not None]
        return min(expiries, default=None)

    # -- clearing --------------------------------------------------------------------------------

    def clear_lockout(
        self,
        account_id: int,
        now: datetime,
        *,
        rule_id: str | None = None,
        by: str = "admin",
        scope: str | None = None,
    ) -> list[Lockout]:
        """Clear the account's active locks matching ``rule_id``/``scope`` (None = any).

        Returns the cleared locks (``cleared_at=now``, ``cleared_by=by``); locks already
        past their expiry are left to :meth:`check_expired_lockouts`. Raises
        ``ValueError`` for a ``by`` outside :data:`CLEARED_BY`.
        """
        cleared_by = _cleared_by(by)
        now = require_aware(now, "now")
        wanted_scope = None if scope is None else _normal_scope(scope)
        matching = [
            lock
            for lock in self.active(account_id)
            if lock.is_active(now)
            and (rule_id is None or lock.rule_id == rule_id)
            and (wanted_scope is None or lock.scope == wanted_scope)
        ]
        return [self._remove(lock).cleared(now, cleared_by) for lock in matching]

    def clear_on_reset(self, account_id: int, now: datetime) -> list[Lockout]:
        """Daily reset: clear the account's hard locks (RULE-003/013), keep every other kind.

        Cooldowns run their course, session locks follow the session and broker locks
        ``canTrade`` (SPEC §4.3). A hard lock is cleared ``by="reset"`` even when its
        expiry has just passed: RULE-003/013 locks last until this very reset, so call
        this before :meth:`check_expired_lockouts` on the tick that crosses the reset.
        ``cleared_at`` is ``now``, or the lock's expiry if that came first.
        """
        now = require_aware(now, "now")
        hard = [lock for lock in self.active(account_id) if lock.kind == "hard"]
        return [self._remove(lock).cleared(_earliest(now, lock.expires_at), "reset") for lock in hard]

    def check_expired_lockouts(self, now: datetime) -> list[Lockout]:
        """Clear every lock with ``expires_at <= now``; returns them in expiry order.

        ``cleared_at`` is the lock's own ``expires_at`` (when it really ended), not
        ``now``, so a late tick doesn't stretch a lock in the record.
        """
        now = require_aware(now, "now")
        for lock in self.active():
            if not lock.is_active(now):
                self._expire(lock)
        expired, self._expired = self._expired, []
        return sorted(expired, key=lambda lock: (_expiry_of(lock), lock.id))

    # -- startup ---------------------------------------------------------------------------------

    def restore(self, locks: Iterable[Lockout], now: datetime) -> list[Lockout]:
        """Load the store's uncleared locks at startup (SPEC §4.2, §4.5).

        Returns those to persist as cleared: locks that expired while the daemon was
        down (``cleared_by="expiry"``, ``cleared_at=expires_at``) and, should the store
        hold two for one key, the less restrictive one (cleared at ``now``), so a
        restart never shortens a lock. ``next_id`` moves past every id seen.
        """
        now = require_aware(now, "now")
        to_persist: list[Lockout] = []
        for stored in sorted(locks, key=lambda lock: lock.id):
            _check_aware(stored)
            lock = replace(stored, scope=_normal_scope(stored.scope))
            self._next_id = max(self._next_id, lock.id + 1)
            if lock.cleared_at is not None:
                continue
            if not lock.is_active(now):
                to_persist.append(lock.cleared(_expiry_of(lock), "expiry"))
                continue
            loser = self._keep_stricter(lock)
            if loser is not None:
                to_persist.append(loser.cleared(now, "expiry"))
        return to_persist

    # -- internals -------------------------------------------------------------------------------

    def _add(
        self,
        account_id: int,
        rule_id: str,
        reason: str,
        scope: str,
        kind: LockKind,
        now: datetime,
        expires_at: datetime | None,
    ) -> Lockout:
        lock = Lockout(self._next_id, account_id, rule_id, scope, kind, reason, now, expires_at)
        self._next_id += 1
        self._active.setdefault(account_id, {})[(rule_id, scope)] = lock
        return lock

    def _remove(self, lock: Lockout) -> Lockout:
        by_key = self._active[lock.account_id]
        del by_key[(lock.rule_id, lock.scope)]
        if not by_key:
            del self._active[lock.account_id]
        return lock

    def _keep_stricter(self, lock: Lockout) -> Lockout | None:
        """Index ``lock`` unless its key holds one ending later; return the one left out."""
        current = self.held_by(lock.account_id, lock.rule_id, lock.scope)
        if current is None:
            self._active.setdefault(lock.account_id, {})[(lock.rule_id, lock.scope)] = lock
            return None
        if _ends_later(lock, current):
            self._remove(current)
            self._active.setdefault(lock.account_id, {})[(lock.rule_id, lock.scope)] = lock
            return current
        return lock

    def _current(self, account_id: int, rule_id: str, scope: str, now: datetime) -> Lockout | None:
        """The lock holding the key at ``now``; an expired holder is cleared to make room."""
        lock = self._active.get(account_id, {}).get((rule_id, scope))
        if lock is not None and not lock.is_active(now):
            self._expire(lock)
            return None
        return lock

    def _expire(self, lock: Lockout) -> None:
        """Clear ``lock`` by expiry; check_expired_lockouts hands it to the engine to persist."""
        self._expired.append(self._remove(lock).cleared(_expiry_of(lock), "expiry"))


def _cleared_by(by: str) -> ClearedBy:
    """Narrow a caller's string (an admin command, a stored row) to the SPEC §5 vocabulary."""
    if by in CLEARED_BY:
        return cast(ClearedBy, by)
    raise ValueError(f"cleared_by must be one of {sorted(CLEARED_BY)} (got {by!r})")


def _normal_scope(scope: str) -> str:
    """``account`` stays as is; symbols compare case-insensitively (SPEC §1), stored upper case."""
    return scope if scope == ACCOUNT_SCOPE else scope.upper()


def _mode(account_locks: tuple[Lockout, ...]) -> AccountMode:
    if not account_locks:
        return AccountMode.ACTIVE
    if all(lock.kind == "cooldown" for lock in account_locks):
        return AccountMode.COOLDOWN
    return AccountMode.LOCKED


def _latest_expiry(locks: tuple[Lockout, ...]) -> datetime | None:
    expiries = [lock.expires_at for lock in locks]
    if not expiries or any(expiry is None for expiry in expiries):
        return None
    return max(expiry for expiry in expiries if expiry is not None)


def _earliest(now: datetime, expires_at: datetime | None) -> datetime:
    return now if expires_at is None else min(now, expires_at)


def _ends_later(lock: Lockout, other: Lockout) -> bool:
    if lock.expires_at is None:
        return other.expires_at is not None
    return other.expires_at is not None and lock.expires_at > other.expires_at


def _check_aware(lock: Lockout) -> None:
    """A naive time from the store would make every later comparison raise; fail at load instead."""
    for name in ("created_at", "expires_at", "cleared_at"):
        value = getattr(lock, name)
        if value is not None:
            require_aware(value, f"lock {lock.id} {name}")


def _expiry_of(lock: Lockout) -> datetime:
    if lock.expires_at is None:  # pragma: no cover - only called for expired locks
        raise ValueError(f"lock {lock.id} has no expiry")
    return lock.expires_at


__all__ = ["CLEARED_BY", "AccountMode", "ClearedBy", "Lockout", "LockoutBook", "LockoutInfo"]
