"""The admin's break-glass on a running engine (SPEC §4.6) and config changes between events (§4.7).

Kept apart from the event path: these run only when an authenticated admin asks (through
the control API) or a validated config takes effect, never from a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from risk_manager.config.risk import RiskConfig
from risk_manager.domain import Evaluate
from risk_manager.engine.engine import Engine
from risk_manager.schedule import Lockout

#: locks no admin may clear: broker state (canTrade) and time-derived (the session window)
UNLOCKABLE_BY_NOBODY = {"RULE-009": "time-derived (session window)", "RULE-010": "broker state (canTrade)"}


class Refused(Exception):
    """The admin asked for something SPEC §4.6 forbids; the message says why."""


def admin_unlock(
    engine: Engine, *, reason: str, now: datetime, rule: str | None = None, account_id: int | None = None
) -> list[Lockout]:
    """Clear the matching active locks at once, each logged ``ADMIN_UNLOCK`` with the reason.

    ``rule=None`` clears every lock an admin may clear (RULE-009/010 ones stay); naming
    RULE-009 or RULE-010 is refused. P&L and counters are untouched, so a rule still in
    breach fires again on its next evaluation.
    """
    _check_allowed(engine, "unlock")
    if rule is not None and rule in UNLOCKABLE_BY_NOBODY:
        raise Refused(f"{rule} locks follow {UNLOCKABLE_BY_NOBODY[rule]}: no admin unlock")
    cleared: list[Lockout] = []
    for lock in engine.locks.active(account_id):
        if lock.rule_id in UNLOCKABLE_BY_NOBODY or (rule is not None and lock.rule_id != rule):
            continue
        if not lock.is_active(now):
            continue
        done = engine.locks.clear_lockout(
            lock.account_id, now, rule_id=lock.rule_id, by="admin", scope=lock.scope
        )
        for gone in done:
            engine.log_admin(now, gone.account_id, gone.rule_id, "ADMIN_UNLOCK", reason)
        engine.record_unlocks(done)
        cleared.extend(done)
    return cleared


def admin_reset_day(engine: Engine, *, reason: str, now: datetime) -> list[Lockout]:
    """Start a fresh trading day now (SPEC §4.6): the daily reset, run by an admin.

    Returns the locks the reset cleared. Today's P&L restarts from zero and stays so
    across a restart (``Engine.day_start``).
    """
    _check_allowed(engine, "reset-day")
    before = engine.locks.active()
    for account_id in engine.states:
        engine.log_admin(now, account_id, None, "ADMIN_RESET_DAY", reason)
    engine.run_reset(now)
    still = {lock.id for lock in engine.locks.active()}
    return [lock for lock in before if lock.id not in still]


def reconfigure(
    engine: Engine, configs: Mapping[int, RiskConfig], base: RiskConfig | None, now: datetime
) -> None:
    """A validated config takes effect between two events, then every rule runs once (a lowered
    limit bites at once). Only per-account rule changes come here; daemon-wide changes
    (general, holidays, the gateway or the account list) restart the daemon in-process."""
    engine.set_configs(configs, base)
    for account_id, state in list(engine.states.items()):
        config = engine.config_of(account_id)
        if config is not None:
            engine.install_rules(state, config, now)
    for account_id in list(engine.states):
        engine.handle(Evaluate(now, account_id, "config"))


def _check_allowed(engine: Engine, what: str) -> None:
    if not engine.general.allow_admin_unlock:
        raise Refused(f"general.allow_admin_unlock is false: {what} is disabled in risk_config.yaml")


__all__ = ["UNLOCKABLE_BY_NOBODY", "Refused", "admin_reset_day", "admin_unlock", "reconfigure"]
