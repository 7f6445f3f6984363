"""The trader's live status screen (``risk-status``): a Textual app redrawn every second.

It only reads (the database, read-only, and the config dir), so it needs no password and
shows the locks even while the daemon is down. Keys: ``r`` redraws now, ``q`` quits.
The clock is injected: tests and screenshots freeze it, so the screen is the same each run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from risk_manager.schedule import Clock, SystemClock
from risk_manager.store import StoreError
from risk_manager.tui.frame import Frame, StatusReader
from risk_manager.tui.render import accounts_group, actions_table, banners, header, schedule_line

#: Builds the frame for an instant (``StatusReader.read``, or a fixed frame in a test).
FrameSource = Callable[[datetime], Frame]


class StatusApp(App[int]):
    """Header and banners on top, the accounts scrolling below, the last actions at the end."""

    TITLE = "Risk Manager status"
    CSS = """
    #header { height: auto; padding: 0 1; background: $panel; }
    #banners { height: auto; padding: 0 1; }
    #schedule { height: auto; padding: 0 1; }
    #accounts { height: auto; }
    #actions { height: auto; padding: 0 1; margin-top: 1; }
    #error { height: auto; padding: 0 1; color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh_now", "Refresh"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, source: FrameSource, clock: Clock | None = None, *, every: float = 1.0) -> None:
        super().__init__()
        self.source = source
        self.clock: Clock = clock or SystemClock()
        self.every = every
        #: the last frame drawn (None until the first read succeeds)
        self.frame: Frame | None = None
        #: how many times the screen was redrawn (tests watch ``r`` move it)
        self.redraws = 0

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield Static(id="error")
        yield Static(id="banners")
        yield Static(id="schedule")
        with VerticalScroll():
            yield Static(id="accounts")
            yield Static(id="actions")
        yield Footer()

    def on_mount(self) -> None:
        self._show_error(None)
        self.redraw()
        self.set_interval(self.every, self.redraw)

    def action_refresh_now(self) -> None:
        """``r``: read and redraw at once instead of waiting for the next second."""
        self.redraw()

    def redraw(self) -> None:
        """Read a new frame and draw it; a database that cannot be read keeps the last frame up."""
        try:
            frame = self.source(self.clock.now())
        except StoreError as exc:
            self._show_error(f"cannot read the database: {exc}")
            return
        self._show_error(None)
        self.frame = frame
        self.redraws += 1
        self.query_one("#header", Static).update(header(frame))
        self.query_one("#banners", Static).update(banners(frame))
        self.query_one("#schedule", Static).update(schedule_line(frame))
        self.query_one("#accounts", Static).update(accounts_group(frame))
        self.query_one("#actions", Static).update(actions_table(frame))

    def _show_error(self, message: str | None) -> None:
        error = self.query_one("#error", Static)
        error.update(message or "")
        error.display = message is not None


def status_app(reader: StatusReader, clock: Clock | None = None) -> StatusApp:
    """The app over a reader: what ``risk-status`` runs."""
    return StatusApp(reader.read, clock)


__all__ = ["FrameSource", "StatusApp", "status_app"]
