"""The supervisor's restart policy (SPEC §7) on a fake clock and fake processes: milliseconds, no sleeps."""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass, field

import pytest

from risk_manager.service.supervisor import POLL, Backoff, ChildSpec, Supervisor, describe_exit


@pytest.mark.parametrize(
    ("exits", "delays"),
    [
        pytest.param([(1, 0.5)] * 7, [1, 2, 4, 8, 10, 10, 10], id="crash-loop-doubles-to-the-cap"),
        pytest.param([(1, 0.5), (1, 0.5), (1, 61.0), (1, 0.5)], [1, 2, 1, 2], id="stable-60s-resets"),
        pytest.param([(1, 0.5), (75, 0.5), (1, 0.5)], [1, 0, 2], id="exit-75-at-once-level-kept"),
        pytest.param([(143, 3.0), (-9, 1.0), (4, 0.1)], [1, 2, 4], id="signals-and-config-errors-too"),
    ],
)
def test_backoff_delays(exits: list[tuple[int, float]], delays: list[float]) -> None:
    backoff = Backoff(cap=10.0)
    assert [backoff.delay_after(code, ran) for code, ran in exits] == delays


def test_a_cap_below_one_second_lowers_the_first_delay() -> None:
    backoff = Backoff(cap=0.25)
    assert [backoff.delay_after(1, 0.1) for _ in range(3)] == [0.25, 0.25, 0.25]
    with pytest.raises(ValueError, match="must be > 0"):
        Backoff(cap=0)


@pytest.mark.parametrize(
    ("code", "words"), [(-9, "SIGKILL"), (143, "SIGTERM"), (75, "restart asked for"), (7, "error")]
)
def test_exit_codes_are_named_in_the_restart_line(code: int, words: str) -> None:
    assert describe_exit(code) == words


@dataclass
class FakeTime:
    now: float = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeProcess:
    """Runs for ``runs_for`` fake seconds, then exits with ``code``; SIGTERM ends it with 143."""

    time: FakeTime
    code: int
    runs_for: float
    pid: int
    ignores_sigterm: bool = False
    started: float = field(init=False)
    signals: list[str] = field(default_factory=list)
    _exit: int | None = None

    def __post_init__(self) -> None:
        self.started = self.time.now

    def poll(self) -> int | None:
        if self._exit is None and self.time.now >= self.started + self.runs_for:
            self._exit = self.code
        return self._exit

    def wait(self, timeout: float | None = None) -> int:
        if self.poll() is None:
            if timeout is None:
                raise AssertionError("a wait without timeout on a live fake would hang")
            self.time.now += timeout
            raise subprocess.TimeoutExpired("fake", timeout)
        assert self._exit is not None
        return self._exit

    def terminate(self) -> None:
        self.signals.append("SIGTERM")
        if not self.ignores_sigterm:
            self._exit = 143

    def kill(self) -> None:
        self.signals.append("SIGKILL")
        self._exit = -9


@dataclass
class Script:
    """Hands out fake processes in order and remembers when each started."""

    time: FakeTime
    runs: list[tuple[int, float]]
    started: list[tuple[str, float]] = field(default_factory=list)
    processes: list[FakeProcess] = field(default_factory=list)
    stubborn: bool = False

    def spawn(self, spec: ChildSpec) -> FakeProcess:
        self.started.append((spec.name, self.time.now))
        code, runs_for = self.runs.pop(0) if self.runs else (0, 1e9)
        process = FakeProcess(self.time, code, runs_for, 1000 + len(self.processes), self.stubborn)
        self.processes.append(process)
        return process


DAEMON = ChildSpec("daemon", ("daemon",), primary=True)


def gaps(script: Script, runs: list[tuple[int, float]]) -> list[float]:
    """Seconds between each exit and the next start."""
    starts = [at for _, at in script.started]
    return [round(starts[i + 1] - (starts[i] + runs[i][1]), 1) for i in range(len(starts) - 1)]


def test_supervisor_restarts_with_backoff_until_the_daemon_exits_0(caplog: pytest.LogCaptureFixture) -> None:
    runs = [(1, 0.5)] * 5 + [(1, 70.0), (75, 2.0), (-9, 0.3), (0, 5.0)]
    time = FakeTime()
    script = Script(time, list(runs))
    supervisor = Supervisor([DAEMON], spawn=script.spawn, clock=time.clock, sleep=time.sleep)
    with caplog.at_level(logging.INFO, logger="risk_manager.supervisor"):
        assert supervisor.run() == 0
    assert len(script.started) == len(runs)  # not started again after exit 0
    # an exit is seen, and the restart made, on a poll: up to two polls late
    assert gaps(script, runs) == pytest.approx([1, 2, 4, 8, 10, 1, 0, 2], abs=2 * POLL + 0.01)
    restarts = [r for r in caplog.records if getattr(r, "event", None) == "restart"]
    assert [r.exit_code for r in restarts] == [1, 1, 1, 1, 1, 1, 75, -9]  # type: ignore[attr-defined]
    assert restarts[-1].getMessage().startswith("daemon exited with code -9 (SIGKILL)")


def test_a_stop_request_terminates_the_child_and_exits_0() -> None:
    time = FakeTime()
    script = Script(time, [])
    supervisor = Supervisor([DAEMON], spawn=script.spawn, clock=time.clock, sleep=lambda s: stop_at(5.0))

    def stop_at(at: float) -> None:
        time.now += POLL
        if time.now >= at:
            supervisor.request_stop()

    assert supervisor.run() == 0
    [process] = script.processes
    assert process.signals == ["SIGTERM"]
    assert process.poll() == 143


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    time = FakeTime()
    script = Script(time, [], stubborn=True)
    supervisor = Supervisor([DAEMON], spawn=script.spawn, clock=time.clock, sleep=time.sleep, stop_grace=10.0)
    supervisor.request_stop()
    start = time.now
    assert supervisor.run() == 0
    [process] = script.processes
    assert process.signals == ["SIGTERM", "SIGKILL"]
    assert time.now - start == pytest.approx(10.0)


def test_the_watchdog_child_is_restarted_after_any_exit_and_stopped_with_the_daemon() -> None:
    time = FakeTime()
    watchdog = ChildSpec("watchdog", ("watchdog",))
    plans = {"daemon": [(1, 3.0), (0, 30.0)], "watchdog": [(0, 2.0), (1, 2.0)]}
    started: list[tuple[str, float]] = []
    processes: list[FakeProcess] = []

    def spawn(spec: ChildSpec) -> FakeProcess:
        started.append((spec.name, time.now))
        code, runs_for = plans[spec.name].pop(0) if plans[spec.name] else (0, 1e9)
        processes.append(FakeProcess(time, code, runs_for, pid=len(processes)))
        return processes[-1]

    supervisor = Supervisor([DAEMON, watchdog], spawn=spawn, clock=time.clock, sleep=time.sleep)
    assert supervisor.run() == 0
    names = [name for name, _ in started]
    assert names.count("watchdog") == 3  # exit 0 of the watchdog is no reason to leave it down
    assert names.count("daemon") == 2
    assert processes[-1].signals == ["SIGTERM"]  # the watchdog went down with the daemon's stop


def test_only_one_primary_child() -> None:
    with pytest.raises(ValueError, match="at most one"):
        Supervisor([DAEMON, DAEMON])
