"""Driving a real gateway simulator over real sockets on 127.0.0.1, from sync pytest tests.

``run(scenario, **options)`` starts a simulator on a free port (market walk off unless
``quote_rate`` is given), hands the scenario a :class:`Harness` (httpx for REST and
/sim, :class:`HubClient` for the hubs) and stops it, all inside one ``asyncio.run``
with an overall timeout. Waiting is always for an event, with a timeout, never a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from risk_manager.broker.projectx.signalr import HANDSHAKE_REQUEST, Decoder, encode, invocation
from risk_manager.gateway import RunningGateway, running_gateway

Json = dict[str, Any]
WAIT = 3.0


class FakeClock:
    """A settable now for token expiry; starts at the real now so the catalog is today's."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class HubClient:
    """A raw SignalR JSON client: frames with the shared codec, reads one message at a time."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._decoder = Decoder()
        self._queued: list[Json] = []

    async def send(self, *messages: Json) -> None:
        """All messages in one text frame (as clients may)."""
        await self.ws.send("".join(encode(m) for m in messages))

    async def handshake(self, request: Json = HANDSHAKE_REQUEST) -> Json:
        await self.send(request)
        return await self.next()

    async def next(self, timeout: float = WAIT, *, pings: bool = False) -> Json:
        """The next message (pings skipped unless asked for)."""
        async with asyncio.timeout(timeout):
            while True:
                while not self._queued:
                    frame = await self.ws.recv()
                    text = frame if isinstance(frame, str) else frame.decode()
                    self._queued.extend(self._decoder.feed(text))
                message = self._queued.pop(0)
                if pings or message.get("type") != 6:
                    return message

    async def invoke(self, target: str, *arguments: Any, invocation_id: str = "1") -> Json:
        """Invoke and return the Completion (events arriving first are kept for later)."""
        await self.send(invocation(target, *arguments, invocation_id=invocation_id))
        skipped: list[Json] = []
        try:
            while True:
                message = await self.next()
                if message.get("type") == 3 and message.get("invocationId") == invocation_id:
                    return message
                skipped.append(message)
        finally:
            self._queued[:0] = skipped

    async def events(self, count: int, timeout: float = WAIT) -> list[Json]:
        """The next ``count`` invocations from the server, completions skipped."""
        found: list[Json] = []
        while len(found) < count:
            message = await self.next(timeout)
            if message.get("type") == 1:
                found.append(message)
        return found

    async def fence(self) -> list[Json]:
        """Everything the server sent before it answers a harmless invocation (proves "nothing else came")."""
        await self.send(invocation("Fence", invocation_id="fence"))
        before: list[Json] = []
        while True:
            message = await self.next()
            if message.get("invocationId") == "fence":
                return before
            before.append(message)

    async def close(self) -> None:
        await self.ws.close()


class Harness:
    def __init__(self, gw: RunningGateway, http: httpx.AsyncClient) -> None:
        self.gw = gw
        self.http = http
        self.token: str | None = None

    async def state(self) -> Json:
        return await self.sim_get("/sim/state")

    def front(self, root: str) -> str:
        """The front-month contract id of a ProjectX root (MNQ, EP...)."""
        return next(cid for cid in self.gw.simulator.catalog.front if cid.split(".")[3] == root)

    async def login(self) -> str:
        response = await self.http.post("/api/Auth/loginKey", json={"userName": "demo", "apiKey": "demo"})
        assert response.status_code == 200, response.text
        token = response.json()["token"]
        assert isinstance(token, str)
        self.token = token
        return token

    async def api(
        self, endpoint: str, body: Json | None = None, *, token: str | None = None
    ) -> httpx.Response:
        """POST /api/<endpoint> with the harness's token (log in first if needed)."""
        bearer = token or self.token or await self.login()
        headers = {"Authorization": f"Bearer {bearer}"}
        return await self.http.post(
            f"/api/{endpoint}", json=body if body is not None else {}, headers=headers
        )

    async def call(self, endpoint: str, body: Json | None = None) -> Json:
        """An API call expected to answer HTTP 200; its JSON."""
        response = await self.api(endpoint, body)
        assert response.status_code == 200, f"{endpoint}: {response.status_code} {response.text}"
        data = response.json()
        assert isinstance(data, dict)
        return data

    async def sim(self, path: str, body: Json | None = None, *, status: int = 200) -> Json:
        response = await self.http.post(path, json=body if body is not None else {})
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        data = response.json()
        assert isinstance(data, dict)
        return data

    async def sim_get(self, path: str) -> Json:
        response = await self.http.get(path)
        assert response.status_code == 200, response.text
        data = response.json()
        assert isinstance(data, dict)
        return data

    async def hub(self, hub: str = "user", *, token: str | None = None, handshake: bool = True) -> HubClient:
        bearer = token or self.token or await self.login()
        url = f"{self.gw.ws_url}/hubs/{hub}?access_token={bearer}"
        client = HubClient(await connect(url, open_timeout=WAIT))
        if handshake:
            assert await client.handshake() == {}
        return client

    async def user_hub(self, account_id: int = 1) -> HubClient:
        """A user hub subscribed to everything of one account."""
        client = await self.hub("user")
        for target, args in (
            ("SubscribeAccounts", ()),
            ("SubscribeOrders", (account_id,)),
            ("SubscribePositions", (account_id,)),
            ("SubscribeTrades", (account_id,)),
        ):
            completion = await client.invoke(target, *args, invocation_id=target)
            assert "error" not in completion
        return client

    async def place(self, **order: Any) -> Json:
        body = {"accountId": 1, "contractId": self.front("MNQ"), "type": 2, "side": 0, "size": 1, **order}
        return await self.call("Order/place", body)


Scenario = Callable[[Harness], Awaitable[None]]


def run(scenario: Scenario, *, timeout: float = 15.0, **options: Any) -> None:
    """Run ``scenario`` against a fresh simulator (``options`` go to running_gateway)."""
    options.setdefault("quote_rate", 0)

    async def main() -> None:
        # verify=False: plain http on loopback, so no CA bundle to load for every test
        async with (
            running_gateway(port=0, **options) as gw,
            httpx.AsyncClient(base_url=gw.url, timeout=WAIT, verify=False) as http,
        ):
            await scenario(Harness(gw, http))

    asyncio.run(asyncio.wait_for(main(), timeout))


def user_events(messages: list[Json]) -> list[tuple[str, int, Json]]:
    """(target, action, data) of wrapped user events; asserts the single-argument wrapping."""
    out = []
    for message in messages:
        (argument,) = message["arguments"]
        assert set(argument) == {"action", "data"}, argument
        out.append((message["target"], argument["action"], argument["data"]))
    return out


__all__ = ["WAIT", "FakeClock", "Harness", "HubClient", "Json", "run", "user_events"]
