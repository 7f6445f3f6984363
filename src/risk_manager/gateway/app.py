"""The ASGI app of a gateway simulator: REST, both hubs and ``/sim`` on one port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from risk_manager.gateway.control import sim_routes
from risk_manager.gateway.rest import Api
from risk_manager.gateway.simulator import GatewaySimulator


def create_app(sim: GatewaySimulator) -> Starlette:
    """``/api/...`` (REST), ``/hubs/{user,market}`` (+ ``/negotiate``) and ``/sim/...`` for ``sim``.

    The app's lifespan runs the market loop; at shutdown it closes the hub sockets
    gracefully so the server does not wait for clients to hang up.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        market = asyncio.create_task(sim.run_market(), name="gateway-market")
        try:
            yield
        finally:
            market.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await market

    routes = [
        *Api(sim).routes(),
        Route("/hubs/{hub}/negotiate", sim.hubs.negotiate, methods=["POST"]),
        WebSocketRoute("/hubs/{hub}", sim.hubs.serve),
        *sim_routes(sim),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


__all__ = ["create_app"]
