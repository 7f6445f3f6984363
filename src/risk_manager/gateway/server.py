"""Running a gateway simulator: uvicorn on 127.0.0.1, in-process or as ``risk_manager gateway``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import uvicorn

from risk_manager.gateway.app import create_app
from risk_manager.gateway.simulator import GatewayConfig, GatewaySimulator, utc_now
from risk_manager.http_server import InProcessServer

#: The only address the simulator ever binds.
HOST = "127.0.0.1"
_STOP_TIMEOUT = 5.0


class GatewayError(RuntimeError):
    """The simulator could not start (e.g. the port is taken)."""


@dataclass(frozen=True, slots=True)
class RunningGateway:
    """A listening simulator: its URLs and its state (``simulator``) for direct inspection."""

    simulator: GatewaySimulator
    port: int

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the REST base (``/api/...``) and the ``/sim`` API."""
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    @property
    def user_hub_url(self) -> str:
        return f"{self.ws_url}/hubs/user"

    @property
    def market_hub_url(self) -> str:
        return f"{self.ws_url}/hubs/market"


def client_gateway_config(url: str, *, username: str = "demo", api_key: str = "demo") -> dict[str, str]:
    """The ``gateway:`` block of an accounts.yaml pointing at a simulator at ``url`` (any port)."""
    ws = url.replace("http://", "ws://", 1)
    return {
        "firm": "custom",
        "api_url": url,
        "user_hub_url": f"{ws}/hubs/user",
        "market_hub_url": f"{ws}/hubs/market",
        "username": username,
        "api_key": api_key,
    }


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if os.name != "nt":  # on Windows SO_REUSEADDR would let two servers share the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise GatewayError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from exc
    return sock


@contextlib.asynccontextmanager
async def running_gateway(
    port: int = 0,
    *,
    config: GatewayConfig | None = None,
    clock: Callable[[], datetime] = utc_now,
    **options: Any,
) -> AsyncIterator[RunningGateway]:
    """Serve a simulator on 127.0.0.1 for the duration of the block; prints nothing.

    ``port`` 0 picks a free port (read it from ``.port``/``.url``). Give a
    :class:`GatewayConfig` or its fields as keywords: ``accounts=2, seed=1,
    quote_rate=0`` ... ``clock`` (aware UTC) stamps orders, fills and token expiry.
    Raises :class:`GatewayError` if it cannot listen.
    """
    sim = GatewaySimulator(config or GatewayConfig(**options), clock)
    sock = _listen(port)
    uvicorn_config = uvicorn.Config(
        create_app(sim),
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = InProcessServer(uvicorn_config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="gateway-server")
    try:
        while not server.started:
            if task.done():
                raise GatewayError("the gateway simulator stopped while starting") from task.exception()
            await asyncio.sleep(0.005)
        yield RunningGateway(sim, sock.getsockname()[1])
    finally:
        sim.hubs.drop(graceful=True)
        server.stop()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, _STOP_TIMEOUT)
        sock.close()


async def serve(port: int = 8765, *, ready: Callable[[str], None] = print, **options: Any) -> None:
    """Run until SIGTERM or cancellation (Ctrl-C under ``asyncio.run``); ``ready(url)`` once listening."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with running_gateway(port, **options) as gateway:
        ready(gateway.url)
        await stop.wait()


__all__ = ["HOST", "GatewayError", "RunningGateway", "running_gateway", "serve"]
