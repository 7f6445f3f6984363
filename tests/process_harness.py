"""Real processes for the service tests: the gateway simulator, a config pointing at it, the DB's meta.

Everything runs on 127.0.0.1. The simulator is read through ``/sim/state`` only: it does not
count against the gateway's rate limit, which the daemon under test shares.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

from risk_manager.gateway import client_gateway_config
from risk_manager.store import Store, StoreError

T = TypeVar("T")


@contextmanager
def gateway_process(accounts: int = 2, seed: int = 1) -> Iterator[str]:
    """``risk_manager gateway`` on a free port, no random quotes; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "risk_manager", "gateway", "--port", "0", "--accounts", str(accounts),
         "--seed", str(seed), "--quote-rate", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("gateway listening on "), line
        yield line.removeprefix("gateway listening on ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def write_config(
    config_dir: Path,
    url: str,
    account_ids: list[int],
    rules: dict[str, Any],
    general: dict[str, Any] | None = None,
) -> None:
    """accounts.yaml and risk_config.yaml for the simulator at ``url``; the daemon's control API on a
    free port (tests run side by side, the default 8766 would be shared)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    accounts = {
        "version": 1,
        "gateway": client_gateway_config(url),
        "accounts": [{"id": i} for i in account_ids],
    }
    risk: dict[str, Any] = {"version": 1, "rules": rules}
    risk["general"] = {"control": {"port": free_port()}, **(general or {})}
    (config_dir / "accounts.yaml").write_text(yaml.safe_dump(accounts))
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump(risk))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_meta(data_dir: Path) -> dict[str, str]:
    """The daemon's meta table, or {} while the DB is missing or being migrated."""
    database = data_dir / "risk_manager.db"
    if not database.exists():
        return {}
    try:
        with Store.open(database, read_only=True) as store:
            return store.meta()
    except StoreError:
        return {}


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 20.0, every: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def connected_daemon_pid(data_dir: Path, not_pid: int | None = None) -> int | None:
    """The pid of a daemon that is CONNECTED with a heartbeat (other than ``not_pid``), else None."""
    meta = read_meta(data_dir)
    pid = int(meta.get("daemon_pid") or 0)
    if pid and pid != not_pid and meta.get("connection") == "CONNECTED" and "heartbeat_at" in meta:
        return pid
    return None


def sim_state(http: httpx.Client) -> dict[str, Any]:
    state: dict[str, Any] = http.get("/sim/state").json()
    return state


def sim(http: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    """The trader's hands (and the test's control of the market)."""
    reply = http.post(f"/sim/{path}", json=body)
    assert reply.status_code < 300, reply.text
    return reply.json() if reply.content else None


def front_month(http: httpx.Client, symbol: str) -> str:
    """The simulator's front-month contract id of ``symbol`` (``CON.F.US.MNQ.H26``)."""
    contracts = sim_state(http)["contracts"]
    return str(next(c["id"] for c in contracts if c["id"].split(".")[3] == symbol))


def is_alive(pid: int) -> bool:
    """A process exists and is not a zombie (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children_of(pid: int) -> list[int]:
    """Live child pids of ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found
