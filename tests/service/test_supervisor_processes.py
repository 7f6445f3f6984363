"""The supervisor for real: child processes that exit with given codes, and the real daemon (SPEC §7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from process_harness import (
    children_of,
    connected_daemon_pid,
    gateway_process,
    is_alive,
    read_meta,
    wait_for,
    write_config,
)
from risk_manager.service.supervisor import SUPERVISOR_PID_ENV, ChildSpec, Supervisor, popen_spawner

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and /proc")

CHILD = """
import os, sys, time
from pathlib import Path
log = Path(sys.argv[1])
codes = [int(c) for c in sys.argv[2].split(",")]
runs = log.read_text().count("start") if log.exists() else 0
with log.open("a") as f:
    f.write(f"start {time.monotonic()} {os.environ.get('PID_ENV', '')}\\n")
time.sleep(0.2)
with log.open("a") as f:
    f.write(f"exit {time.monotonic()}\\n")
sys.exit(codes[min(runs, len(codes) - 1)])
""".replace("PID_ENV", SUPERVISOR_PID_ENV)


def test_a_real_child_is_restarted_by_exit_code_until_it_exits_0(tmp_path: Path) -> None:
    script, log = tmp_path / "child.py", tmp_path / "runs.log"
    script.write_text(CHILD)
    spec = ChildSpec("daemon", (sys.executable, str(script), str(log), "3,75,-1,0"), primary=True)
    supervisor = Supervisor([spec], max_backoff=0.5, spawn=popen_spawner({SUPERVISOR_PID_ENV: "4242"}))
    started = time.monotonic()
    assert supervisor.run() == 0
    lines = [line.split() for line in log.read_text().splitlines()]
    starts = [float(line[1]) for line in lines if line[0] == "start"]
    exits = [float(line[1]) for line in lines if line[0] == "exit"]
    assert len(starts) == 4, lines  # 3 -> restart, 75 -> restart, 255 -> restart, 0 -> done
    assert all(line[2] == "4242" for line in lines if line[0] == "start")
    gap_after_3, gap_after_75, gap_after_255 = (starts[i + 1] - exits[i] for i in range(3))
    assert 0.5 <= gap_after_3 < 1.0  # the first delay, capped at --max-backoff 0.5
    assert gap_after_75 < 0.4  # at once (a poll and a Python start-up)
    assert 0.5 <= gap_after_255 < 1.0  # the back-off level was kept across the 75
    assert time.monotonic() - started < 10


def test_a_stop_request_sends_sigterm_and_kills_a_child_that_ignores_it(tmp_path: Path) -> None:
    script = tmp_path / "stubborn.py"
    script.write_text("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)\n")
    spec = ChildSpec("daemon", (sys.executable, str(script)), primary=True)
    supervisor = Supervisor([spec], stop_grace=1.0)
    runner = threading.Thread(target=supervisor.run)
    runner.start()
    pid = wait_for(lambda: supervisor.pids().get("daemon"), "the child started")
    time.sleep(0.5)  # let it install its SIG_IGN
    started = time.monotonic()
    supervisor.request_stop()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert 1.0 <= time.monotonic() - started < 5
    assert not is_alive(pid)


@pytest.mark.slow
def test_supervise_restarts_the_real_daemon_after_sigkill_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "data"
    with gateway_process() as url:
        rules = {"max_contracts": {"enabled": True, "limit": 2}}
        write_config(config, url, [1], rules, general={"watchdog": {"stale_seconds": 30}})
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "risk_manager", "supervise", "--max-backoff", "0.5",
             "--config-dir", str(config), "--data-dir", str(data)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            first = wait_for(lambda: connected_daemon_pid(data), "the first daemon connected", timeout=30)
            assert read_meta(data)["supervisor_pid"] == str(supervisor.pid)
            assert len(children_of(supervisor.pid)) == 2  # the daemon and the watchdog
            os.kill(first, signal.SIGKILL)
            second = wait_for(lambda: connected_daemon_pid(data, not_pid=first), "a restarted daemon", 30)
            supervisor.send_signal(signal.SIGTERM)
            assert supervisor.wait(timeout=20) == 0
        finally:
            if supervisor.poll() is None:
                supervisor.kill()
        assert supervisor.stderr is not None
        stderr = [json.loads(line) for line in supervisor.stderr.read().splitlines() if line.startswith("{")]
    assert not is_alive(second)
    meta = read_meta(data)
    assert meta["connection"] == "DISCONNECTED"  # the daemon shut down gracefully on the supervisor's SIGTERM
    assert meta["supervisor_pid"] == ""
    logged = [json.loads(line) for line in (data / "logs" / "supervisor.log").read_text().splitlines()]
    for lines in (stderr, logged):
        [restart] = [line for line in lines if line.get("event") == "restart"]
        assert (restart["child"], restart["pid"], restart["exit_code"]) == ("daemon", first, -9)
        stops = [line for line in lines if line.get("event") == "stop"]
        assert sorted((s["child"], s["exit_code"]) for s in stops) == [("daemon", 143), ("watchdog", 0)]
