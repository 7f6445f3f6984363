"""Keeping the daemon running (SPEC §7): the supervisor, the dead-man watchdog and the OS services.

* :mod:`.supervisor`: ``risk_manager supervise``, the daemon as a restarted child.
* :mod:`.watchdog`: ``risk_manager watchdog``, alerts (and flattens) on a stale heartbeat.
* :mod:`.systemd`, :mod:`.launchd`, :mod:`.windows`: what each OS's service runs, as text or commands.
* :mod:`.manager`: ``install/uninstall/start/stop/restart/status`` for ``risk-admin service``.
"""

from risk_manager.service.manager import (
    ServiceError,
    ServiceStatus,
    install,
    restart,
    start,
    status,
    stop,
    uninstall,
)
from risk_manager.service.supervisor import Backoff, ChildSpec, Supervisor

__all__ = [
    "Backoff",
    "ChildSpec",
    "ServiceError",
    "ServiceStatus",
    "Supervisor",
    "install",
    "restart",
    "start",
    "status",
    "stop",
    "uninstall",
]
