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
