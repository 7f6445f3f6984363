"""``risk_manager gateway`` as a process, the /sim listing, and the front-month catalog (SPEC §6, §4.4)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from datetime import date

import httpx
import pytest
import typer
from typer.testing import CliRunner

import risk_manager.gateway
from risk_manager.cli.gateway import gateway
from risk_manager.gateway import SIM_API, Catalog, docs_sim_api

LISTENING = re.compile(r"^gateway listening on http://127\.0\.0\.1:(\d+)$")
#: Runs the command function on its own: cli/main.py registers it separately.
COMMAND = "import typer; from risk_manager.cli.gateway import gateway; typer.run(gateway)"


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The process's first stdout line, or "" if none comes in time (a thread, so no sleep)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline() if proc.stdout else ""))
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX")
def test_the_command_prints_where_it_listens_serves_and_stops_on_ctrl_c() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", COMMAND, "--port", "0", "--seed", "3", "--accounts", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        line = _first_line(proc, timeout=20).rstrip("\n")
        match = LISTENING.match(line)
        assert match, f"unexpected first line {line!r}"
        base = f"http://127.0.0.1:{match.group(1)}"
        assert httpx.get(f"{base}/api/Status/ping", timeout=5).text == "pong"
        state = httpx.get(f"{base}/sim/state", timeout=5).json()
        assert [a["name"] for a in state["accounts"]] == ["SIM-1", "SIM-2", "SIM-3"]
        assert state["market"]["seed"] == 3

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 0, err
    assert out == ""  # the listening line was the only output


def test_a_taken_port_exits_1_with_a_message() -> None:
    app = typer.Typer()
    app.command()(gateway)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = CliRunner().invoke(app, ["--port", str(port)])

    assert result.exit_code == 1
    assert f"gateway: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert result.stdout == ""


def test_every_sim_endpoint_is_listed_and_documented_in_the_package_docstring() -> None:
    listing = docs_sim_api()
    package_doc = risk_manager.gateway.__doc__ or ""

    for endpoint in SIM_API:
        assert f"{endpoint.method:<4} {endpoint.path}" in listing
        if endpoint.path != "/sim":
            assert endpoint.path in package_doc, f"{endpoint.path} missing from the package docstring"


@pytest.mark.parametrize(
    ("today", "root", "expected"),
    [
        pytest.param(date(2026, 11, 25), "MNQ", "CON.F.US.MNQ.Z26", id="index-before-roll"),
        pytest.param(date(2026, 12, 9), "EP", "CON.F.US.EP.Z26", id="index-day-before-roll"),
        pytest.param(date(2026, 12, 10), "EP", "CON.F.US.EP.H27", id="index-roll-day"),
        pytest.param(date(2026, 11, 25), "CLE", "CON.F.US.CLE.F27", id="crude-november"),
        pytest.param(date(2026, 12, 15), "MCLE", "CON.F.US.MCLE.G27", id="crude-mid-december"),
        pytest.param(date(2026, 11, 19), "GCE", "CON.F.US.GCE.Z26", id="gold-before-roll"),
        pytest.param(date(2026, 11, 20), "MGC", "CON.F.US.MGC.G27", id="gold-roll-day"),
    ],
)
def test_front_months(today: date, root: str, expected: str) -> None:
    catalog = Catalog(today)

    fronts = [cid for cid in catalog.front if cid.split(".")[3] == root]

    assert fronts == [expected]


def test_a_back_or_rolled_month_resolves_inactive_and_nonsense_does_not() -> None:
    catalog = Catalog(date(2026, 11, 25))

    rolled = catalog.find("CON.F.US.MNQ.U26")

    assert rolled is not None and rolled.to_wire().activeContract is False
    assert rolled.to_wire().name == "MNQU6"
    assert catalog.find("CON.F.US.MNQ.F27") is None  # MNQ lists no January
    assert catalog.find("CON.F.US.MNQ") is None
