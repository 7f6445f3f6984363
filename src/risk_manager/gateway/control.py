"""The ``/sim/...`` control API: scripting the simulated gateway from tests and demos.

Same port as the gateway, no auth, no rate limit, no scripted faults. Bodies are JSON
objects (unknown keys are refused, so a typo fails loudly); answers are JSON with
``"ok": true`` and what changed, or ``"ok": false`` and an ``error`` line: 400 for a
bad body, 404 for an unknown account or contract, 409 when the simulated platform
refuses a trader's order (with the Order/place ``errorCode`` and ``errorMessage``).
``GET /sim`` lists every endpoint (:func:`docs_sim_api`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from risk_manager.broker.base import BrokerRejected
from risk_manager.broker.projectx.signalr import invocation
from risk_manager.broker.projectx.wire import OrderPlaceRequest, Price
from risk_manager.gateway.faults import Delay, Failure
from risk_manager.gateway.rest import reason

if TYPE_CHECKING:
    from risk_manager.gateway.simulator import GatewaySimulator

#: Malformed frames ``/sim/malformed`` can send (``kind``).
MALFORMED_ORDER: dict[str, Any] = {"action": 1, "data": {"id": "not-a-number", "status": "open"}}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Empty(_Body):
    pass


class QuoteBody(_Body):
    contractId: str
    lastPrice: Price = Field(gt=0)
    bestBid: Price | None = None
    bestAsk: Price | None = None


class AccountBody(_Body):
    accountId: int
    canTrade: bool | None = None
    balance: Price | None = None


class DropBody(_Body):
    hub: Literal["user", "market"] | None = None
    graceful: bool = False


class FailBody(_Body):
    endpoint: str
    times: int = 1
    status: int = 500
    apply: bool = False
    errorCode: int | None = None
    errorMessage: str | None = None


class DelayBody(_Body):
    endpoint: str
    seconds: float
    times: int = 1


class MalformedBody(_Body):
    kind: Literal["payload", "json", "raw", "event"] = "payload"
    hub: Literal["user", "market"] = "user"
    text: str | None = None
    target: str | None = None
    arguments: list[Any] = []


class MarketBody(_Body):
    rate: float | None = Field(default=None, ge=0, le=1000)
    paused: bool | None = None
    closed: bool | None = None


class OcoBody(_Body):
    accountId: int
    enabled: bool = True


class RateLimitBody(_Body):
    limit: int = Field(ge=1)
    window: float = Field(gt=0)


Handler = Callable[["GatewaySimulator", Any], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class SimEndpoint:
    method: Literal["GET", "POST"]
    path: str
    body: type[BaseModel] | None
    """The POST body's model; None passes the JSON object as a dict."""
    shape: str
    doc: str
    handler: Handler


def _ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"ok": True, **fields})


def _error(status: int, message: str, **fields: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, **fields}, status_code=status)


# -- handlers ----------------------------------------------------------------------------------


async def _docs(sim: GatewaySimulator, body: None) -> Response:
    return PlainTextResponse(docs_sim_api())


async def _state(sim: GatewaySimulator, body: None) -> Response:
    return JSONResponse(sim.state())


async def _timings(sim: GatewaySimulator, body: None) -> Response:
    return JSONResponse(sim.timings.state())


async def _quote(sim: GatewaySimulator, body: QuoteBody) -> Response:
    if sim.catalog.find(body.contractId) is None:
        return _error(404, f"unknown contract {body.contractId!r} (see /sim/state contracts)")
    quote = sim.set_quote(body.contractId, body.lastPrice, body.bestBid, body.bestAsk)
    return _ok(contractId=body.contractId, quote=quote)


async def _trade(sim: GatewaySimulator, body: dict[str, Any]) -> Response:
    """A trader's own order from the platform: Order/place's checks, without the API's auth or limits."""
    try:
        request = OrderPlaceRequest.model_validate({"type": 2, **body})
    except ValidationError as exc:
        return _error(400, _first_error(exc))
    try:
        order_id = sim.exchange.place(request)
    except BrokerRejected as exc:
        return _error(409, reason(exc), errorCode=exc.code, errorMessage=reason(exc))
    return _ok(orderId=order_id)


async def _account(sim: GatewaySimulator, body: AccountBody) -> Response:
    book = sim.exchange.book(body.accountId)
    if book is None:
        return _error(404, f"unknown account {body.accountId}")
    info = book.info
    if body.canTrade is not None:
        info = replace(info, can_trade=body.canTrade)
    if body.balance is not None:
        info = replace(info, balance=body.balance)
    sim.exchange.update_account(info)  # publishes GatewayUserAccount
    return _ok(accountId=info.id, canTrade=info.can_trade, balance=float(info.balance))


async def _drop(sim: GatewaySimulator, body: DropBody) -> Response:
    return _ok(dropped=sim.hubs.drop(body.hub, graceful=body.graceful))


async def _fail(sim: GatewaySimulator, body: FailBody) -> Response:
    failure = Failure(body.times, body.status, body.apply, body.errorCode, body.errorMessage)
    try:
        sim.faults.fail(body.endpoint, failure)
    except ValueError as exc:
        return _error(400, str(exc))
    return _ok(faults=sim.faults.pending())


async def _delay(sim: GatewaySimulator, body: DelayBody) -> Response:
    try:
        sim.faults.delay(body.endpoint, Delay(body.times, body.seconds))
    except ValueError as exc:
        return _error(400, str(exc))
    return _ok(faults=sim.faults.pending())


async def _clear_faults(sim: GatewaySimulator, body: Empty) -> Response:
    sim.faults.clear()
    return _ok(faults=sim.faults.pending())


async def _malformed(sim: GatewaySimulator, body: MalformedBody) -> Response:
    if body.kind == "json":
        sent = sim.hubs.broadcast(body.hub, text='{"type":1,"target":"GatewayUserOrder","arguments":[{\x1e')
    elif body.kind == "raw":
        if body.text is None:
            return _error(400, "kind 'raw' needs text (sent as is, add \\u001e yourself)")
        sent = sim.hubs.broadcast(body.hub, text=body.text)
    elif body.kind == "event":
        if body.target is None:
            return _error(400, "kind 'event' needs target (and arguments)")
        sent = sim.hubs.broadcast(body.hub, invocation(body.target, *body.arguments))
    else:
        sent = sim.hubs.broadcast(body.hub, invocation("GatewayUserOrder", MALFORMED_ORDER))
    return _ok(sent=sent)


async def _logout(sim: GatewaySimulator, body: Empty) -> Response:
    return _ok(sent=sim.hubs.broadcast(None, invocation("GatewayLogout")))


async def _market(sim: GatewaySimulator, body: MarketBody) -> Response:
    market = sim.market
    if body.rate is not None:
        market.rate = body.rate
    if body.paused is not None:
        market.paused = body.paused
    if body.closed is not None:
        market.closed = body.closed
    sim.market_changed()
    return _ok(rate=market.rate, paused=market.paused, closed=market.closed, seed=market.seed)


async def _oco(sim: GatewaySimulator, body: OcoBody) -> Response:
    if sim.exchange.book(body.accountId) is None:
        return _error(404, f"unknown account {body.accountId}")
    if body.enabled:
        sim.exchange.auto_oco.add(body.accountId)
    else:
        sim.exchange.auto_oco.discard(body.accountId)
    return _ok(accountId=body.accountId, autoOco=body.enabled)


async def _expire_tokens(sim: GatewaySimulator, body: Empty) -> Response:
    return _ok(expired=sim.tokens.expire_all())


async def _rate_limit(sim: GatewaySimulator, body: RateLimitBody) -> Response:
    sim.limiter.configure(body.limit, body.window)
    return _ok(limit=body.limit, window=body.window)


SIM_API: tuple[SimEndpoint, ...] = (
    SimEndpoint("GET", "/sim", None, "", "This listing.", _docs),
    SimEndpoint(
        "GET",
        "/sim/state",
        None,
        "",
        "Everything as JSON: accounts (with positions, all orders incl. Suspended, trades, autoOco), "
        "market (seed, rate, paused, closed, quotes, inPlay), contracts, hub connections and their "
        "subscriptions, pending faults, rate-limit use, token counts.",
        _state,
    ),
    SimEndpoint(
        "GET",
        "/sim/timings",
        None,
        "",
        "Benchmark stamps (perf_counter_ns of the simulator process): each GatewayUserPosition and "
        "GatewayUserTrade as it is published, each enforcement request (Position/closeContract, "
        "Position/partialCloseContract, Order/cancel) as it arrives, and the number of quotes published.",
        _timings,
    ),
    SimEndpoint(
        "POST",
        "/sim/quote",
        QuoteBody,
        "{contractId, lastPrice, bestBid?, bestAsk?}",
        "Move the market now: publish GatewayQuote (and GatewayTrade/GatewayDepth) to subscribers, "
        "then fill the resting orders it reaches. bestBid defaults to lastPrice, bestAsk to one tick above.",
        _quote,
    ),
    SimEndpoint(
        "POST",
        "/sim/trade",
        None,
        "{accountId, contractId, side, size, type?=2, limitPrice?, stopPrice?, customTag?, "
        "stopLossBracket?, takeProfitBracket?}",
        "The trader's own order from the platform (an Order/place body, type defaults to market): "
        "same checks and events as Order/place, without the API's token, rate limit or faults. "
        "409 with errorCode/errorMessage when refused.",
        _trade,
    ),
    SimEndpoint(
        "POST",
        "/sim/account",
        AccountBody,
        "{accountId, canTrade?, balance?}",
        "Change an account as the platform would and publish GatewayUserAccount.",
        _account,
    ),
    SimEndpoint(
        "POST",
        "/sim/drop",
        DropBody,
        "{hub?: user|market, graceful?=false}",
        "Close every hub WebSocket (of one hub): abruptly (close code 1011, no SignalR Close) or "
        "gracefully (SignalR Close with allowReconnect, then 1000). Subscriptions are lost.",
        _drop,
    ),
    SimEndpoint(
        "POST",
        "/sim/fail",
        FailBody,
        "{endpoint, times?=1, status?=500, apply?=false, errorCode?, errorMessage?}",
        "Fail the next `times` calls of an endpoint (Order/place, Auth/loginKey, hubs/user, "
        "hubs/market/negotiate, ...) with an HTTP status; status 200 answers success=false with "
        "errorCode. apply=true lets the call take effect and loses its answer.",
        _fail,
    ),
    SimEndpoint(
        "POST",
        "/sim/delay",
        DelayBody,
        "{endpoint, seconds, times?=1}",
        "Hold the next `times` calls of an endpoint for `seconds` before handling them.",
        _delay,
    ),
    SimEndpoint(
        "POST", "/sim/clear-faults", Empty, "{}", "Forget every scripted failure and delay.", _clear_faults
    ),
    SimEndpoint(
        "POST",
        "/sim/malformed",
        MalformedBody,
        "{kind?=payload|json|raw|event, hub?=user, text?, target?, arguments?}",
        "Send something broken to every connection of a hub: payload = GatewayUserOrder with a "
        "bad data object; json = a frame that is not JSON; raw = `text` as is; event = "
        "Invocation `target`(*arguments).",
        _malformed,
    ),
    SimEndpoint(
        "POST", "/sim/logout", Empty, "{}", "Send GatewayLogout (no arguments) on both hubs.", _logout
    ),
    SimEndpoint(
        "POST",
        "/sim/market",
        MarketBody,
        "{rate?, paused?, closed?}",
        "Quotes per second per contract in play (0 = none), pause the walk, or close the market "
        "(no quotes; Order/place errorCode 5, closeContract 5, partialCloseContract 6).",
        _market,
    ),
    SimEndpoint(
        "POST",
        "/sim/oco",
        OcoBody,
        "{accountId, enabled?=true}",
        "Switch an account to Auto OCO Brackets (brackets accepted) or back to Position Brackets.",
        _oco,
    ),
    SimEndpoint(
        "POST",
        "/sim/expire-tokens",
        Empty,
        "{}",
        "Expire every token issued so far: REST answers 401 and hubs refuse new connections; "
        "open sockets stay open.",
        _expire_tokens,
    ),
    SimEndpoint(
        "POST",
        "/sim/rate-limit",
        RateLimitBody,
        "{limit, window}",
        "At most `limit` /api requests per `window` seconds (default 200 per 60), then 429.",
        _rate_limit,
    ),
)


def docs_sim_api() -> str:
    """The ``/sim`` endpoints, one paragraph each: method, path, body, what it does."""
    lines = ["Gateway simulator control API (same port, JSON bodies, no auth):", ""]
    for endpoint in SIM_API:
        lines.append(f"{endpoint.method:<4} {endpoint.path}  {endpoint.shape}".rstrip())
        lines.append(f"    {endpoint.doc}")
    return "\n".join(lines) + "\n"


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_context=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "(body)"
    return f"{where}: {error['msg']}"


def sim_routes(sim: GatewaySimulator) -> list[Route]:
    """The starlette routes of :data:`SIM_API` bound to ``sim``."""

    def bind(endpoint: SimEndpoint) -> Route:
        async def handle(request: Request) -> Response:
            if request.method == "GET":
                return await endpoint.handler(sim, None)
            raw = await request.body()
            try:
                data = json.loads(raw) if raw.strip() else {}
            except (json.JSONDecodeError, UnicodeDecodeError):
                return _error(400, "body is not JSON")
            if not isinstance(data, dict):
                return _error(400, "body must be a JSON object")
            if endpoint.body is None:
                return await endpoint.handler(sim, data)
            try:
                body = endpoint.body.model_validate(data)
            except ValidationError as exc:
                return _error(400, _first_error(exc))
            return await endpoint.handler(sim, body)

        return Route(endpoint.path, handle, methods=[endpoint.method])

    return [bind(endpoint) for endpoint in SIM_API]


__all__ = ["SIM_API", "SimEndpoint", "docs_sim_api", "sim_routes"]
