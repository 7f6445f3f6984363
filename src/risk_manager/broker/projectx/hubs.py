"""The gateway's SignalR hubs over a raw websocket: connect, subscribe, parse, reconnect.

PROJECTX.md §4: a hub is ``wss://<host>/hubs/<user|market>?access_token=<JWT>``, opened
directly (the official sample's ``skipNegotiation``), JSON protocol v1. Subscriptions
die with the connection and there is no replay, so after every reconnect we re-invoke
every Subscribe* and the caller takes a REST snapshot (``on_reconnected``); events that
arrive meanwhile are held back and delivered after it, in order. A drop during that resync
runs it again, and the new snapshot supersedes the events held before it began.

Lifecycle of one :class:`HubConnection` (run as a task with :meth:`HubConnection.start`)::

    token ─▶ connect ─▶ handshake ─▶ Subscribe* ─▶ serve: events, Ping every 15 s
      ▲                                              │ closed, 30 s silent, Close,
      └──── back off 1, 2, 4 ... 30 s (jitter) ◀─────┘ GatewayLogout, new token

A new session token (:meth:`HubConnection.token_changed`, wired to the client's token
listeners) or ``GatewayLogout`` (re-login first) reconnects at once, with the new token.
A malformed event is logged with its type and skipped; it never ends the connection.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random as _random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from typing import Any, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from risk_manager.broker.base import BrokerError
from risk_manager.broker.projectx.errors import RedactingFilter, redact
from risk_manager.broker.projectx.signalr import (
    HANDSHAKE_REQUEST,
    PING,
    Decoder,
    MessageType,
    ProtocolError,
    encode,
    invocation,
)
from risk_manager.broker.projectx.wire import WireError, parse_event, unwrap_all
from risk_manager.domain import Event
from risk_manager.schedule.clock import Clock, SystemClock

log = logging.getLogger("risk_manager.broker.projectx.hubs")
# websockets logs request lines (hence the token in the URL) at DEBUG: mask them.
_socket_log = logging.getLogger("risk_manager.broker.projectx.websocket")
_socket_log.addFilter(RedactingFilter())

#: ``on_event(type, raw_payload, event)``: the gateway's event type (``GatewayUserOrder``),
#: the payload as received (for the journal) and the parsed domain event.
OnEvent = Callable[[str, object, Event], None]
#: Awaited after each reconnect (not the first connect): resync from REST.
OnReconnected = Callable[[], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]

USER_EVENTS = ("GatewayUserAccount", "GatewayUserOrder", "GatewayUserPosition", "GatewayUserTrade")
QUOTE_EVENT = "GatewayQuote"
LOGOUT_EVENT = "GatewayLogout"
#: Market events we never subscribe to but may still see; ignored quietly.
_IGNORED = frozenset({"GatewayTrade", "GatewayDepth"})
_RELOGIN_STATUSES = frozenset({401, 403})


class TokenSource(Protocol):
    """Where a hub gets its token (:class:`~risk_manager.broker.projectx.client.ProjectXClient`)."""

    async def token(self) -> str: ...

    async def relogin(self, rejected: str | None = None) -> str:
        """A new token; with ``rejected``, only if the current token is still that one
        (two hubs told of the same logout log in once)."""
        ...


class HubError(Exception):
    """The hub refused the handshake, went silent or closed the connection."""


#: What parsing one event may raise on hostile input: the event is skipped, the connection stays.
_MALFORMED = (WireError, RecursionError)
#: What ends one connection attempt (and is retried); anything else is a bug and propagates.
_CONNECTION_ERRORS = (OSError, TimeoutError, WebSocketException, HubError, ProtocolError, BrokerError)


def hub_url(url: str, token: str) -> str:
    """The websocket URL of a hub: ``https`` -> ``wss``, ``http`` -> ``ws``, token in the query."""
    parts = urlsplit(url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    query = (parts.query + "&" if parts.query else "") + "access_token=" + quote(token, safe="")
    return urlunsplit((scheme, parts.netloc, parts.path, query, ""))


def unsubscribe_target(target: str) -> str:
    """``SubscribeOrders`` -> ``UnsubscribeOrders``."""
    return "Un" + target[:1].lower() + target[1:]


class HubConnection:
    """One SignalR hub connection that keeps itself alive. Subclasses map events.

    Args:
        url: the hub URL from the config (``https://rtc.topstepx.com/hubs/user``).
        tokens: gives the current session token, and a new one after ``GatewayLogout``.
        on_event: receives every parsed event (see :data:`OnEvent`).
        name: ``user`` or ``market``, for log lines.
        on_reconnected: awaited after every reconnect, with events held back meanwhile.
        clock: receipt time of events (leave as default unless testing).
        ping_interval: seconds between our pings (SignalR default 15).
        server_timeout: seconds of silence after which the connection is dead (default 30).
        open_timeout: seconds for the websocket upgrade and the handshake.
        backoff_initial, backoff_max: reconnect delays, doubling (1 s to 30 s).
        stable_after: a connection that lived this long resets the back-off.
        sleep, random, monotonic: back-off timing (leave as default unless testing).
    """

    def __init__(
        self,
        url: str,
        tokens: TokenSource,
        on_event: OnEvent,
        *,
        name: str,
        on_reconnected: OnReconnected | None = None,
        clock: Clock | None = None,
        ping_interval: float = 15.0,
        server_timeout: float = 30.0,
        open_timeout: float = 10.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        stable_after: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._url = url
        self._tokens = tokens
        self._on_event = on_event
        self._on_reconnected = on_reconnected
        self._clock: Clock = clock or SystemClock()
        self._ping_interval = ping_interval
        self._server_timeout = server_timeout
        self._open_timeout = open_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._stable_after = stable_after
        self._sleep = sleep
        self._random = random
        self._monotonic = monotonic
        self._subscriptions: dict[tuple[str, tuple[Any, ...]], None] = {}  # insertion-ordered set
        self._live: ClientConnection | None = None  # handshaken: invocations may be sent
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._generation = 0  # bumped by every new token
        self._immediate = False  # reconnect without back-off (new token, GatewayLogout)
        self._need_relogin = False
        self._token: str | None = None  # the token of the last connection attempt
        self._closing = False
        self._invocation_ids = itertools.count(1)
        self._pending: dict[str, str] = {}  # invocationId -> "SubscribeOrders(101)"
        self._holds = 0
        self._held: list[tuple[str, object, Event]] = []
        self._resync: asyncio.Task[None] | None = None
        self._resync_again = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._task: asyncio.Task[None] | None = None
        self.connections = 0
        """Successful handshakes so far; more than one means we reconnected."""
        self.malformed: Counter[str] = Counter()
        """Malformed events skipped, by event type."""

    # -- subscriptions ------------------------------------------------------------------------

    @property
    def subscriptions(self) -> list[tuple[str, tuple[Any, ...]]]:
        """What is invoked on every (re)connect, in order: ``(target, arguments)``."""
        return list(self._subscriptions)

    def subscribe(self, target: str, *arguments: Any) -> None:
        """Keep ``target(*arguments)`` subscribed: invoked now if connected and after every reconnect."""
        key = (target, arguments)
        if key in self._subscriptions:
            return
        self._subscriptions[key] = None
        if self._live is not None:
            self._spawn(self._invoke_remote(self._live, target, arguments))

    def unsubscribe(self, target: str, *arguments: Any) -> None:
        """Drop a subscription made with ``subscribe(target, *arguments)`` (sends ``Unsubscribe*``)."""
        if (target, arguments) not in self._subscriptions:
            return
        del self._subscriptions[(target, arguments)]
        if self._live is not None:
            self._spawn(self._invoke_remote(self._live, unsubscribe_target(target), arguments))

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        """Return once the hub is connected and subscribed."""
        await self._connected.wait()

    def start(self) -> asyncio.Task[None]:
        """Run :meth:`run` as a task (stopped by :meth:`close`)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=f"{self.name}-hub")
        return self._task

    async def close(self) -> None:
        """Stop reconnecting, close the socket (normal closure) and every helper task."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            await ws.close()
        tasks = [t for t in (self._task, *self._tasks) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._closing = False

    def token_changed(self, token: str) -> None:
        """The session token changed: reconnect with it (a client token listener)."""
        self._generation += 1
        if self._ws is not None:
            log.info("%s hub: session token renewed; reconnecting with it", self.name)
            self._kick()

    @asynccontextmanager
    async def holding(self) -> AsyncIterator[None]:
        """Hold events back while the caller takes a REST snapshot; delivered after, in order.

        The daemon's startup resync uses it; reconnects do it by themselves.
        """
        self._holds += 1
        try:
            yield
        finally:
            self._release()

    async def run(self) -> None:
        """Connect and stay connected until cancelled."""
        failures = 0
        try:
            while True:
                started: float | None = None
                try:
                    started = await self._connect_and_serve()
                    reason = "connection ended"
                except InvalidStatus as exc:
                    status = exc.response.status_code
                    if status in _RELOGIN_STATUSES:
                        self._need_relogin = True
                    reason = f"upgrade refused with HTTP {status}"
                except ConnectionClosed as exc:
                    reason = f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
                except _CONNECTION_ERRORS as exc:
                    reason = redact(f"{type(exc).__name__}: {exc}")
                finally:
                    self._live = self._ws = None
                    self._connected.clear()
                    self._pending.clear()
                if self._closing:
                    return
                if started is not None and self._monotonic() - started >= self._stable_after:
                    failures = 0
                delay = 0.0 if self._immediate and failures == 0 else self._backoff(failures)
                self._immediate = False
                failures += 1
                log.warning("%s hub: %s; reconnecting in %.1f s", self.name, reason, delay)
                await self._sleep(delay)
        finally:
            self._live = self._ws = None
            self._connected.clear()

    # -- one connection -------------------------------------------------------------------------

    async def _connect_and_serve(self) -> float | None:
        """Connect, handshake, subscribe and serve until the connection ends; returns when it
        started (monotonic), or None if it never got past the handshake."""
        if self._need_relogin:
            self._need_relogin = False
            await self._tokens.relogin(self._token)
        generation = self._generation
        token = self._token = await self._tokens.token()
        async with connect(
            hub_url(self._url, token),
            open_timeout=self._open_timeout,
            ping_interval=None,  # SignalR pings below; silence is judged on every message
            close_timeout=2,
            max_size=4 * 2**20,
            logger=_socket_log,
        ) as ws:
            self._ws = ws
            decoder = Decoder()
            backlog = await self._handshake(ws, decoder)
            if generation != self._generation:
                self._immediate = True  # the token changed while we were connecting
                return None
            reconnect = self.connections > 0
            self.connections += 1
            await self._send_subscriptions(ws)
            if reconnect and self._on_reconnected is not None:
                # Subscribed first, then the REST snapshot (PROJECTX.md §4.5); nothing is read
                # from the socket before _serve, so holding from here loses no event.
                self._holds += 1  # released when the resync ends
                self._begin_resync()
            self._connected.set()
            started = self._monotonic()
            log.info("%s hub: connected%s", self.name, " again" if reconnect else "")
            await self._serve(ws, decoder, backlog)
            return started

    async def _handshake(self, ws: ClientConnection, decoder: Decoder) -> list[dict[str, Any]]:
        """Send the JSON protocol request; return messages that came with the answer."""
        await ws.send(encode(HANDSHAKE_REQUEST))
        async with asyncio.timeout(self._open_timeout):
            messages: list[dict[str, Any]] = []
            while not messages:
                messages = decoder.feed(_text(await ws.recv()))
        answer, rest = messages[0], messages[1:]
        if answer.get("error"):
            raise HubError(f"handshake refused: {answer['error']}")
        return rest

    async def _send_subscriptions(self, ws: ClientConnection) -> None:
        self._live = ws
        for target, arguments in list(self._subscriptions):  # later ones are sent by subscribe()
            await self._invoke_remote(ws, target, arguments)

    async def _invoke_remote(self, ws: ClientConnection, target: str, arguments: tuple[Any, ...]) -> None:
        invocation_id = str(next(self._invocation_ids))
        self._pending[invocation_id] = f"{target}({', '.join(map(str, arguments))})"
        try:
            await ws.send(encode(invocation(target, *arguments, invocation_id=invocation_id)))
        except ConnectionClosed:
            self._pending.pop(invocation_id, None)  # the reconnect subscribes again

    async def _serve(self, ws: ClientConnection, decoder: Decoder, backlog: list[dict[str, Any]]) -> None:
        pinger = asyncio.create_task(self._keepalive(ws))
        try:
            for message in backlog:
                if not self._handle(message):
                    return
            while True:
                try:
                    async with asyncio.timeout(self._server_timeout):
                        frame = await ws.recv()
                except TimeoutError:
                    raise HubError(f"nothing heard for {self._server_timeout:g} s") from None
                for message in decoder.feed(_text(frame)):
                    if not self._handle(message):
                        return
        finally:
            pinger.cancel()

    async def _keepalive(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self._ping_interval)
            try:
                await ws.send(encode(PING))
            except ConnectionClosed:
                return

    def _handle(self, message: dict[str, Any]) -> bool:
        """Act on one hub message; False ends the connection."""
        kind = message.get("type")
        if kind == MessageType.INVOCATION:
            target = message.get("target")
            arguments = message.get("arguments")
            if not isinstance(target, str):
                return True
            if target == LOGOUT_EVENT:
                log.warning("%s hub: GatewayLogout: logging in again", self.name)
                self._need_relogin = self._immediate = True
                return False
            self._invoked(target, arguments if isinstance(arguments, list) else [])
        elif kind == MessageType.COMPLETION:
            call = self._pending.pop(str(message.get("invocationId")), "invocation")
            if message.get("error"):
                log.error("%s hub: %s failed: %s", self.name, call, message["error"])
        elif kind == MessageType.CLOSE:
            error = message.get("error")
            raise HubError(f"server closed the connection{': ' + str(error) if error else ''}")
        return True  # pings and anything else only prove the connection alive

    def _invoked(self, target: str, arguments: list[Any]) -> None:
        """A server-to-client call: parse and deliver. Overridden per hub."""
        log.debug("%s hub: ignoring %s", self.name, target)

    # -- events ------------------------------------------------------------------------------------

    def _emit(self, type: str, payload: object, contract_id: str | None = None) -> None:
        """Parse one hub argument (wrapped, bare or a list) and deliver each event in it."""
        now = self._clock.now()
        try:
            items = unwrap_all(payload, type)
        except _MALFORMED as exc:
            self._skip(type, exc)
            return
        for item in items:
            try:
                event = parse_event(type, item, now, contract_id)
            except _MALFORMED as exc:
                self._skip(type, exc)
                continue
            self._deliver(type, payload if len(items) == 1 else item, event)

    def _skip(self, type: str, error: Exception | str) -> None:
        self.malformed[type] += 1
        count = self.malformed[type]
        if count == 1 or count % 100 == 0:
            log.warning("%s hub: malformed %s skipped (%d so far): %s", self.name, type, count, error)

    def _deliver(self, type: str, raw: object, event: Event) -> None:
        if self._holds:
            self._held.append((type, raw, event))
            return
        try:
            self._on_event(type, raw, event)
        except Exception:  # the engine's failure must not take the connection down with it
            log.exception("%s hub: handling %s failed", self.name, type)

    def _release(self) -> None:
        self._holds -= 1
        if self._holds:
            return
        held, self._held = self._held, []
        for type, raw, event in held:
            self._deliver(type, raw, event)

    def _begin_resync(self) -> None:
        if self._resync is not None and not self._resync.done():
            self._resync_again = True  # the running resync goes once more
            self._release()
            return
        self._resync = self._spawn(self._resync_loop())

    async def _resync_loop(self) -> None:
        callback = self._on_reconnected
        again = False
        try:
            while callback is not None:
                if again:
                    self._supersede_held()
                again = True
                self._resync_again = False
                try:
                    await callback()
                except Exception:  # a failed resync is logged; the hub stays up, the next one retries
                    log.exception("%s hub: resync after reconnect failed", self.name)
                if not self._resync_again:
                    break
        finally:
            self._release()

    def _supersede_held(self) -> None:
        """The connection dropped during a resync, which now runs again: its snapshot is newer than
        every event held so far. Replayed after it, they would roll the state back to before the
        first run's enforcement, which would then be sent a second time (PROJECTX.md §4.5: apply
        only the events newer than the snapshot)."""
        if self._held:
            log.info("%s hub: %d held events superseded by a new snapshot", self.name, len(self._held))
            self._held.clear()

    # -- helpers -----------------------------------------------------------------------------------

    def _kick(self) -> None:
        """Close the current connection so that run() reconnects at once."""
        self._immediate = True
        if self._ws is not None:
            self._spawn(self._ws.close())

    def _backoff(self, failures: int) -> float:
        base = min(self._backoff_max, self._backoff_initial * 2**failures)
        return float(base * (0.8 + 0.4 * self._random()))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


class UserHub(HubConnection):
    """The user hub: accounts, orders, positions and fills of the watched accounts.

    ``SubscribeAccounts`` always; ``SubscribeOrders/Positions/Trades(accountId)`` per account.
    """

    def __init__(
        self,
        url: str,
        tokens: TokenSource,
        on_event: OnEvent,
        *,
        accounts: Iterable[int] = (),
        **options: Any,
    ) -> None:
        super().__init__(url, tokens, on_event, name="user", **options)
        self.subscribe("SubscribeAccounts")
        for account_id in accounts:
            self.add_account(account_id)

    _PER_ACCOUNT = ("SubscribeOrders", "SubscribePositions", "SubscribeTrades")

    @property
    def accounts(self) -> list[int]:
        return [args[0] for target, args in self._subscriptions if target == "SubscribeOrders"]

    def add_account(self, account_id: int) -> None:
        for target in self._PER_ACCOUNT:
            self.subscribe(target, account_id)

    def remove_account(self, account_id: int) -> None:
        for target in self._PER_ACCOUNT:
            self.unsubscribe(target, account_id)

    def _invoked(self, target: str, arguments: list[Any]) -> None:
        if target in USER_EVENTS:
            if not arguments:
                self._skip(target, "no argument")
                return
            self._emit(target, arguments[0])
        else:
            super()._invoked(target, arguments)


class MarketHub(HubConnection):
    """The market hub: quotes of the contracts held (``SubscribeContractQuotes`` each).

    Events carry ``(contractId, data)`` (PROJECTX.md §4.4); the contract id becomes the quote's.
    """

    def __init__(
        self,
        url: str,
        tokens: TokenSource,
        on_event: OnEvent,
        *,
        contracts: Iterable[str] = (),
        **options: Any,
    ) -> None:
        super().__init__(url, tokens, on_event, name="market", **options)
        for contract_id in contracts:
            self.add_contract(contract_id)

    _QUOTES = "SubscribeContractQuotes"

    @property
    def contracts(self) -> list[str]:
        return [args[0] for target, args in self._subscriptions if target == self._QUOTES]

    def add_contract(self, contract_id: str) -> None:
        self.subscribe(self._QUOTES, contract_id)

    def remove_contract(self, contract_id: str) -> None:
        self.unsubscribe(self._QUOTES, contract_id)

    def set_contracts(self, contract_ids: Iterable[str]) -> None:
        """Quote exactly these contracts: subscribe the new ones, unsubscribe the rest."""
        wanted = list(dict.fromkeys(contract_ids))
        for contract_id in self.contracts:
            if contract_id not in wanted:
                self.remove_contract(contract_id)
        for contract_id in wanted:
            self.add_contract(contract_id)

    def _invoked(self, target: str, arguments: list[Any]) -> None:
        if target == QUOTE_EVENT:
            if len(arguments) < 2 or not isinstance(arguments[0], str):
                self._skip(target, f"expected (contractId, data), got {len(arguments)} argument(s)")
                return
            self._emit(target, arguments[1], arguments[0])
        elif target not in _IGNORED:
            super()._invoked(target, arguments)


def _text(frame: str | bytes) -> str:
    return frame if isinstance(frame, str) else frame.decode("utf-8", errors="replace")


__all__ = [
    "LOGOUT_EVENT",
    "QUOTE_EVENT",
    "USER_EVENTS",
    "HubConnection",
    "HubError",
    "MarketHub",
    "OnEvent",
    "OnReconnected",
    "TokenSource",
    "UserHub",
    "hub_url",
    "unsubscribe_target",
]
