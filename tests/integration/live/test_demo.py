"""``risk_manager demo`` runs the product end to end and every scripted breach is enforced."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from risk_manager.cli.demo import run_demo


def test_the_demo_shows_each_breach_and_its_enforcement(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    records = asyncio.run(run_demo(console, tmp_path))
    fired = [(r.rule, r.action) for r in records]
    assert ("RULE-001", "reduce") in fired
    assert ("RULE-008", "close") in fired
    assert ("RULE-011", "close") in fired
    assert fired.count(("RULE-003", "lockout")) == 1
    assert ("RULE-003", "close_all") in fired and ("RULE-003", "cancel_order") in fired
    text = console.export_text()
    assert "daily P&L" in text and "trader:" in text


def test_the_demo_keeps_running_for_risk_status_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """The README's path: the demo stays up, the status screen reads it, Ctrl-C ends it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "risk_manager", "demo", "--keep-running", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 90
        lines = []
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            lines.append(line)
            if "keeps running" in line or not line:
                break
        assert any("keeps running" in line for line in lines), "".join(lines)
        dirs = ["--config-dir", str(tmp_path / "config"), "--data-dir", str(tmp_path / "data")]
        status = subprocess.run([sys.executable, "-m", "risk_manager", "status", "--once", *dirs],
                                capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
        assert status.returncode == 0, status.stdout + status.stderr
        assert "RUNNING" in status.stdout and "RULE-003" in status.stdout
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) in (0, 130)
    finally:
        if demo.poll() is None:
            demo.kill()
