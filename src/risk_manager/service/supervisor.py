"""``risk_manager supervise``: keep the daemon running (SPEC §7).

The daemon runs as a child process and is started again after every exit but exit 0,
which it uses only after an authenticated stop. Crashes back off: 1 s, doubling to the
cap (10 s), back to 1 s once a run lasted 60 s; exit 75 (an authenticated restart,
EX_TEMPFAIL) starts it again at once. A second child, the dead-man watchdog, may run
beside it and is restarted after any exit. SIGTERM/SIGINT to the supervisor stop the
children gracefully (SIGTERM, at most 10 s, then kill) and the supervisor exits 0.

One loop polls the children (a ``waitpid`` without blocking, every 0.1 s), so a stop
request, a due restart and two children need no threads. Time and waiting are injected:
the back-off is tested in milliseconds with a fake clock and fake processes.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from risk_manager.control.protocol import EXIT_RESTART

log = logging.getLogger("risk_manager.supervisor")

EXIT_STOPPED = 0
#: the environment variable the children find the supervisor's pid in (meta supervisor_pid)
SUPERVISOR_PID_ENV = "RISK_MANAGER_SUPERVISOR_PID"
FIRST_DELAY = 1.0
STABLE_AFTER = 60.0
STOP_GRACE = 10.0
POLL = 0.1


class Process(Protocol):
    """What the supervisor needs of a child: :class:`subprocess.Popen` has it all."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """A child to keep running. ``primary`` is the daemon: its exit 0 ends the supervisor."""

    name: str
    argv: tuple[str, ...]
    primary: bool = False


Spawn = Callable[[ChildSpec], Process]


@dataclass(slots=True)
class Backoff:
    """Seconds to wait before the next start (SPEC §7); one per child.

    ``cap`` is ``--max-backoff``; a cap below 1 s also lowers the first delay (tests, chaos).
    """

    cap: float = 10.0
    stable_after: float = STABLE_AFTER
    _next: float = field(init=False)

    def __post_init__(self) -> None:
        if self.cap <= 0:
            raise ValueError(f"max back-off must be > 0 seconds (got {self.cap})")
        self._next = self.first

    @property
    def first(self) -> float:
        return min(FIRST_DELAY, self.cap)

    def delay_after(self, exit_code: int, ran_for: float) -> float:
        """The delay after a run of ``ran_for`` seconds that ended with ``exit_code``.

        Exit 75 is a restart someone asked for: at once, and it leaves the back-off as it was.
        """
        if exit_code == EXIT_RESTART:
            return 0.0
        if ran_for >= self.stable_after:
            self._next = self.first
        delay = self._next
        self._next = min(delay * 2, self.cap)
        return delay


@dataclass(slots=True)
class _Child:
    spec: ChildSpec
    backoff: Backoff
    process: Process | None = None
    started_at: float = 0.0
    due_at: float | None = None
    restarts: int = 0


def popen_spawner(env: Mapping[str, str] | None = None) -> Spawn:
    """Start a child as a real process: stdin closed, stdout/stderr shared with the supervisor."""
    environ = {**os.environ, **(env or {})}

    def spawn(spec: ChildSpec) -> Process:
        return subprocess.Popen(spec.argv, stdin=subprocess.DEVNULL, env=environ)

    return spawn


class Supervisor:
    """Runs ``children`` until stopped or until the primary child exits 0.

    Args:
        children: what to run; at most one ``primary``.
        max_backoff: the back-off cap in seconds (``--max-backoff``).
        spawn: starts a child (default: a real process, see :func:`popen_spawner`).
        clock: monotonic seconds (leave as default unless testing).
        sleep: waits that many seconds or until :meth:`request_stop` (leave as default unless testing).
        stop_grace: seconds a child gets to stop after SIGTERM before it is killed.
    """

    def __init__(
        self,
        children: Sequence[ChildSpec],
        *,
        max_backoff: float = 10.0,
        spawn: Spawn | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        stop_grace: float = STOP_GRACE,
    ) -> None:
        if sum(spec.primary for spec in children) > 1:
            raise ValueError("at most one child can be primary (the daemon)")
        self._children = [_Child(spec, Backoff(max_backoff)) for spec in children]
        self._spawn = spawn or popen_spawner()
        self._clock = clock
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._stop_grace = stop_grace

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Stop the children and return from :meth:`run` (safe from a signal handler)."""
        self._stop.set()

    def pids(self) -> dict[str, int]:
        """The running children's pids by name."""
        return {c.spec.name: c.process.pid for c in self._children if c.process is not None}

    def run(self) -> int:
        """Supervise until stopped; always returns 0 (a stop asked for is a success)."""
        for child in self._children:
            self._start(child)
        while not self._stop.is_set():
            if self._step():
                break
            self._sleep(POLL)
        self._stop_children()
        return EXIT_STOPPED

    def _step(self) -> bool:
        """Reap the children that exited, start the ones due; True once the daemon stopped for good."""
        now = self._clock()
        for child in self._children:
            if child.process is not None:
                code = child.process.poll()
                if code is None:
                    continue
                if self._exited(child, code, now):
                    return True
            if child.due_at is not None and now >= child.due_at:
                self._start(child)
        return False

    def _exited(self, child: _Child, code: int, now: float) -> bool:
        ran_for = now - child.started_at
        pid = child.process.pid if child.process is not None else None
        child.process = None
        if child.spec.primary and code == EXIT_STOPPED:
            log.info("%s stopped (exit 0: an authenticated stop); the supervisor exits", child.spec.name,
                     extra={"child": child.spec.name, "pid": pid, "exit_code": code})  # fmt: skip
            return True
        delay = child.backoff.delay_after(code, ran_for)
        child.due_at = now + delay
        child.restarts += 1
        log.warning(
            "%s exited with code %d (%s) after %.1f s; restarting in %.1f s",
            child.spec.name, code, describe_exit(code), ran_for, delay,
            extra={"child": child.spec.name, "pid": pid, "exit_code": code, "ran_for": round(ran_for, 3),
                   "restart_in": delay, "restarts": child.restarts, "event": "restart"},
        )  # fmt: skip
        return False

    def _start(self, child: _Child) -> None:
        child.due_at = None
        child.started_at = self._clock()
        try:
            child.process = self._spawn(child.spec)
        except OSError as exc:  # e.g. the interpreter vanished in an upgrade: try again later
            delay = child.backoff.delay_after(1, 0.0)
            child.due_at = child.started_at + delay
            log.error("%s could not be started: %s; retrying in %.1f s", child.spec.name, exc, delay,
                      extra={"child": child.spec.name, "restart_in": delay})  # fmt: skip
            return
        log.info("%s started (pid %d)", child.spec.name, child.process.pid,
                 extra={"child": child.spec.name, "pid": child.process.pid, "event": "start"})  # fmt: skip

    def _stop_children(self) -> None:
        """SIGTERM to every child (TerminateProcess on Windows), then kill what is left after the grace."""
        running = [c for c in self._children if c.process is not None]
        for child in running:
            assert child.process is not None
            if child.process.poll() is None:
                child.process.terminate()
        deadline = self._clock() + self._stop_grace
        for child in running:
            assert child.process is not None
            try:
                code = child.process.wait(timeout=max(0.0, deadline - self._clock()))
            except subprocess.TimeoutExpired:
                log.error("%s did not stop within %.0f s of SIGTERM; killing it", child.spec.name,
                          self._stop_grace, extra={"child": child.spec.name})  # fmt: skip
                child.process.kill()
                code = child.process.wait()
            log.info("%s stopped with code %d", child.spec.name, code,
                     extra={"child": child.spec.name, "exit_code": code, "event": "stop"})  # fmt: skip
            child.process = None


def describe_exit(code: int) -> str:
    """Words for an exit code in the restart line: ``SIGKILL``, ``exit 143 (SIGTERM)``, ..."""
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    names = {0: "stopped", 1: "runtime error", 3: "auth failed", 4: "invalid config",
             EXIT_RESTART: "restart asked for", 130: "SIGINT", 143: "SIGTERM"}  # fmt: skip
    return names.get(code, "error")


def child_argv(command: str, config_dir: Path, data_dir: Path, python: Path | None = None) -> tuple[str, ...]:
    """``python -m risk_manager <command>`` with absolute dirs; ``python`` defaults to this interpreter."""
    return (str(python or sys.executable), "-m", "risk_manager", command,
            "--config-dir", str(config_dir.absolute()), "--data-dir", str(data_dir.absolute()))  # fmt: skip


def supervise_argv(python: Path, config_dir: Path, data_dir: Path, max_backoff: float) -> list[str]:
    """The service's command line: ``python -m risk_manager supervise`` with the machine-wide dirs."""
    return [str(python), "-m", "risk_manager", "supervise", "--max-backoff", f"{max_backoff:g}",
            "--config-dir", str(config_dir), "--data-dir", str(data_dir)]  # fmt: skip


def install_stop_handlers(supervisor: Supervisor) -> None:
    """SIGTERM, SIGINT (and SIGBREAK on Windows) ask the supervisor to stop its children and exit 0."""
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, lambda *_: supervisor.request_stop())


__all__ = [
    "EXIT_STOPPED",
    "FIRST_DELAY",
    "STABLE_AFTER",
    "STOP_GRACE",
    "SUPERVISOR_PID_ENV",
    "Backoff",
    "ChildSpec",
    "Process",
    "Spawn",
    "Supervisor",
    "child_argv",
    "describe_exit",
    "install_stop_handlers",
    "popen_spawner",
    "supervise_argv",
]
