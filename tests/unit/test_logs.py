"""The daemon's JSON log lines and secret redaction."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from risk_manager.daemon.logs import mask, register_secrets, setup_logging
from risk_manager.schedule import ManualClock


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_one_json_object_per_line_with_extras_and_no_secret(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "risk_manager.log"
    setup_logging("INFO", log_file, max_bytes=1 << 20, backups=2, stream=False)
    register_secrets(["sk-live-0123456789abcdef"])
    log = logging.getLogger("risk_manager.test")
    log.info("login with %s", "sk-live-0123456789abcdef", extra={"account": 7})
    log.warning("plain")
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = log_file.read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["msg"] == "login with ****" and first["account"] == 7 and first["level"] == "INFO"
    assert first["ts"].endswith("Z") and second["msg"] == "plain"
    assert "0123456789abcdef" not in log_file.read_text()


def test_mask_keeps_only_the_last_four() -> None:
    assert mask("abcdefghijkl") == "****ijkl"
    assert mask("short") == "****"
    assert mask(None) == ""


def write_records(count: int, *, size: int = 300) -> None:
    """``count`` INFO lines of about ``size`` bytes each, numbered from 0."""
    log = logging.getLogger("risk_manager.test")
    for n in range(count):
        log.info("record %06d %s", n, "x" * size)
    for handler in logging.getLogger().handlers:
        handler.flush()


def numbers(path: Path) -> list[int]:
    return [int(json.loads(line)["msg"].split()[1]) for line in path.read_text().splitlines()]


def test_the_file_rotates_at_max_bytes_keeping_backups_files_and_the_newest_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "risk_manager.log"
    setup_logging("INFO", log_file, max_bytes=65_536, backups=3, stream=False)
    write_records(1_000)  # ~400 kB: six rotations' worth, only three kept
    names = sorted(p.name for p in log_file.parent.iterdir())
    assert names == ["risk_manager.log", "risk_manager.log.1", "risk_manager.log.2", "risk_manager.log.3"]
    files = [log_file.with_name(f"risk_manager.log.{n}") for n in (3, 2, 1)] + [log_file]
    assert all(0 < f.stat().st_size <= 65_536 for f in files)
    kept = [n for f in files for n in numbers(f)]  # oldest file first: one unbroken run up to the last
    assert kept == list(range(kept[0], 1_000))
    assert log_file.with_name("risk_manager.log.1").stat().st_size > 65_536 - 500  # full when rotated


def test_no_backups_means_the_file_starts_again_rather_than_growing(tmp_path: Path) -> None:
    log_file = tmp_path / "risk_manager.log"
    setup_logging("INFO", log_file, max_bytes=65_536, backups=0, stream=False)
    write_records(1_000)
    assert [p.name for p in tmp_path.iterdir()] == ["risk_manager.log"]
    assert log_file.stat().st_size <= 65_536
    assert numbers(log_file)[-1] == 999


def age(path: Path, now: datetime, days: float) -> None:
    stamp = (now - timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))


def test_rotated_files_past_retention_are_deleted_at_start_and_then_daily(tmp_path: Path) -> None:
    now = datetime.now(UTC)  # file times are the OS's, so the clock starts at the real now
    clock = ManualClock(now)
    log_file = tmp_path / "risk_manager.log"
    for name in ("risk_manager.log", "risk_manager.log.1", "risk_manager.log.2", "risk_manager.log.3",
                 "supervisor.log.4", "risk_manager.log.bak"):  # fmt: skip
        (tmp_path / name).write_text("{}\n")
    age(tmp_path / "risk_manager.log", now, 40)  # the live file is never deleted, however old
    age(tmp_path / "risk_manager.log.1", now, 29)
    age(tmp_path / "risk_manager.log.2", now, 31)
    age(tmp_path / "risk_manager.log.3", now, 45)
    age(tmp_path / "supervisor.log.4", now, 45)  # another program's log: not ours to delete
    age(tmp_path / "risk_manager.log.bak", now, 45)
    setup_logging(
        "INFO", log_file, max_bytes=1 << 20, backups=5, retention_days=30, stream=False, clock=clock
    )
    remaining = ["risk_manager.log", "risk_manager.log.1", "risk_manager.log.bak", "supervisor.log.4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == remaining

    clock.advance(hours=23)  # .1 is now past retention, but the day's pass was at the start
    age(tmp_path / "risk_manager.log.1", now, 35)
    write_records(1)
    assert (tmp_path / "risk_manager.log.1").exists()  # at most one pass a day
    clock.advance(hours=1)
    write_records(1)
    assert not (tmp_path / "risk_manager.log.1").exists()
