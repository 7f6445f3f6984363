"""The engine's daily upkeep keeps ``general.backups.keep`` database backups (SPEC §5), day after day.

The store's own tests call ``backup_database`` directly; this drives the real engine with a
simulated clock through nine daily resets and looks at what ``data/backups/`` holds.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from harness import START, Run

from risk_manager.store import Store

RULES = {"max_contracts": {"enabled": True, "limit": 5}}


@pytest.mark.parametrize(("general", "kept"), [
    pytest.param({}, 7, id="default-keep-7"),
    pytest.param({"backups": {"keep": 3}}, 3, id="keep-3"),
])  # fmt: skip
def test_nine_daily_resets_leave_the_newest_backups_each_a_snapshot_of_its_day(
    tmp_path: Path, general: dict[str, object], kept: int
) -> None:
    run = Run(tmp_path, RULES, general=general)
    try:
        run.advance(START + timedelta(days=9))  # resets at 17:00 New York = 21:00 UTC, Mar 10..18
        resets = [r.at for r in run.records if r.action == "reset"]
        backups = tmp_path / "backups"  # beside the database
        names = sorted(p.name for p in backups.iterdir())
    finally:
        run.close()
    assert len(resets) == 9
    assert names == [f"risk_manager-{at.date().isoformat()}.db" for at in resets[-kept:]]
    for at, name in zip(resets[-kept:], names, strict=True):
        with Store.open(backups / name, read_only=True) as copy:
            assert copy.get_meta("last_reset") == at.isoformat()  # taken at that day's reset
