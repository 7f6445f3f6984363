"""The status screen on a fixed database and a frozen clock: snapshot, keys, banners, colour rules.

The database is a real SQLite file written by ``risk_manager.tui.sample`` (the daemon's own
snapshot code over real ledger states); the app is the real Textual app driven by Pilot.
Refresh the snapshot after an intended change with ``UPDATE_SNAPSHOTS=1 pytest tests/unit/tui``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from rich.console import Console
from rich.text import Text
from typer.testing import CliRunner

from risk_manager import __version__
from risk_manager.cli.status import print_frame, status
from risk_manager.schedule import AccountMode, ManualClock
from risk_manager.store import Store
from risk_manager.store.rows import EnforcementRow, LockRow
from risk_manager.store.timefmt import to_iso
from risk_manager.tui.app import StatusApp
from risk_manager.tui.frame import Frame, StatusReader, countdown
from risk_manager.tui.render import LEVEL_STYLES, bar, whole_frame
from risk_manager.tui.sample import write_sample

NOW = datetime(2025, 12, 22, 15, 30, tzinfo=UTC)  # Monday 10:30 New York, Christmas in 3 days
NEW_YORK = ZoneInfo("America/New_York")
SNAPSHOT = Path(__file__).parent / "snapshots" / "status_main.txt"
SIZE = (120, 60)


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, Path]:
    """(config dir, database) of the sample day."""
    database = write_sample(tmp_path / "config", tmp_path / "data", NOW)
    return tmp_path / "config", database


def reader(sample: tuple[Path, Path], account: str | None = None) -> StatusReader:
    config_dir, database = sample
    return StatusReader(database, config_dir, tz=NEW_YORK, account=account)


def screen_text(app: StatusApp) -> str:
    """What the terminal shows, as plain text (the same compositor output Textual's SVG export prints)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, force_terminal=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def text_of(frame: Frame) -> str:
    console = Console(width=120, file=io.StringIO(), record=True, highlight=False)
    print_frame(frame, console)
    return console.export_text()


def test_main_screen_matches_the_snapshot(sample: tuple[Path, Path]) -> None:
    async def run() -> str:
        app = StatusApp(reader(sample).read, ManualClock(NOW))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            return screen_text(app)

    shown = asyncio.run(run()).replace(__version__, "X.Y.Z")
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(shown)
    assert shown == SNAPSHOT.read_text()
    # What the snapshot is about, said once more so a careless update cannot hide it:
    assert "daemon RUNNING" in shown and "PRAC-V2-101 (101) LOCKED" in shown
    assert "RULE-003 hard: daily P&L -512.40 <= -500.00  until 17:00 EST 06:30:00" in shown
    assert "grace 00:00:07" in shown and "protected" in shown
    assert "Trades/hour      8/10" in shown and "PENDING CONFIG" in shown and "Christmas" in shown


def test_r_redraws_at_once_and_q_quits(sample: tuple[Path, Path]) -> None:
    _, database = sample
    clock = ManualClock(NOW)

    async def run() -> None:
        app = StatusApp(reader(sample).read, clock, every=3600)  # no timer tick during the test
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.frame is not None and app.redraws == 1
            cooldown = LockRow(2, 102, "RULE-006", "account", "cooldown", "trades 4 > 3 per minute",
                               NOW, NOW + timedelta(seconds=60))  # fmt: skip
            with Store.open(database) as store:  # the daemon locks account 102 meanwhile
                store.insert_lockout(cooldown)
            clock.advance(seconds=15)
            await pilot.press("r")
            assert app.redraws == 2
            assert app.frame.accounts[1].mode is AccountMode.COOLDOWN
            assert "PRAC-V2-102 (102) COOLDOWN" in screen_text(app)
            assert "COOLDOWN until 10:31 EST  00:00:45" in screen_text(app)
            await pilot.press("q")
            await pilot.pause()
        assert app.return_code == 0 and not app.is_running

    asyncio.run(run())


def test_the_screen_redraws_by_itself_with_the_clock(sample: tuple[Path, Path]) -> None:
    clock = ManualClock(NOW)

    async def run() -> None:
        app = StatusApp(reader(sample).read, clock, every=0.05)
        async with app.run_test(size=SIZE) as pilot:
            clock.advance(seconds=3)
            async with asyncio.timeout(10):
                while app.frame is None or app.frame.now != clock.now():
                    await pilot.pause(0.05)
            await pilot.pause()
            assert "grace 00:00:04" in screen_text(app)  # the 7 s grace, 3 s later

    asyncio.run(run())


def test_a_database_that_cannot_be_read_keeps_the_last_frame_and_says_so(sample: tuple[Path, Path]) -> None:
    _, database = sample

    async def run() -> None:
        app = StatusApp(reader(sample).read, ManualClock(NOW), every=3600)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            database.write_bytes(b"not a database")
            await pilot.press("r")
            assert "cannot read the database" in screen_text(app)
            assert "PRAC-V2-101 (101) LOCKED" in screen_text(app)  # the last frame stays up

    asyncio.run(run())


@pytest.mark.parametrize(
    ("ratio", "level", "style", "filled"),
    [
        pytest.param(0.79, "ok", "green", 16, id="79%-green"),
        pytest.param(0.8, "warn", "yellow", 16, id="80%-yellow"),
        pytest.param(1.0, "breached", "bold red", 20, id="100%-breached-red"),
        pytest.param(1.7, "breached", "bold red", 20, id="past-the-limit-stays-full"),
    ],
)
def test_bar_colour_follows_the_level(ratio: float, level: str, style: str, filled: int) -> None:
    drawn = bar(ratio, level)
    assert drawn.plain == "█" * filled + "░" * (20 - filled)
    assert str(drawn.style) == style == LEVEL_STYLES[level]


def test_rule_rows_are_coloured_by_the_daemons_level(sample: tuple[Path, Path]) -> None:
    frame = reader(sample).read(NOW)
    hour = next(u for u in frame.accounts[1].rules if u.label == "Trades/hour")
    loss = next(u for u in frame.accounts[0].rules if u.label == "Daily loss")
    assert (hour.text, hour.ratio, hour.level) == ("8/10", 0.8, "warn")
    assert (loss.text, loss.level) == ("-512.40 / -500.00", "breached")
    console = Console(
        width=120, file=io.StringIO(), record=True, force_terminal=True, color_system="standard"
    )
    console.print(whole_frame(frame))
    coloured = console.export_text(styles=True)
    assert re.search(r"\x1b\[33m8/10", coloured), "80 % of a limit is yellow"
    assert re.search(r"\x1b\[1;31m-512\.40 / -500\.00", coloured), "a breached limit is bold red"


def test_frame_reads_locks_positions_countdowns_and_pending_config(sample: tuple[Path, Path]) -> None:
    frame = reader(sample).read(NOW)
    locked, trading = frame.accounts
    assert frame.daemon == "RUNNING" and frame.connection == "CONNECTED"
    assert (locked.mode, locked.unlock_at) == (AccountMode.LOCKED, datetime(2025, 12, 22, 22, tzinfo=UTC))
    assert countdown(locked.unlock_at, NOW) == "06:30:00"
    assert [(p.symbol, p.side, p.protection) for p in trading.positions] == [
        ("ES", "short", "grace 00:00:07"),
        ("MNQ", "long", "protected"),
    ]
    assert trading.total == "-236.88"
    assert frame.pending is not None and frame.pending.changes == (
        "rules.max_contracts.limit 5 -> 8 (looser)",
    )
    assert [(d.date.isoformat(), d.kind) for d in frame.holidays] == [
        ("2025-12-24", "early_close"),
        ("2025-12-25", "holiday"),
    ]
    assert [(s.scope, s.is_open) for s in trading.sessions] == [("account", True)]


def test_grace_countdown_runs_down_with_the_clock(sample: tuple[Path, Path]) -> None:
    status_reader = reader(sample)
    assert (
        status_reader.read(NOW + timedelta(seconds=5)).accounts[1].positions[0].protection == "grace 00:00:02"
    )
    assert status_reader.read(NOW + timedelta(seconds=9)).accounts[1].positions[0].protection == (
        "grace over: closing"
    )


def test_account_filter_by_id_or_name(sample: tuple[Path, Path]) -> None:
    by_id = reader(sample, account="102").read(NOW)
    by_name = reader(sample, account="PRAC-V2-101").read(NOW)
    assert [a.id for a in by_id.accounts] == [102] and [a.id for a in by_name.accounts] == [101]
    assert {a.account_id for a in by_id.actions} == {102}
    assert reader(sample, account="nobody").read(NOW).accounts == ()


def set_meta(database: Path, **values: str) -> None:
    with Store.open(database) as store:
        store.set_meta_many(values)


def test_banners_store_error_config_states_failed_enforcement_and_accounts_in_error(
    sample: tuple[Path, Path],
) -> None:
    _, database = sample
    snap = json.loads(Store.open(database, read_only=True).get_meta("snapshot") or "{}")
    snap["account_errors"] = [{"account": "Combine 50K", "error": "account 9876543 is not visible"}]
    set_meta(database, store_error="database is locked", config_state="REJECTED",
             config_error="risk_config.yaml:14: rules.daily_realized_loss.limit: must be < 0 (got 500)",
             snapshot=json.dumps(snap))  # fmt: skip
    text = text_of(reader(sample).read(NOW))
    assert "STORE ERROR database is locked" in text
    assert "CONFIG REJECTED (running on the last good config): risk_config.yaml:14:" in text
    assert "ACCOUNT IN ERROR Combine 50K: account 9876543 is not visible" in text
    set_meta(database, config_state="ERROR", config_error="accounts.yaml: missing")
    assert "CONFIG ERROR (no monitoring): accounts.yaml: missing" in text_of(reader(sample).read(NOW))
    with Store.open(database) as store:
        store.log_enforcement(EnforcementRow(None, NOW, 101, "RULE-003", "close_all", None, None, "daily P&L",
                                             "FAILED", "HTTP 500 from Position/closeContract"))  # fmt: skip
    assert "ENFORCEMENT FAILED RULE-003 close_all: HTTP 500 from Position/closeContract" in text_of(
        reader(sample).read(NOW)
    )


def test_not_running_says_how_to_start_and_keeps_the_locks(sample: tuple[Path, Path]) -> None:
    later = NOW + timedelta(minutes=10)  # heartbeat 10 min old, daemon_pid 0: nobody there
    frame = reader(sample).read(later)
    assert frame.daemon == "NOT RUNNING"
    assert frame.accounts[0].mode is AccountMode.LOCKED
    text = text_of(frame)
    assert "The daemon is not running: nothing is enforcing your rules." in text
    assert "python -m risk_manager run" in text and "last heartbeat 10:29:59 EST" in text


def test_an_unreadable_config_dir_leaves_reset_and_sessions_blank_but_shows_the_database(
    sample: tuple[Path, Path], tmp_path: Path
) -> None:
    _, database = sample
    frame = StatusReader(database, tmp_path / "nowhere", tz=NEW_YORK).read(NOW)
    assert (
        frame.next_reset is None and frame.config_problem and "config dir not found" in frame.config_problem
    )
    assert frame.accounts[0].mode is AccountMode.LOCKED
    assert "config not readable" in text_of(frame)


def test_pending_config_written_by_the_daemon_is_shown(sample: tuple[Path, Path]) -> None:
    _, database = sample
    pending = {"apply_at": to_iso(datetime(2025, 12, 22, 22, tzinfo=UTC)),
               "changes": [{"text": "rules.no_stop_loss_grace.grace_period_seconds 10 -> 30 (looser)"},
                           {"text": "rules.symbol_blocks.blocked_symbols -RTY (looser)"}]}  # fmt: skip
    set_meta(database, pending_config=json.dumps(pending))
    text = text_of(reader(sample).read(NOW))
    assert "PENDING CONFIG applies at 17:00 EST (in 06:30:00):" in text
    assert "grace_period_seconds 10 -> 30 (looser)" in text and "blocked_symbols -RTY (looser)" in text
    set_meta(database, pending_config="")
    assert "PENDING CONFIG" not in text_of(reader(sample).read(NOW))
    problem = {"apply_at": None, "changes": [], "problems": ["accounts.yaml changed since: asked again"]}
    set_meta(database, pending_config=json.dumps(problem))
    assert "PENDING CONFIG PROBLEM accounts.yaml changed since: asked again" in text_of(
        reader(sample).read(NOW)
    )
    set_meta(database, pending_config="{not json")
    assert "PENDING CONFIG PROBLEM pending config present but unreadable" in text_of(reader(sample).read(NOW))


# --------------------------------------------------------------------------- the command


def test_once_off_a_terminal_prints_one_plain_frame_and_exits_1_when_not_running(tmp_path: Path) -> None:
    database = write_sample(tmp_path / "config", tmp_path / "data", datetime.now(UTC) - timedelta(minutes=5))
    args = ["--config-dir", str(tmp_path / "config"), "--data-dir", str(database.parent)]
    result = CliRunner().invoke(_app(), args)  # no --once: off a terminal it prints one frame all the same
    assert result.exit_code == 1  # heartbeat 5 minutes old, daemon_pid 0: NOT RUNNING
    assert "PRAC-V2-101 (101) LOCKED" in result.output and "NOT RUNNING" in result.output
    assert "\x1b[" not in result.output  # no colour off a terminal


def test_once_exits_0_while_the_daemon_runs_and_json_keeps_the_first_formats_keys(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    database = write_sample(tmp_path / "config", tmp_path / "data", now)
    args = ["--config-dir", str(tmp_path / "config"), "--data-dir", str(database.parent)]
    assert CliRunner().invoke(_app(), ["--once", *args]).exit_code == 0
    result = CliRunner().invoke(_app(), ["--json", *args])
    assert result.exit_code == 0
    frame = json.loads(result.stdout)
    assert {
        "daemon",
        "connection",
        "heartbeat_at",
        "store_error",
        "accounts",
        "locks",
        "last_actions",
    } <= set(frame)
    assert [lock["rule"] for lock in frame["locks"]] == ["RULE-003"]
    assert frame["accounts"][0]["mode"] == "LOCKED" and frame["accounts"][0]["countdown"]
    assert frame["accounts"][1]["positions"][0]["protection"].startswith("grace")
    assert frame["pending_config"]["changes"] == ["rules.max_contracts.limit 5 -> 8 (looser)"]


def test_no_colour_with_no_color_even_on_a_terminal(
    sample: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = reader(sample).read(NOW)

    def printed() -> str:
        out = io.StringIO()
        print_frame(frame, Console(file=out, force_terminal=True, width=120))
        return out.getvalue()

    colour = re.compile(r"\x1b\[[0-9;]*(3[0-7]|38;|9[0-7])[;m]")
    assert colour.search(printed()), "a terminal gets colour"
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour.search(printed())


def _app() -> typer.Typer:
    """``risk-status`` as its console script runs it: the one command on its own."""
    app = typer.Typer()
    app.command()(status)
    return app


def test_text_bar_is_empty_without_a_measure() -> None:
    assert bar(None, "ok") == Text("")
