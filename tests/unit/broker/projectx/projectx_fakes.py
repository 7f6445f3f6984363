"""Fakes for the ProjectX client tests: a scripted REST gateway, a hub on 127.0.0.1, fake time.

Nothing here leaves the machine: REST goes through ``httpx.MockTransport``, hubs through an
in-process ``websockets.serve`` on 127.0.0.1 port 0.
"""

from __future__ import annotations

import asyncio
import base64
import heapq
import itertools
import json
import logging
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from risk_manager.broker.projectx.signalr import Decoder, encode
from risk_manager.schedule.clock import ManualClock

USERNAME = "trader.joe"
API_KEY = "sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
ACCOUNT = 101

#: The fake hub's own log: kept out of caplog, since the server side logs request paths (tokens).
_HUB_LOG = logging.getLogger("projectx_fakes.hub")
_HUB_LOG.disabled = True

Script = httpx.Response | type[httpx.TransportError] | Callable[[httpx.Request], httpx.Response]


def make_jwt(expires: datetime, serial: int = 1) -> str:
    """An unsigned-looking JWT with ``exp``; the client never checks the signature."""

    def segment(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    header = segment({"alg": "HS256", "typ": "JWT"})
    claims = segment({"sub": USERNAME, "jti": f"token-{serial:04d}", "exp": int(expires.timestamp())})
    return f"{header}.{claims}.c2lnbmF0dXJlLW9mLXRva2Vu{serial:04d}"


def ok(**payload: Any) -> dict[str, Any]:
    return {"success": True, "errorCode": 0, "errorMessage": None, **payload}


def refused(code: int, message: str | None = None, **payload: Any) -> dict[str, Any]:
    return {"success": False, "errorCode": code, "errorMessage": message, **payload}


class FakeGateway:
    """A REST gateway in a box: logs in, checks bearer tokens, answers scripted payloads.

    ``answers[endpoint]`` is the default success payload; ``script(endpoint, ...)`` queues
    one-shot answers (a Response, an httpx transport error class, or a callable).
    ``requests`` records (endpoint, body, bearer) for every call, in order.
    """

    def __init__(self, clock: ManualClock, lifetime: timedelta = timedelta(hours=24)) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.requests: list[tuple[str, Any, str | None]] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self.scripts: dict[str, deque[Script]] = defaultdict(deque)
        self.valid: set[str] = set()
        self.issued: list[str] = []
        self._serials = itertools.count(1)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def script(self, endpoint: str, *answers: Script) -> None:
        self.scripts[endpoint].extend(answers)

    def calls(self, endpoint: str) -> list[Any]:
        """Bodies sent to ``endpoint``, in order."""
        return [body for name, body, _ in self.requests if name == endpoint]

    def bearers(self, endpoint: str) -> list[str | None]:
        return [bearer for name, _, bearer in self.requests if name == endpoint]

    def revoke(self) -> None:
        """Every issued token stops working (as after a server-side logout)."""
        self.valid.clear()

    def _issue(self) -> str:
        token = make_jwt(self.clock.now() + self.lifetime, next(self._serials))
        self.issued.append(token)
        self.valid.add(token)
        return token

    def _handle(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        endpoint = request.url.path.removeprefix("/api/")
        body = json.loads(request.content) if request.content else None
        auth = request.headers.get("Authorization", "")
        bearer = auth.removeprefix("Bearer ") if auth else None
        self.requests.append((endpoint, body, bearer))
        if self.scripts[endpoint]:
            answer = self.scripts[endpoint].popleft()
            if isinstance(answer, httpx.Response):
                return answer
            if isinstance(answer, type):
                raise answer("scripted failure", request=request)
            return answer(request)
        if endpoint == "Auth/loginKey":
            assert body is not None
            if body == {"userName": USERNAME, "apiKey": API_KEY}:
                return httpx.Response(200, json=ok(token=self._issue()))
            return httpx.Response(200, json=refused(3, "Invalid credentials", token=None))
        if bearer not in self.valid:
            return httpx.Response(401)
        if endpoint == "Auth/validate":
            return httpx.Response(200, json=ok(newToken=self._issue()))
        return httpx.Response(200, json=ok(**self.answers.get(endpoint, {})))


class FakeTime:
    """Monotonic time that moves only when a test says so; sleepers wake in deadline order."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._seq), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time on, waking every sleeper due, and let the woken tasks run."""
        target = self.now + seconds
        await settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, deadline)
            if not future.done():
                future.set_result(None)
            await settle()
        self.now = target
        await settle()


async def settle(rounds: int = 20) -> None:
    """Let every ready task run to its next real wait."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def eventually(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    """Wait until ``condition()`` holds (checked as the event loop turns), or fail after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.001)


class RecordingSleep:
    """A sleep that returns at once and remembers what it was asked."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class FakeTokens:
    """A token source for hubs: ``relogin`` moves on to the next token."""

    def __init__(self, *tokens: str) -> None:
        self.current = tokens[0]
        self._later = list(tokens[1:])
        self.relogins = 0
        self.rejected: list[str | None] = []

    async def token(self) -> str:
        return self.current

    async def relogin(self, rejected: str | None = None) -> str:
        self.rejected.append(rejected)
        self.relogins += 1
        self.current = self._later.pop(0)
        return self.current


class HubSession:
    """One client connection as the fake hub sees it."""

    def __init__(self, ws: ServerConnection, token: str) -> None:
        self.ws = ws
        self.token = token
        self.received: list[dict[str, Any]] = []
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(self, *messages: dict[str, Any]) -> None:
        """Several messages in one text frame, as a SignalR server may send them."""
        await self.ws.send("".join(encode(m) for m in messages))

    async def expect(
        self, count: int, *, type: int | None = None, timeout: float = 3.0
    ) -> list[dict[str, Any]]:
        """The next ``count`` messages (of ``type`` if given) the client sent."""
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while len(found) < count:
                message = await self.inbox.get()
                if type is None or message.get("type") == type:
                    found.append(message)
        return found

    async def drop(self) -> None:
        await self.ws.close()


class FakeHub:
    """A SignalR JSON hub on 127.0.0.1: handshake, records what clients send, scripted sends."""

    def __init__(
        self, path: str = "/hubs/user", *, refuse: set[str] | None = None, handshake_errors: int = 0
    ) -> None:
        self.path = path
        self.handshake_errors = handshake_errors
        """How many handshakes to answer with ``{"error": ...}`` before accepting."""
        self.refuse = refuse or set()
        """Tokens answered with HTTP 401 at the websocket upgrade."""
        self.sessions: list[HubSession] = []
        self.connected: asyncio.Queue[HubSession] = asyncio.Queue()
        self.refused: list[str] = []
        self._server: Server | None = None

    async def __aenter__(self) -> FakeHub:
        self._server = await serve(self._serve, "127.0.0.1", 0, process_request=self._check, logger=_HUB_LOG)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{self.path}"

    async def next_session(self, timeout: float = 3.0) -> HubSession:
        return await asyncio.wait_for(self.connected.get(), timeout)

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        token = _token(request.path)
        if urlsplit(request.path).path != self.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "no such hub\n")
        if token in self.refuse:
            self.refused.append(token)
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        decoder = Decoder()
        handshake: list[dict[str, Any]] = []
        while not handshake:
            handshake = decoder.feed(str(await ws.recv()))
        assert handshake[0] == {"protocol": "json", "version": 1}, handshake
        if self.handshake_errors:
            self.handshake_errors -= 1
            await ws.send(encode({"error": "Requested protocol 'json' is not available."}))
            await ws.close()
            return
        await ws.send(encode({}))
        session = HubSession(ws, _token(ws.request.path if ws.request else ""))
        self.sessions.append(session)
        await self.connected.put(session)
        try:
            async for frame in ws:
                for message in decoder.feed(str(frame)):
                    session.received.append(message)
                    await session.inbox.put(message)
        except ConnectionClosed:
            pass


def _token(path: str) -> str:
    return parse_qs(urlsplit(path).query).get("access_token", [""])[0]
