"""Fault: the database locked by another process, or the disk full (SPEC §4.5).

Enforcement never waits for the store: a lock it cannot write is held in memory and
enforced, written when the store recovers; meanwhile the engine reports STORE ERROR.
The unit tests drive :class:`GuardedStore` on a real SQLite file with a real foreign
write lock (or a connection that answers "database or disk is full"); the live tests
run the daemon against the simulator with another process holding the write lock, and
with its data dir on a tmpfs of a few megabytes filled to the last byte.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from faultkit import DAILY_LOSS, live_daemon, trader_for, until, write_config
from risk_manager.control.client import ControlClient
from risk_manager.control.protocol import Health
from risk_manager.engine.persist import BUSY_TIMEOUT_MS, RETRY_DELAYS, GuardedStore
from risk_manager.gateway import running_gateway
from risk_manager.store import LockRow, Store

NOON = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
DB = "risk_manager.db"


def lock_row(lock_id: int, rule: str = "RULE-003") -> LockRow:
    return LockRow(
        lock_id, 1, rule, "account", "hard", "daily P&L -550.00 <= -500.00", NOON, NOON + timedelta(hours=5)
    )


class FakeMonotonic:
    """The retry back-off's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / DB) as opened:
        yield opened


@pytest.fixture
def foreign_lock(tmp_path: Path, store: Store) -> Iterator[sqlite3.Connection]:
    """Another connection holding the database's write lock until the test commits it."""
    other = sqlite3.connect(tmp_path / DB, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("COMMIT")
    other.close()


def test_a_foreign_write_lock_costs_one_short_wait_and_then_writes_only_queue(
    tmp_path: Path, store: Store, foreign_lock: sqlite3.Connection
) -> None:
    clock = FakeMonotonic()
    guarded = GuardedStore(store, monotonic=clock)
    started = time.perf_counter()
    guarded.write(lambda s: s.insert_lockout(lock_row(1)))
    first = time.perf_counter() - started
    assert guarded.store_error and "locked" in (guarded.error or "")
    assert first < BUSY_TIMEOUT_MS / 1000 + 0.3  # not SQLite's 5 s default
    started = time.perf_counter()
    for n in range(2, 22):
        guarded.write(lambda s, n=n: s.insert_lockout(lock_row(n, rule=f"RULE-{n:03d}")))
    guarded.write(lambda s: s.clear_lockout(1, NOON + timedelta(minutes=1), "admin"))
    assert time.perf_counter() - started < 0.05  # queued, no attempt per write
    assert guarded.held == 22


def test_held_writes_are_retried_with_back_off_and_written_in_order_on_recovery(
    tmp_path: Path, store: Store, foreign_lock: sqlite3.Connection
) -> None:
    clock = FakeMonotonic()
    guarded = GuardedStore(store, monotonic=clock)
    guarded.write(lambda s: s.insert_lockout(lock_row(1)))  # failure 1: the next retry may go at once
    guarded.write(lambda s: s.clear_lockout(1, NOON + timedelta(minutes=1), "admin"))
    guarded.write(lambda s: s.insert_lockout(lock_row(2)))
    guarded.retry()  # failure 2: now the back-off starts
    started = time.perf_counter()
    guarded.retry()
    assert time.perf_counter() - started < 0.05  # within the back-off: no attempt, no wait
    foreign_lock.execute("COMMIT")
    guarded.retry()
    assert guarded.store_error  # still waiting for its turn
    clock.now += RETRY_DELAYS[1]
    guarded.retry()
    assert not guarded.store_error and guarded.held == 0
    with Store.open(tmp_path / DB, read_only=True) as reader:
        locks = reader.lockouts()
    assert [(lock.id, lock.cleared_by) for lock in locks] == [(1, "admin"), (2, None)]


class FullDisk:
    """A connection whose commits fail as SQLite's do on a full disk (SQLITE_FULL), until ``full`` is off.

    It stands at the store's boundary: the Store above it is the real one, unchanged.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.full = True

    def execute(self, sql: str, *args: Any) -> Any:
        if self.full and sql.strip().upper() == "COMMIT":
            exc = sqlite3.OperationalError("database or disk is full")
            exc.sqlite_errorcode = 13  # type: ignore[attr-defined]  # SQLITE_FULL, as SQLite sets it
            raise exc
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_a_full_disk_holds_every_write_in_memory_and_loses_none_when_space_returns(
    tmp_path: Path, store: Store
) -> None:
    clock = FakeMonotonic()
    guarded = GuardedStore(store, monotonic=clock)
    disk = FullDisk(store._conn)
    store._conn = disk  # type: ignore[assignment]
    guarded.write(lambda s: s.insert_lockout(lock_row(1)))
    guarded.write(lambda s: s.set_meta("last_reset", NOON.isoformat()))
    guarded.flush_soon()
    assert guarded.store_error and "full" in (guarded.error or "")
    for _ in range(5):
        clock.now += 60
        guarded.retry()
    assert guarded.store_error and guarded.held == 3
    disk.full = False
    clock.now += 60
    guarded.retry()
    assert not guarded.store_error
    store._conn = disk._conn
    assert [lock.id for lock in store.active_lockouts()] == [1]
    assert store.get_meta("last_reset") == NOON.isoformat()


# -- live: the daemon, the simulator, and a store that fails ------------------------------------------

HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


def hold_write_lock(db: Path) -> subprocess.Popen[str]:
    """Another process takes the database's write lock and keeps it until told (a line on stdin)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=10) == 0


def control_health(port: int) -> Health:
    with ControlClient(f"http://127.0.0.1:{port}") as client:
        return client.health()


def lock_rows(db: Path) -> list[tuple[int, str]]:
    with Store.open(db, read_only=True) as reader:
        return [(lock.account_id, lock.rule_id) for lock in reader.active_lockouts()]


async def breach_under_failing_store(live: Any, trader: Any, account: int = 1) -> str:
    """RULE-003 breached while the store cannot be written: flattened at once, lock held in memory,
    and lockout mode (from memory) closes the next position too."""
    mnq = await trader.contract("MNQ")
    await trader.quote(mnq, 21000.0)
    await trader.buy(account, mnq, 2)
    await trader.holds(account, mnq, 2, "the position opened")
    await live.quoted(mnq)
    started = time.perf_counter()
    await trader.quote(mnq, 20940.0)  # 2 MNQ x -60 points = -240.00 <= -100.00
    await trader.holds(account, mnq, 0, "RULE-003 flattened while the store fails")
    assert time.perf_counter() - started < 3.0  # a 5 s wait per write would take far longer
    engine = live.daemon.engine
    assert engine.store.store_error
    assert ("RULE-003", "account") in live.held_locks(account)
    # the database cannot carry the news (its heartbeat cannot be written either): the control API
    # answers from memory, as `risk-admin service status` prints it
    health = await asyncio.to_thread(control_health, live.daemon.config_set.risk.general.control.port)
    assert health.store_error == engine.store.error
    await trader.buy(account, mnq, 1)
    await trader.holds(account, mnq, 0, "lockout mode closed a new position from the lock in memory")
    return str(mnq)


def test_the_daemon_enforces_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = data / DB

    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(tmp_path / "config", gw.url, DAILY_LOSS)
            async with live_daemon(tmp_path / "config", data) as live, trader_for(gw.url) as trader:
                holder = await asyncio.to_thread(hold_write_lock, db)
                try:
                    await breach_under_failing_store(live, trader)
                    assert lock_rows(db) == []  # a reader sees the database, but nothing could be written
                finally:
                    await asyncio.to_thread(release, holder)

                async def recovered() -> bool:
                    return not live.daemon.engine.store.store_error and lock_rows(db) == [(1, "RULE-003")]

                await until(recovered, "the lock row written once the other process let go", timeout=15)

                async def meta_clear() -> bool:
                    with Store.open(db, read_only=True) as reader:
                        return reader.get_meta("store_error") == ""

                await until(meta_clear, "the heartbeat no longer reports a store error")

    asyncio.run(main())


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs mounted in tmp_path (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_disk(mount: Path) -> Path:
    """Write a filler file until the filesystem refuses another byte."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    try:
        while True:
            os.write(fd, b"\0")
    except OSError:
        pass
    os.close(fd)
    return filler


def test_the_daemon_enforces_on_a_full_disk_and_writes_the_lock_when_space_returns(
    tmp_path: Path, tiny_disk: Path
) -> None:
    data = tiny_disk / "data"
    db = data / DB

    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(tmp_path / "config", gw.url, DAILY_LOSS)
            async with live_daemon(tmp_path / "config", data) as live, trader_for(gw.url) as trader:
                filler = fill_disk(tiny_disk)
                try:
                    await breach_under_failing_store(live, trader)
                    assert "full" in (live.daemon.engine.store.error or "")
                    assert lock_rows(db) == []
                finally:
                    filler.unlink()

                async def recovered() -> bool:
                    return not live.daemon.engine.store.store_error and lock_rows(db) == [(1, "RULE-003")]

                await until(recovered, "the lock row written once there was room again", timeout=15)

    asyncio.run(main())
