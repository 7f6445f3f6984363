"""uvicorn inside an event loop someone else owns (the daemon's control API, the simulator)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator

import uvicorn


class InProcessServer(uvicorn.Server):
    """uvicorn without its signal handlers (Ctrl-C belongs to whoever runs the event loop)
    and with a stop that does not wait for its next 0.1 s tick (tests start and stop many)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopping = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def stop(self) -> None:
        self.should_exit = True
        self.stopping.set()

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 0.1)
            should_exit = await self.on_tick(counter)


__all__ = ["InProcessServer"]
