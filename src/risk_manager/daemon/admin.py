"""What the running daemon does for an authenticated admin (the control API's ``Admin``).

Break-glass (unlock, reset-day) is immediate and audited; config changes go through the
change plan (tightening now, loosening at the next reset unless overridden, SPEC §4.7);
a stop or restart is logged before the daemon exits. Every method runs on the daemon's
event loop between two events, so nothing here races the engine.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

from risk_manager import __version__
from risk_manager.broker.base import BrokerError
from risk_manager.config.secrets import store_api_key
from risk_manager.control.protocol import (
    EXIT_RESTART,
    AccountCheck,
    ApiKeyReply,
    ApiKeyRequest,
    ChangeReply,
    ChangeRequest,
    ConfigView,
    ConnectionReply,
    FilesRequest,
    Health,
    LockoutsReply,
    LockView,
    OkReply,
    PendingView,
    ReasonRequest,
    ResetReply,
    ResetRequest,
    StopRequest,
    UnlockRequest,
    ValidateReply,
    mask,
)
from risk_manager.control.server import ControlFailure
from risk_manager.daemon.config_changes import ConfigKeeper
from risk_manager.daemon.logs import register_secrets
from risk_manager.engine import Engine
from risk_manager.engine.admin import Refused, admin_reset_day, admin_unlock
from risk_manager.rules import rule_id_of
from risk_manager.schedule import Lockout
from risk_manager.service.windows import write_stop_token
from risk_manager.store.timefmt import from_iso

if TYPE_CHECKING:
    from risk_manager.daemon.daemon import Daemon

log = logging.getLogger("risk_manager.control")
STOP_GRACE = 0.2  # seconds: the reply leaves before the daemon starts shutting down


def lock_view(lock: Lockout) -> LockView:
    return LockView(
        id=lock.id,
        account_id=lock.account_id,
        rule=lock.rule_id,
        kind=lock.kind,
        scope=lock.scope,
        reason=lock.reason,
        created_at=lock.created_at,
        expires_at=lock.expires_at,
    )


class DaemonAdmin:
    """The control API's ``Admin`` for one daemon."""

    def __init__(self, daemon: Daemon, keeper: ConfigKeeper) -> None:
        self.daemon, self.keeper = daemon, keeper

    # -- plumbing -----------------------------------------------------------------------------

    def _engine(self) -> Engine:
        self._check_running()
        engine = self.daemon.engine
        if engine is None:
            raise ControlFailure(
                "unavailable", "the daemon is still starting (not connected to the gateway yet)"
            )
        return engine

    def _check_running(self) -> None:
        """A request still in flight while the daemon shuts down must not touch a closed store."""
        if self.daemon.stop.event.is_set():
            raise ControlFailure("unavailable", "the daemon is stopping")

    def audit(self, action: str, reason: str) -> None:
        self.daemon.audit(action, reason)

    # -- status -------------------------------------------------------------------------------

    def health(self) -> Health:
        self._check_running()
        store = self.daemon.store
        meta = store.meta() if store is not None else {}
        started = meta.get("started_at")
        return Health(
            version=__version__,
            pid=os.getpid(),
            started_at=from_iso(started) if started else self.daemon.clock.now(),
            connection=meta.get("connection", "CONNECTING"),
            config_state=self.keeper.state,
            store_error=(self.daemon.engine.store.error if self.daemon.engine is not None else None) or None,
            config_dir=str(self.daemon.config_dir.resolve()),
            data_dir=str(self.daemon.data_dir.resolve()),
        )

    def lockouts(self) -> LockoutsReply:
        engine = self._engine()
        return LockoutsReply(locks=[lock_view(lock) for lock in engine.locks.active()])

    # -- break-glass ----------------------------------------------------------------------------

    def unlock(self, request: UnlockRequest) -> LockoutsReply:
        engine = self._engine()
        if request.rule is None and not request.all:
            raise ControlFailure("bad_request", "name a rule (--rule RULE-0xx) or ask for --all")
        rule = None if request.all else rule_id_of(request.rule or "")
        if not request.all and rule is None:
            raise ControlFailure(
                "bad_request", f"unknown rule {request.rule!r}: use RULE-001..RULE-013 or its key"
            )
        try:
            cleared = admin_unlock(
                engine,
                reason=request.reason,
                now=self.daemon.clock.now(),
                rule=rule,
                account_id=request.account_id,
            )
        except Refused as exc:
            self.audit("ADMIN_UNLOCK_REFUSED", f"{exc} (reason given: {request.reason})")
            raise ControlFailure("refused", str(exc)) from exc
        engine.flush(self.daemon.clock.now())
        return LockoutsReply(locks=[lock_view(lock) for lock in cleared])

    def reset_day(self, request: ResetRequest) -> ResetReply:
        engine = self._engine()
        now = self.daemon.clock.now()
        try:
            cleared = admin_reset_day(engine, reason=request.reason, now=now)
        except Refused as exc:
            raise ControlFailure("refused", str(exc)) from exc
        self.keeper.apply_pending_now(now)
        engine.flush(now)
        trading_date = engine.reset.trading_date(now).isoformat()
        return ResetReply(trading_date=trading_date, accounts=sorted(engine.states),
                          unlocked=[lock_view(lock) for lock in cleared])  # fmt: skip

    def stop(self, request: StopRequest) -> OkReply:
        action = "SERVICE_RESTART" if request.restart else "SERVICE_STOP"
        self.audit(action, f"by admin: {request.reason}")
        if self.daemon.engine is not None:
            self.daemon.engine.flush(self.daemon.clock.now())
        code = EXIT_RESTART if request.restart else 0
        write_stop_token(self.daemon.data_dir, self.daemon.clock.now())  # the Windows service's door
        asyncio.get_running_loop().call_later(STOP_GRACE, self.daemon.stop.request, code)
        return OkReply(message="restarting" if request.restart else "stopping")

    # -- config -------------------------------------------------------------------------------

    def config_view(self) -> ConfigView:
        return self.keeper.view()

    async def change(self, request: ChangeRequest) -> ChangeReply:
        return self.keeper.change(request)

    async def change_files(self, request: FilesRequest) -> ChangeReply:
        return self.keeper.change_files(request)

    def validate(self, request: FilesRequest) -> ValidateReply:
        return self.keeper.validate({str(name): text for name, text in request.files.items()})

    async def reload(self) -> ChangeReply:
        return self.keeper.reload_from_disk()

    def pending(self) -> PendingView:
        return self.keeper.pending_view()

    def drop_pending(self, request: ReasonRequest) -> PendingView:
        self.keeper.drop_pending()
        self.audit("PENDING_CONFIG_DROPPED", request.reason)
        return self.keeper.pending_view()

    # -- accounts -------------------------------------------------------------------------------

    async def store_api_key(self, request: ApiKeyRequest) -> ApiKeyReply:
        register_secrets([request.api_key])
        where = await asyncio.to_thread(
            store_api_key, self.keeper.config_dir, request.username, request.api_key
        )
        self.audit("API_KEY_STORED", f"API key for {request.username} stored in {where}")
        return ApiKeyReply(stored_in=where, masked=mask(request.api_key))

    async def test_connection(self) -> ConnectionReply:
        client = self.daemon.client
        if client is None:
            return ConnectionReply(ok=False, error="no gateway client yet")
        try:
            accounts = await client.polling.search_accounts()
        except BrokerError as exc:
            return ConnectionReply(ok=False, error=str(exc))
        engine = self.daemon.engine
        monitored = set(engine.states) if engine is not None else set()
        checks = [
            AccountCheck(
                id=a.id,
                name=a.name,
                can_trade=a.can_trade,
                balance=str(a.balance),
                monitored=a.id in monitored,
            )
            for a in accounts
        ]
        return ConnectionReply(ok=True, accounts=checks)


__all__ = ["DaemonAdmin", "lock_view"]
