"""The REST half of the gateway simulator: ``/api/<Controller>/<action>`` (PROJECTX.md §1-§3).

Every request goes through the same steps, in this order:

1. route: unknown path 404, wrong method 405 (paths are case-insensitive, as ASP.NET's);
2. rate limit: above ``limit`` requests in ``window`` s -> 429, empty body, no Retry-After;
3. scripted delay, then scripted failure (``/sim/delay``, ``/sim/fail``);
4. auth (all but ``Auth/loginKey`` and ``Status/ping``): no, bad or expired bearer token ->
   401 with an empty body and a ``WWW-Authenticate: Bearer`` header;
5. body: a JSON object validated with the shared wire request model; a non-JSON content
   type -> 415, malformed JSON or a failed validation -> 400 ProblemDetails;
6. the call: business failures are HTTP 200 with ``success: false`` and the endpoint's
   own errorCode; responses are built and checked with the shared response models.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from risk_manager.broker.base import BrokerRejected
from risk_manager.broker.projectx.wire import (
    AccountSearchRequest,
    AccountSearchResponse,
    ContractAvailableRequest,
    ContractSearchByIdRequest,
    ContractSearchRequest,
    ContractSearchResponse,
    Envelope,
    LoginKeyRequest,
    LoginResponse,
    OrderCancelRequest,
    OrderModifyRequest,
    OrderPlaceRequest,
    OrderPlaceResponse,
    OrderQueryRequest,
    OrderSearchByIdRequest,
    OrderSearchOpenRequest,
    OrderSearchRequest,
    OrderSearchResponse,
    PositionCloseContractRequest,
    PositionPartialCloseContractRequest,
    PositionSearchOpenRequest,
    PositionSearchResponse,
    TradeSearchRequest,
    TradeSearchResponse,
    ValidateResponse,
    WireModel,
    account_to_wire,
    fill_to_wire,
)
from risk_manager.broker.projectx.wire import Request as WireRequest
from risk_manager.domain import Order, OrderStatus
from risk_manager.gateway.faults import Failure, endpoint_key
from risk_manager.gateway.tokens import TokenState, token_claims

if TYPE_CHECKING:
    from risk_manager.gateway.simulator import GatewaySimulator

M = TypeVar("M", bound=Envelope)
Handler = Callable[["GatewaySimulator", Any, str], Awaitable[Envelope]]

LOGIN_INVALID_CREDENTIALS = 3
CONTRACT_NOT_FOUND = 1
#: partialCloseContract's OrderRejected comes with a null errorMessage live (PROJECTX.md §2.1).
PARTIAL_CLOSE_SILENT_CODE = 6
_SORT_BY_ID = 1
_DESCENDING = 1


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    """``Controller/action`` as PROJECTX.md writes it."""
    request: type[WireRequest] | None
    handler: Handler
    auth: bool = True
    method: str = "POST"


def ok(model: type[M], **payload: Any) -> M:
    """A success envelope with its payload field(s), checked by the shared response model."""
    return model.model_validate({"success": True, "errorCode": 0, "errorMessage": None, **payload})


def refused(model: type[M], code: int, message: str | None, **payload: Any) -> M:
    return model.model_validate({"success": False, "errorCode": code, "errorMessage": message, **payload})


def reason(exc: BrokerRejected) -> str:
    """The broker's message without the ``[endpoint, account N]`` suffix BrokerError appends."""
    text = str(exc)
    where = f" [{exc.endpoint}" + (f", account {exc.account_id}" if exc.account_id is not None else "") + "]"
    return text.removesuffix(where) if exc.endpoint else text


# -- handlers ----------------------------------------------------------------------------------


async def login_key(sim: GatewaySimulator, body: LoginKeyRequest, user: str) -> Envelope:
    if body.userName == sim.config.user and body.apiKey == sim.config.api_key:
        return ok(LoginResponse, token=sim.tokens.issue(body.userName))
    return refused(LoginResponse, LOGIN_INVALID_CREDENTIALS, None, token=None)


async def validate(sim: GatewaySimulator, body: None, user: str) -> Envelope:
    return ok(ValidateResponse, newToken=sim.tokens.issue(user))


async def search_accounts(sim: GatewaySimulator, body: AccountSearchRequest, user: str) -> Envelope:
    # onlyActiveAccounts changes nothing: every simulated account is active, canTrade or not.
    accounts = [account_to_wire(info) for info in sim.exchange.accounts()]
    return ok(AccountSearchResponse, accounts=accounts)


async def search_contracts(sim: GatewaySimulator, body: ContractSearchRequest, user: str) -> Envelope:
    return ok(ContractSearchResponse, contracts=[c.payload() for c in sim.catalog.search(body.searchText)])


async def search_contract_by_id(
    sim: GatewaySimulator, body: ContractSearchByIdRequest, user: str
) -> Envelope:
    listing = sim.catalog.find(body.contractId)
    if listing is None:
        return refused(
            ContractSearchResponse, CONTRACT_NOT_FOUND, f"ContractNotFound: {body.contractId}", contract=None
        )
    return ok(ContractSearchResponse, contract=listing.payload())


async def available_contracts(sim: GatewaySimulator, body: ContractAvailableRequest, user: str) -> Envelope:
    return ok(ContractSearchResponse, contracts=[c.payload() for c in sim.catalog.front.values()])


async def place_order(sim: GatewaySimulator, body: OrderPlaceRequest, user: str) -> Envelope:
    try:
        order_id = sim.exchange.place(body)
    except BrokerRejected as exc:
        return refused(OrderPlaceResponse, exc.code, reason(exc), orderId=None)
    return ok(OrderPlaceResponse, orderId=order_id)


async def modify_order(sim: GatewaySimulator, body: OrderModifyRequest, user: str) -> Envelope:
    sim.exchange.modify(body)
    return ok(Envelope)


async def cancel_order(sim: GatewaySimulator, body: OrderCancelRequest, user: str) -> Envelope:
    await sim.exchange.cancel_order(body.accountId, body.orderId)
    return ok(Envelope)


def _listed(orders: list[Order], sim: GatewaySimulator) -> list[dict[str, Any]]:
    return [sim.exchange.order_payload(o) for o in sorted(orders, key=lambda o: o.id)]


async def search_orders(sim: GatewaySimulator, body: OrderSearchRequest, user: str) -> Envelope:
    """All statuses in the window, except Suspended bracket children (PROJECTX.md §6, observed)."""
    book = sim.exchange.account_book(body.accountId, "Order/search")
    end = body.endTimestamp
    orders = [
        o
        for o in book.orders.values()
        if o.status is not OrderStatus.SUSPENDED
        and body.startTimestamp <= o.created_at
        and (end is None or o.created_at <= end)
    ]
    return ok(OrderSearchResponse, orders=_listed(orders, sim))


async def search_open_orders(sim: GatewaySimulator, body: OrderSearchOpenRequest, user: str) -> Envelope:
    """Working orders without the Suspended bracket children, as the live service answers."""
    book = sim.exchange.account_book(body.accountId, "Order/searchOpen")
    orders = [o for o in book.working_orders() if o.status is not OrderStatus.SUSPENDED]
    return ok(OrderSearchResponse, orders=_listed(orders, sim))


async def search_order_by_id(sim: GatewaySimulator, body: OrderSearchByIdRequest, user: str) -> Envelope:
    book = sim.exchange.account_book(body.accountId, "Order/searchById")
    order = book.orders.get(body.orderId)
    return ok(OrderSearchResponse, order=sim.exchange.order_payload(order) if order is not None else None)


async def query_orders(sim: GatewaySimulator, body: OrderQueryRequest, user: str) -> Envelope:
    """``Order/v2/query``: filter, sort, page; the one search that shows Suspended children."""
    where = body.filter
    book = sim.exchange.account_book(where.accountId, "Order/v2/query")
    orders = [
        o
        for o in book.orders.values()
        if (where.statuses is None or int(o.status) in where.statuses)
        and (where.contractId is None or o.contract_id == where.contractId)
        and (where.createdAfter is None or o.created_at >= where.createdAfter)
        and (where.createdBefore is None or o.created_at <= where.createdBefore)
    ]
    descending = body.sortDirection == _DESCENDING
    if body.sortBy == _SORT_BY_ID:
        orders.sort(key=lambda o: o.id, reverse=descending)
    else:
        orders.sort(key=lambda o: (o.created_at, o.id), reverse=descending)
    total = len(orders)
    offset = max(body.pageOffset or 0, 0)
    page = orders[offset : offset + body.pageSize] if body.pageSize else orders[offset:]
    payload = [sim.exchange.order_payload(o) for o in page]
    if body.includeTotalCount:
        return ok(OrderSearchResponse, orders=payload, totalCount=total)
    return ok(OrderSearchResponse, orders=payload)


async def search_open_positions(
    sim: GatewaySimulator, body: PositionSearchOpenRequest, user: str
) -> Envelope:
    book = sim.exchange.account_book(body.accountId, "Position/searchOpen")
    return ok(PositionSearchResponse, positions=sim.exchange.position_payloads(book))


async def close_position(sim: GatewaySimulator, body: PositionCloseContractRequest, user: str) -> Envelope:
    sim.exchange.close(body.accountId, body.contractId, None)
    return ok(Envelope)


async def partial_close(
    sim: GatewaySimulator, body: PositionPartialCloseContractRequest, user: str
) -> Envelope:
    sim.exchange.close(body.accountId, body.contractId, body.size)
    return ok(Envelope)


async def search_trades(sim: GatewaySimulator, body: TradeSearchRequest, user: str) -> Envelope:
    book = sim.exchange.account_book(body.accountId, "Trade/search")
    fills = sim.exchange.trades_between(book, body.startTimestamp, body.endTimestamp)
    return ok(TradeSearchResponse, trades=[fill_to_wire(f) for f in fills])


async def ping(sim: GatewaySimulator, body: None, user: str) -> Envelope:  # answered as text, see _dispatch
    return ok(Envelope)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("Auth/loginKey", LoginKeyRequest, login_key, auth=False),
    Endpoint("Auth/validate", None, validate),
    Endpoint("Status/ping", None, ping, auth=False, method="GET"),
    Endpoint("Account/search", AccountSearchRequest, search_accounts),
    Endpoint("Contract/search", ContractSearchRequest, search_contracts),
    Endpoint("Contract/searchById", ContractSearchByIdRequest, search_contract_by_id),
    Endpoint("Contract/available", ContractAvailableRequest, available_contracts),
    Endpoint("Order/place", OrderPlaceRequest, place_order),
    Endpoint("Order/modify", OrderModifyRequest, modify_order),
    Endpoint("Order/cancel", OrderCancelRequest, cancel_order),
    Endpoint("Order/search", OrderSearchRequest, search_orders),
    Endpoint("Order/searchOpen", OrderSearchOpenRequest, search_open_orders),
    Endpoint("Order/searchById", OrderSearchByIdRequest, search_order_by_id),
    Endpoint("Order/v2/query", OrderQueryRequest, query_orders),
    Endpoint("Position/searchOpen", PositionSearchOpenRequest, search_open_positions),
    Endpoint("Position/closeContract", PositionCloseContractRequest, close_position),
    Endpoint("Position/partialCloseContract", PositionPartialCloseContractRequest, partial_close),
    Endpoint("Trade/search", TradeSearchRequest, search_trades),
)
_BY_KEY = {endpoint_key(e.name): e for e in ENDPOINTS}
#: Endpoint names, for the fault script.
REST_ENDPOINTS = tuple(e.name for e in ENDPOINTS)

# -- plumbing ----------------------------------------------------------------------------------


def _problem(errors: dict[str, list[str]]) -> Response:
    """ASP.NET's ValidationProblemDetails, the 400 answer to a body it cannot bind."""
    body = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": errors,
        "traceId": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00",
    }
    return JSONResponse(body, status_code=400, media_type="application/problem+json")


def _validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_context=False):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        errors.setdefault(path, []).append(str(error["msg"]))
    return errors


def _unauthorised(state: TokenState | None) -> Response:
    challenge = "Bearer"
    if state is TokenState.EXPIRED:
        challenge = 'Bearer error="invalid_token", error_description="The token expired"'
    elif state is TokenState.INVALID:
        challenge = 'Bearer error="invalid_token"'
    return Response(status_code=401, headers={"WWW-Authenticate": challenge})


def _failed(failure: Failure) -> Response:
    if failure.status == 200:
        envelope = refused(Envelope, failure.error_code or 0, failure.error_message)
        return JSONResponse(envelope.payload())
    return Response(status_code=failure.status)


async def _parse(request: Request, model: type[WireRequest]) -> WireModel | Response:
    """The validated body, or the 4xx response that refuses it."""
    if "json" not in request.headers.get("content-type", "").lower():
        return Response(status_code=415)
    raw = await request.body()
    if not raw.strip():
        return _problem({"": ["A non-empty request body is required."]})
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return _problem({"$": [f"The JSON value could not be converted: {exc}"]})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return _problem(_validation_errors(exc))


class Api:
    """The ``/api/{path}`` route of one simulator."""

    def __init__(self, sim: GatewaySimulator) -> None:
        self._sim = sim

    def routes(self) -> list[Route]:
        return [Route("/api/{path:path}", self.dispatch, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])]

    async def dispatch(self, request: Request) -> Response:
        arrived_ns = time.perf_counter_ns()  # for /sim/timings
        sim = self._sim
        endpoint = _BY_KEY.get(endpoint_key(str(request.path_params["path"])))
        if endpoint is None:
            return Response(status_code=404)
        if request.method != endpoint.method:
            return Response(status_code=405, headers={"Allow": endpoint.method})
        if not sim.limiter.admit():
            return Response(status_code=429)
        delay = sim.faults.take_delay(endpoint.name)
        if delay:
            # read first: a slow gateway still carries out a call whose client gave up waiting
            # (the client's "outcome unknown"); the body cannot be read once it has disconnected
            await request.body()
            await asyncio.sleep(delay)
        failure = sim.faults.take_failure(endpoint.name)
        if failure is not None and not failure.apply:
            return _failed(failure)
        user = ""
        if endpoint.auth:
            token = _bearer(request)
            state = sim.tokens.check(token) if token is not None else None
            if state is not TokenState.VALID or token is None:
                return _unauthorised(state)
            user = str(token_claims(token).get("sub", ""))
        body: WireModel | None = None
        if endpoint.request is not None:
            parsed = await _parse(request, endpoint.request)
            if isinstance(parsed, Response):
                return parsed
            body = parsed
        sim.timings.request(arrived_ns, endpoint.name, getattr(body, "accountId", None))
        response = await self._call(endpoint, body, user)
        if failure is not None:
            return _failed(failure)  # it took effect; the answer is lost
        return response

    async def _call(self, endpoint: Endpoint, body: WireModel | None, user: str) -> Response:
        if endpoint.name == "Status/ping":
            return PlainTextResponse("pong")
        try:
            envelope = await endpoint.handler(self._sim, body, user)
        except BrokerRejected as exc:
            silent = (
                endpoint.name == "Position/partialCloseContract" and exc.code == PARTIAL_CLOSE_SILENT_CODE
            )
            envelope = refused(Envelope, exc.code, None if silent else reason(exc))
        return JSONResponse(envelope.payload())


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


__all__ = ["ENDPOINTS", "REST_ENDPOINTS", "Api", "Endpoint", "reason"]
