"""The trader's status screen (SPEC §6): a frame read from the database, drawn live or once."""

from risk_manager.tui.app import StatusApp, status_app
from risk_manager.tui.frame import Frame, StatusReader, countdown, daemon_state
from risk_manager.tui.render import whole_frame

__all__ = ["Frame", "StatusApp", "StatusReader", "countdown", "daemon_state", "status_app", "whole_frame"]
