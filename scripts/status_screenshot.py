"""Save the status screen as an SVG for the docs: ``python scripts/status_screenshot.py [-o FILE]``.

The screen is the real Textual app over the sample database of ``risk_manager.tui.sample``
(one account LOCKED by its daily loss limit, one trading near its hourly trade limit),
with the clock frozen at Monday 2025-12-22 10:30 New York, so the picture is the same
on every run and only changes when the screen does. Default output: docs/images/status.svg.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from risk_manager.schedule import ManualClock
from risk_manager.tui.app import StatusApp
from risk_manager.tui.frame import StatusReader
from risk_manager.tui.sample import write_sample

NOW = datetime(2025, 12, 22, 15, 30, tzinfo=UTC)
SIZE = (120, 62)
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "status.svg"


async def screenshot(output: Path) -> None:
    """Run the app headless on the sample, let it draw once, export the screen."""
    with tempfile.TemporaryDirectory() as tmp:
        database = write_sample(Path(tmp) / "config", Path(tmp) / "data", NOW)
        reader = StatusReader(database, Path(tmp) / "config", tz=ZoneInfo("America/New_York"))
        app = StatusApp(reader.read, ManualClock(NOW), every=3600)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            svg = app.export_screenshot(title="risk-status")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(svg, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="SVG file to write")
    args = parser.parse_args()
    asyncio.run(screenshot(args.output))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
