"""The SignalR hubs of the gateway simulator: ``/hubs/user`` and ``/hubs/market``.

JSON hub protocol v1 over WebSockets (PROJECTX.md §4), framed by the shared
:mod:`risk_manager.broker.projectx.signalr` module:

* **connect**: the session token as the ``access_token`` query parameter (an
  ``Authorization: Bearer`` header works too); a bad or expired token gets HTTP 401
  before the upgrade. Clients may connect directly (skipNegotiation) or
  ``POST /hubs/<hub>/negotiate`` first and pass the ``id`` it returned (an unknown
  ``id`` gets 404, as ASP.NET answers).
* **handshake**: ``{"protocol":"json","version":1}`` -> ``{}``; anything else -> ``{"error": ...}``
  and the socket closes. No handshake within ``handshake_timeout`` closes it too.
* **messages**: Invocation (type 1) with or without ``invocationId``; with one the hub
  answers a Completion, carrying ASP.NET's error string for an unknown target or bad
  arguments. Pings (type 6) both ways: the hub pings after ``ping_interval`` seconds of
  sending nothing and closes a client silent for ``client_timeout``. Close (type 7)
  from the client ends the connection. Target names are case-insensitive, as in ASP.NET.
* **user hub**: ``SubscribeAccounts()``, ``SubscribeOrders(accountId)``,
  ``SubscribePositions(accountId)``, ``SubscribeTrades(accountId)`` and their
  ``Unsubscribe*``; events carry ONE argument wrapped ``{"action": n, "data": {...}}``
  (action 1 for accounts, orders and open positions, 2 for a closed position, 0 for trades).
* **market hub**: ``SubscribeContractQuotes/Trades/MarketDepth(contractId)`` and their
  ``Unsubscribe*``; events carry TWO arguments ``(contractId, data)``.

No snapshot is sent after subscribing, and subscriptions die with the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from risk_manager.broker.projectx.signalr import (
    PING,
    Decoder,
    MessageType,
    ProtocolError,
    close,
    completion,
    encode,
    invocation,
)
from risk_manager.broker.projectx.wire import wrap
from risk_manager.gateway.faults import FaultScript
from risk_manager.gateway.tokens import TokenIssuer, TokenState

USER, MARKET = "user", "market"
HUBS = (USER, MARKET)
#: Fault-script names of the hub endpoints (``/sim/fail``, ``/sim/delay``).
HUB_ENDPOINTS = ("hubs/user", "hubs/market", "hubs/user/negotiate", "hubs/market/negotiate")

#: The ``action`` of each user event (PROJECTX.md §4.3: observed, undocumented).
_ACTION_CREATED_OR_UPDATED, _ACTION_CLOSED, _ACTION_TRADE = 1, 2, 0

_UNEXPECTED_HANDSHAKE = "An unexpected error occurred during connection handshake."


def _method_missing(target: str) -> str:
    """ASP.NET SignalR's Completion error for a target the hub does not have."""
    return f"Failed to invoke '{target}' due to an error on the server. HubException: Method does not exist."


def _invoke_failed(target: str) -> str:
    """ASP.NET's error for arguments that do not bind (details are hidden without DetailedErrors)."""
    return f"Failed to invoke '{target}' due to an error on the server."


def user_action(type: str, data: dict[str, Any]) -> int:
    if type == "GatewayUserTrade":
        return _ACTION_TRADE
    if type == "GatewayUserPosition" and data.get("size") == 0:
        return _ACTION_CLOSED
    return _ACTION_CREATED_OR_UPDATED


@dataclass(slots=True)
class Subscriptions:
    """What one connection asked for; lost with the connection."""

    accounts: bool = False
    orders: set[int] = field(default_factory=set)
    positions: set[int] = field(default_factory=set)
    trades: set[int] = field(default_factory=set)
    quotes: set[str] = field(default_factory=set)
    market_trades: set[str] = field(default_factory=set)
    depth: set[str] = field(default_factory=set)

    def wants_user(self, type: str, account_id: object) -> bool:
        if type == "GatewayUserAccount":
            return self.accounts
        chosen = {
            "GatewayUserOrder": self.orders,
            "GatewayUserPosition": self.positions,
            "GatewayUserTrade": self.trades,
        }.get(type)
        return chosen is not None and account_id in chosen

    def contracts(self) -> set[str]:
        return self.quotes | self.market_trades | self.depth

    def describe(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "orders": sorted(self.orders),
            "positions": sorted(self.positions),
            "trades": sorted(self.trades),
            "quotes": sorted(self.quotes),
            "marketTrades": sorted(self.market_trades),
            "depth": sorted(self.depth),
        }


@dataclass(frozen=True, slots=True)
class _Drop:
    """Writer instruction: optionally send a SignalR Close, then close the socket with ``code``."""

    code: int
    message: dict[str, Any] | None


class HubConnection:
    """One hub client: its subscriptions and an outbox drained by its writer task."""

    def __init__(self, hub: str, connection_id: str, websocket: WebSocket) -> None:
        self.hub = hub
        self.id = connection_id
        self.subscriptions = Subscriptions()
        self._websocket = websocket
        self._outbox: asyncio.Queue[str | _Drop] = asyncio.Queue()
        self.closing = False
        """A close is queued: the writer ends the connection after sending what precedes it."""

    def send(self, message: dict[str, Any]) -> None:
        self._outbox.put_nowait(encode(message))

    def send_text(self, text: str) -> None:
        """Raw text, framed or not: for malformed frames."""
        self._outbox.put_nowait(text)

    def drop(self, code: int = 1011, message: dict[str, Any] | None = None) -> None:
        """Close after what is already queued; ``message`` (a SignalR Close) is sent first."""
        if not self.closing:
            self.closing = True
            self._outbox.put_nowait(_Drop(code, message))

    async def write(self, ping_interval: float) -> None:
        """Send queued text; a ping after ``ping_interval`` s of silence. Returns when closed."""
        while True:
            try:
                item = await asyncio.wait_for(self._outbox.get(), ping_interval)
            except TimeoutError:
                item = encode(PING)
            try:
                if isinstance(item, _Drop):
                    if item.message is not None:
                        await self._websocket.send_text(encode(item.message))
                    await self._websocket.close(item.code)
                    return
                await self._websocket.send_text(item)
            except (WebSocketDisconnect, RuntimeError, OSError):
                return  # the client went away; the reader sees it too


async def _receive_text(websocket: WebSocket) -> str | None:
    """The next text (or UTF-8 binary) frame; None when the client has gone."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    if text is None:
        data = message.get("bytes") or b""
        text = data.decode("utf-8", errors="replace")
    return str(text)


def bearer_token(headers: Any, query: Any) -> str | None:
    """The token from ``?access_token=`` or an ``Authorization: Bearer`` header."""
    token = query.get("access_token")
    if token:
        return str(token)
    header = str(headers.get("authorization", ""))
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class Hubs:
    """Both hubs' connections: serving them, routing events to them, dropping them."""

    def __init__(
        self,
        tokens: TokenIssuer,
        faults: FaultScript,
        *,
        ping_interval: float = 15.0,
        client_timeout: float = 30.0,
        handshake_timeout: float = 15.0,
    ) -> None:
        self._tokens = tokens
        self._faults = faults
        self.ping_interval = ping_interval
        self.client_timeout = client_timeout
        self.handshake_timeout = handshake_timeout
        self._connections: list[HubConnection] = []
        self._negotiated: dict[str, str] = {}  # connection token -> hub, until used
        self._ids = itertools.count(1)
        self.on_subscribe: Callable[[], None] = lambda: None
        """Called after a market subscription changes (wakes the market loop)."""

    # -- routing ----------------------------------------------------------------------------

    def connections(self, hub: str | None = None) -> list[HubConnection]:
        return [c for c in self._connections if hub is None or c.hub == hub]

    def publish_user(self, type: str, data: dict[str, Any]) -> int:
        """Send a user event, wrapped ``{action, data}``, to every connection subscribed to it."""
        account_id = data.get("id") if type == "GatewayUserAccount" else data.get("accountId")
        text = encode(invocation(type, wrap(data, user_action(type, data))))
        sent = 0
        for connection in self.connections(USER):
            if connection.subscriptions.wants_user(type, account_id):
                connection.send_text(text)
                sent += 1
        return sent

    def publish_market(self, type: str, contract_id: str, data: object) -> int:
        """Send a market event ``(contractId, data)`` to the contract's subscribers of that kind."""
        text: str | None = None
        sent = 0
        for connection in self.connections(MARKET):
            subs = connection.subscriptions
            chosen = {"GatewayQuote": subs.quotes, "GatewayTrade": subs.market_trades}.get(type, subs.depth)
            if contract_id in chosen:
                text = text or encode(invocation(type, contract_id, data))
                connection.send_text(text)
                sent += 1
        return sent

    def subscribed_contracts(self) -> set[str]:
        contracts: set[str] = set()
        for connection in self.connections(MARKET):
            contracts |= connection.subscriptions.contracts()
        return contracts

    def broadcast(
        self, hub: str | None, message: dict[str, Any] | None = None, text: str | None = None
    ) -> int:
        """Send one message (or raw text) to every connection of ``hub`` (None: both)."""
        targets = self.connections(hub)
        for connection in targets:
            if text is not None:
                connection.send_text(text)
            elif message is not None:
                connection.send(message)
        return len(targets)

    def drop(self, hub: str | None = None, *, graceful: bool = False) -> int:
        """Close every connection of ``hub`` (None: both): abruptly (1011, no SignalR Close) or gracefully."""
        targets = self.connections(hub)
        for connection in targets:
            if graceful:
                connection.drop(1000, close("Server closed the connection.", allow_reconnect=True))
            else:
                connection.drop(1011)
        return len(targets)

    def state(self) -> list[dict[str, Any]]:
        return [
            {"hub": c.hub, "id": c.id, "subscriptions": c.subscriptions.describe()} for c in self._connections
        ]

    # -- HTTP: negotiate ----------------------------------------------------------------------

    async def negotiate(self, request: Request) -> Response:
        """``POST /hubs/<hub>/negotiate``: a connection id for clients that negotiate first."""
        hub = str(request.path_params["hub"]).lower()
        if hub not in HUBS:
            return Response(status_code=404)
        endpoint = f"hubs/{hub}/negotiate"
        delay = self._faults.take_delay(endpoint)
        if delay:
            await asyncio.sleep(delay)
        failure = self._faults.take_failure(endpoint)
        if failure is not None:
            return Response(status_code=failure.status)
        token = bearer_token(request.headers, request.query_params)
        if token is None or self._tokens.check(token) is not TokenState.VALID:
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        connection_id = secrets.token_urlsafe(16)
        version = 1 if request.query_params.get("negotiateVersion", "0") not in ("", "0") else 0
        body: dict[str, Any] = {
            "negotiateVersion": version,
            "connectionId": connection_id,
            "availableTransports": [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}],
        }
        if version:
            connection_token = secrets.token_urlsafe(16)
            body["connectionToken"] = connection_token
            self._negotiated[connection_token] = hub
        else:
            self._negotiated[connection_id] = hub
        return JSONResponse(body)

    # -- WebSocket: one connection ------------------------------------------------------------

    async def serve(self, websocket: WebSocket) -> None:
        """Run one hub connection from upgrade to close."""
        hub = str(websocket.path_params["hub"]).lower()
        refusal = self._refusal(websocket, hub)
        delay = self._faults.take_delay(f"hubs/{hub}") if refusal is None else 0.0
        if delay:
            await asyncio.sleep(delay)
        if refusal is not None:
            await _deny(websocket, refusal)
            return
        await websocket.accept()
        connection = HubConnection(hub, f"{hub}-{next(self._ids)}", websocket)
        decoder = Decoder()
        try:
            rest = await self._handshake(websocket, decoder)
            if rest is None:
                return
            self._connections.append(connection)
            await self._run(connection, websocket, decoder, rest)
        finally:
            if connection in self._connections:
                self._connections.remove(connection)
                if connection.subscriptions.contracts():
                    self.on_subscribe()
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await websocket.close()

    def _refusal(self, websocket: WebSocket, hub: str) -> int | None:
        """The HTTP status that refuses this upgrade, or None to accept it."""
        if hub not in HUBS:
            return 404
        failure = self._faults.take_failure(f"hubs/{hub}")
        if failure is not None:
            return failure.status
        token = bearer_token(websocket.headers, websocket.query_params)
        if token is None or self._tokens.check(token) is not TokenState.VALID:
            return 401
        negotiated = websocket.query_params.get("id")
        if negotiated is not None and self._negotiated.pop(negotiated, None) != hub:
            return 404
        return None

    async def _handshake(self, websocket: WebSocket, decoder: Decoder) -> list[dict[str, Any]] | None:
        """Read the handshake and answer it; the messages that followed it, or None if it failed."""
        messages: list[dict[str, Any]] = []
        error: str | None = None
        try:
            async with asyncio.timeout(self.handshake_timeout):
                while not messages:
                    text = await _receive_text(websocket)
                    if text is None:
                        return None
                    messages = decoder.feed(text)
        except TimeoutError:
            return None
        except ProtocolError:
            error = _UNEXPECTED_HANDSHAKE
        if error is None:
            request = messages[0]
            protocol, version = request.get("protocol"), request.get("version")
            if not isinstance(protocol, str) or not isinstance(version, int):
                error = _UNEXPECTED_HANDSHAKE
            elif protocol != "json":
                error = f"The protocol '{protocol}' is not supported."
            elif version != 1:
                error = f"The server does not support version {version} of the '{protocol}' protocol."
        if error is not None:
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await websocket.send_text(encode({"error": error}))
            return None
        await websocket.send_text(encode({}))
        return messages[1:]

    async def _run(
        self, connection: HubConnection, websocket: WebSocket, decoder: Decoder, first: list[dict[str, Any]]
    ) -> None:
        writer = asyncio.create_task(connection.write(self.ping_interval))
        reader = asyncio.create_task(self._read(connection, websocket, decoder, first))
        try:
            done, _ = await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done and connection.closing:
                # The reader asked for a close: let the writer send the Close message first.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(writer), 5.0)
        finally:
            for task in (writer, reader):
                task.cancel()
            await asyncio.gather(writer, reader, return_exceptions=True)

    async def _read(
        self, connection: HubConnection, websocket: WebSocket, decoder: Decoder, first: list[dict[str, Any]]
    ) -> None:
        """Handle client messages until a Close, a disconnect, a timeout or a protocol error."""
        if not self._handle_all(connection, first):
            return
        while True:
            try:
                text = await asyncio.wait_for(_receive_text(websocket), self.client_timeout)
            except TimeoutError:
                connection.drop(
                    1000, close("Client timeout elapsed without a message.", allow_reconnect=True)
                )
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            if text is None:
                return
            try:
                messages = decoder.feed(text)
            except ProtocolError:
                connection.drop(1000, close("Connection closed with an error.", allow_reconnect=False))
                return
            if not self._handle_all(connection, messages):
                return

    def _handle_all(self, connection: HubConnection, messages: list[dict[str, Any]]) -> bool:
        """Handle each message; False once the connection must end."""
        for message in messages:
            kind = message.get("type")
            if kind == MessageType.INVOCATION or kind == MessageType.STREAM_INVOCATION:
                self._invoke(connection, message, streaming=kind == MessageType.STREAM_INVOCATION)
            elif kind == MessageType.CLOSE:
                return False
            elif kind not in (MessageType.PING, MessageType.COMPLETION, MessageType.CANCEL_INVOCATION):
                connection.drop(1000, close("Connection closed with an error.", allow_reconnect=False))
                return False
        return True

    def _invoke(self, connection: HubConnection, message: dict[str, Any], *, streaming: bool) -> None:
        target = str(message.get("target", ""))
        arguments = message.get("arguments", [])
        invocation_id = message.get("invocationId")
        method = _METHODS[connection.hub].get(target.lower())
        if method is None or streaming:
            error: str | None = _method_missing(target)
        elif not isinstance(arguments, list) or not method.binds(arguments):
            error = _invoke_failed(target)
        else:
            error = None
            method.run(connection.subscriptions, arguments)
            if connection.hub == MARKET:
                self.on_subscribe()
        if invocation_id is not None:
            connection.send(completion(str(invocation_id), error=error))


async def _deny(websocket: WebSocket, status: int) -> None:
    """Refuse the upgrade with an HTTP status (403 where the server cannot send one)."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    try:
        await websocket.send_denial_response(Response(status_code=status, headers=headers))
    except RuntimeError:
        await websocket.close()


# -- hub methods ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Method:
    """A hub method: the argument kind it binds (None for no argument) and what it does."""

    argument: type | None
    run: Callable[[Subscriptions, list[Any]], None]

    def binds(self, arguments: list[Any]) -> bool:
        if self.argument is None:
            return not arguments
        if len(arguments) != 1 or isinstance(arguments[0], bool):
            return False
        return isinstance(arguments[0], self.argument)


def _accounts(subscribe: bool) -> _Method:
    def run(subs: Subscriptions, arguments: list[Any]) -> None:
        subs.accounts = subscribe

    return _Method(None, run)


def _per_item(argument: type, pick: Callable[[Subscriptions], set[Any]], subscribe: bool) -> _Method:
    """A method taking one account or contract id that adds it to (or removes it from) a set."""

    def run(subs: Subscriptions, arguments: list[Any]) -> None:
        if subscribe:
            pick(subs).add(arguments[0])
        else:
            pick(subs).discard(arguments[0])

    return _Method(argument, run)


def _pair(name: str, argument: type, pick: Callable[[Subscriptions], set[Any]]) -> dict[str, _Method]:
    """``Subscribe<name>`` and ``Unsubscribe<name>``, keyed lower-case (hub targets are case-insensitive)."""
    return {
        f"subscribe{name}".lower(): _per_item(argument, pick, True),
        f"unsubscribe{name}".lower(): _per_item(argument, pick, False),
    }


_METHODS: dict[str, dict[str, _Method]] = {
    USER: {
        "subscribeaccounts": _accounts(True),
        "unsubscribeaccounts": _accounts(False),
        **_pair("Orders", int, lambda s: s.orders),
        **_pair("Positions", int, lambda s: s.positions),
        **_pair("Trades", int, lambda s: s.trades),
    },
    MARKET: {
        **_pair("ContractQuotes", str, lambda s: s.quotes),
        **_pair("ContractTrades", str, lambda s: s.market_trades),
        **_pair("ContractMarketDepth", str, lambda s: s.depth),
    },
}

__all__ = ["HUBS", "HUB_ENDPOINTS", "MARKET", "USER", "HubConnection", "Hubs", "Subscriptions"]
