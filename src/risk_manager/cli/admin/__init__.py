"""``risk-admin``: the admin CLI, one module per command group (SPEC §6)."""

from risk_manager.cli.admin.app import admin_app, admin_main

__all__ = ["admin_app", "admin_main"]
