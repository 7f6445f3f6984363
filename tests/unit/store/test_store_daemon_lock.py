"""One daemon per data dir (SPEC §5), checked with real second processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from risk_manager.store import AlreadyRunning, DaemonLock

# Takes the lock, says "locked", holds it until stdin closes; exit 1 + message if it is taken.
CHILD = """
import sys
from pathlib import Path
from risk_manager.store import AlreadyRunning, DaemonLock
try:
    with DaemonLock(Path(sys.argv[1])):
        print("locked", flush=True)
        sys.stdin.read()
except AlreadyRunning as exc:
    print(exc, file=sys.stderr)
    sys.exit(1)
"""


def _child(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _expected_message(data_dir: Path, pid: int) -> str:
    return (
        f"another Risk Manager daemon is already running for data dir {data_dir} (pid {pid}); "
        "stop it first or use another --data-dir"
    )


@pytest.mark.slow
def test_second_process_exits_1_with_a_clear_message_while_we_hold_the_lock(tmp_path: Path) -> None:
    with DaemonLock(tmp_path):
        child = _child(tmp_path)
        stdout, stderr = child.communicate(input="", timeout=60)
    assert child.returncode == 1
    assert stdout == ""
    assert stderr.strip() == _expected_message(tmp_path, os.getpid())


@pytest.mark.slow
def test_we_cannot_take_the_lock_a_running_process_holds_until_it_exits(tmp_path: Path) -> None:
    child = _child(tmp_path)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "locked\n"
        with pytest.raises(AlreadyRunning) as caught:
            DaemonLock(tmp_path).acquire()
        assert caught.value.pid == child.pid
        assert str(caught.value) == _expected_message(tmp_path, child.pid)
    finally:
        child.communicate(input="", timeout=60)
    assert child.returncode == 0
    with DaemonLock(tmp_path) as lock:
        assert lock.is_held


@pytest.mark.slow
def test_lock_of_a_killed_process_is_free_at_once(tmp_path: Path) -> None:
    child = _child(tmp_path)
    assert child.stdout is not None
    assert child.stdout.readline() == "locked\n"
    child.kill()
    child.communicate(timeout=60)
    with DaemonLock(tmp_path) as lock:
        assert lock.path.read_text() == f"{os.getpid()}\n"


def test_second_lock_in_the_same_process_fails_and_release_frees_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    first = DaemonLock(data_dir)
    first.acquire()
    assert (data_dir / "daemon.lock").read_text() == f"{os.getpid()}\n"
    with pytest.raises(AlreadyRunning, match=r"already running .* \(pid \d+\)"):
        DaemonLock(data_dir).acquire()
    first.release()
    first.release()  # twice is harmless
    assert (data_dir / "daemon.lock").read_text() == ""
    with DaemonLock(data_dir) as again:
        assert again.is_held
    assert not again.is_held


def test_acquiring_the_same_lock_object_twice_is_a_bug(tmp_path: Path) -> None:
    with DaemonLock(tmp_path) as lock, pytest.raises(RuntimeError, match="already held"):
        lock.acquire()
