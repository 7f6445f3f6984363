"""The ProjectX Gateway wire format: the only module that knows the gateway's field names.

Three parts, all driven by the same pydantic models so the live client, the gateway
simulator and the in-process sim cannot drift apart (PROJECTX.md §2, §4.3, §4.4):

* **models**: REST envelope, request bodies, response payloads and hub payloads, with
  camelCase field names exactly as the gateway spells them. Unknown fields are ignored,
  prices and money become ``Decimal`` (a JSON float goes through its shortest repr, so
  ``0.1`` is ``Decimal("0.1")``), timestamps accept ``Z``/``+00:00`` and any number of
  fractional digits and come out as UTC. Enum fields stay ``int``: the gateway adds
  values (status 7, 8 arrived after the docs) and a decoder must not choke on the next one.
* **inbound**: :func:`parse_event` (the hub hot path) and ``parse_*`` (REST payloads) turn
  wire payloads into domain objects; bad input raises :class:`WireError`, one line naming
  the event type or endpoint and the field.
* **outbound**: ``*_to_wire`` and :func:`wrap` produce exactly the JSON the gateway sends,
  for the simulators.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, ValidationError

from risk_manager.domain import (
    ZERO,
    AccountInfo,
    AccountUpdated,
    Contract,
    ContractCatalog,
    Event,
    Fill,
    FillReceived,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdated,
    Position,
    PositionUpdated,
    Quote,
    QuoteReceived,
    TickSpec,
)

# ---------------------------------------------------------------------------------------
# Field types
# ---------------------------------------------------------------------------------------


class WireError(ValueError):
    """A gateway payload that cannot be understood; the message is one line naming the field."""


def _as_utc(value: datetime) -> datetime:
    """Make every timestamp aware UTC; a naive one is taken as UTC (the gateway speaks UTC).

    Raises ValueError (a validation error, hence WireError) for an instant UTC cannot hold,
    such as ``0001-01-01T00:00:00+14:00``: an OverflowError would escape the parser.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is out of range in UTC") from None


def _iso_z(value: datetime) -> str:
    """ISO-8601 with a ``Z``, the form the gateway's newer samples use."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _number(value: Decimal) -> float:
    """A Decimal as a JSON number; the gateway sends numbers, never strings."""
    return float(value)


#: Bounds that keep hostile numbers out of the ledger and the store (no price, balance or P&L
#: comes near them): money stays well inside Decimal's 28 digits once multiplied out, sizes
#: too, and every integer fits SQLite's 64 bits. Beyond them a payload is malformed.
MAX_MONEY = Decimal(10) ** 12
MAX_SIZE = 1_000_000
#: An event's own time must lie here: the trading calendar works a few days either side of it.
EVENT_TIME_SPAN = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC))


def _plausible(value: datetime) -> datetime:
    earliest, latest = EVENT_TIME_SPAN
    if not earliest <= value < latest:
        raise ValueError(f"{_iso_z(value)} is outside the years {earliest.year}..{latest.year - 1}")
    return value


#: A price or money amount: Decimal inside, JSON number on the wire.
Price = Annotated[Decimal, Field(ge=-MAX_MONEY, le=MAX_MONEY), PlainSerializer(_number, when_used="json")]
#: A UTC timestamp: parsed from ``...Z``/``...+00:00``, written with ``Z``.
Timestamp = Annotated[datetime, AfterValidator(_as_utc), PlainSerializer(_iso_z, when_used="json")]
#: When an order, position or fill happened: a Timestamp the trading calendar can place.
EventTime = Annotated[
    datetime, AfterValidator(_as_utc), AfterValidator(_plausible), PlainSerializer(_iso_z, when_used="json")
]
#: An id or enum value as the store keeps it (SQLite INTEGER is 64-bit).
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
#: A number of contracts.
Size = Annotated[int, Field(ge=0, le=MAX_SIZE)]


class WireModel(BaseModel):
    """Base of every gateway model: fields the gateway adds later are ignored, NaN/inf refused."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    def payload(self) -> dict[str, Any]:
        """The gateway JSON of this object: fields given at construction, nulls included."""
        return self.model_dump(mode="json", exclude_unset=True)


class Request(WireModel):
    """A request body: optional fields left out rather than sent as null."""

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------------------------------
# REST envelope and auth (PROJECTX.md §1)
# ---------------------------------------------------------------------------------------


class Envelope(WireModel):
    """Every REST response: business failures are HTTP 200 with ``success`` false."""

    success: bool
    errorCode: int = 0
    errorMessage: str | None = None


class LoginKeyRequest(Request):
    userName: str
    apiKey: str


class LoginResponse(Envelope):
    token: str | None = None


class ValidateResponse(Envelope):
    newToken: str | None = None


# ---------------------------------------------------------------------------------------
# Objects (PROJECTX.md §2, §4.3, §4.4)
# ---------------------------------------------------------------------------------------


class WireAccount(WireModel):
    """``Account/search`` row and ``GatewayUserAccount`` payload."""

    id: Int64
    name: str
    balance: Price
    canTrade: bool
    isVisible: bool | None = None
    simulated: bool | None = None  # absent in older samples


class WireContract(WireModel):
    id: str
    name: str
    description: str | None = None
    tickSize: Price = Field(gt=0)
    tickValue: Price = Field(gt=0)
    activeContract: bool = True
    symbolId: str | None = None  # newer docs only


class WireOrder(WireModel):
    """Order search row and ``GatewayUserOrder`` payload; the last four fields are Swagger/hub extras."""

    id: Int64
    accountId: Int64
    contractId: str
    symbolId: str | None = None
    creationTimestamp: EventTime
    updateTimestamp: Timestamp | None = None
    status: int
    type: int
    side: int
    size: Size
    limitPrice: Price | None = None
    stopPrice: Price | None = None
    fillVolume: Size = 0
    filledPrice: Price | None = None
    customTag: str | None = None
    trailPrice: Price | None = None
    trailDistance: Price | None = None  # ticks
    parentOrderId: Int64 | None = None
    linkedOrderId: Int64 | None = None


class WirePosition(WireModel):
    """``Position/searchOpen`` row and ``GatewayUserPosition``; a closed one is size 0, type 0."""

    id: Int64
    accountId: Int64
    contractId: str
    creationTimestamp: EventTime
    type: int
    size: Size
    averagePrice: Price | None = None
    contractDisplayName: str | None = None


class WireTrade(WireModel):
    """``Trade/search`` row and ``GatewayUserTrade``: one fill. profitAndLoss is null when opening."""

    id: Int64
    accountId: Int64
    contractId: str
    creationTimestamp: EventTime
    price: Price
    profitAndLoss: Price | None = None
    fees: Price | None = None
    commissions: Price | None = None
    side: int
    size: Size = Field(gt=0)
    voided: bool = False
    orderId: Int64


class WireQuotePrices(WireModel):
    """The part of a ``GatewayQuote`` the risk manager reads.

    Quotes are the busiest stream; validating only these fields halves their parse
    time. :class:`WireQuote` extends it, so the two cannot disagree on a name.
    """

    symbol: str | None = None  # the symbolId, e.g. F.US.MNQ
    lastPrice: Price | None = None
    bestBid: Price | None = None
    bestAsk: Price | None = None
    lastUpdated: Timestamp | None = None
    timestamp: Timestamp | None = None


class WireQuote(WireQuotePrices):
    """``GatewayQuote``: every field optional, updates may be partial (merge downstream)."""

    symbolName: str | None = None
    change: Price | None = None
    changePercent: Price | None = None
    open: Price | None = None
    high: Price | None = None
    low: Price | None = None
    volume: int | None = None


class WireMarketTrade(WireModel):
    """``GatewayTrade`` (a trade on the exchange, not ours); type is TradeLogType 0 buy / 1 sell."""

    symbolId: str | None = None
    price: Price
    timestamp: Timestamp
    type: int
    volume: int


class WireDepth(WireModel):
    """``GatewayDepth`` level; type is the DomType enum."""

    timestamp: Timestamp
    type: int
    price: Price
    volume: int
    currentVolume: int | None = None


class WireBar(WireModel):
    t: Timestamp
    o: Price
    h: Price
    l: Price  # noqa: E741 - the gateway's name
    c: Price
    v: int


# ---------------------------------------------------------------------------------------
# Request bodies (PROJECTX.md §2, §2.1)
# ---------------------------------------------------------------------------------------


class AccountSearchRequest(Request):
    onlyActiveAccounts: bool


class ContractSearchRequest(Request):
    searchText: str
    live: bool


class ContractSearchByIdRequest(Request):
    contractId: str


class ContractAvailableRequest(Request):
    live: bool


class RetrieveBarsRequest(Request):
    contractId: str
    live: bool
    startTime: Timestamp
    endTime: Timestamp
    unit: int
    unitNumber: int
    limit: int
    includePartialBar: bool


class Bracket(Request):
    """Bracket leg of Order/place: signed ``ticks`` from the fill, ``type`` an OrderType."""

    ticks: int
    type: int


class OrderPlaceRequest(Request):
    accountId: int
    contractId: str
    type: int
    side: int
    size: int
    limitPrice: Price | None = None
    stopPrice: Price | None = None
    trailPrice: Price | None = None
    customTag: str | None = None
    stopLossBracket: Bracket | None = None
    takeProfitBracket: Bracket | None = None


class OrderModifyRequest(Request):
    accountId: int
    orderId: int
    size: int | None = None
    limitPrice: Price | None = None
    stopPrice: Price | None = None
    trailPrice: Price | None = None


class OrderCancelRequest(Request):
    accountId: int
    orderId: int


class OrderSearchRequest(Request):
    accountId: int
    startTimestamp: Timestamp
    endTimestamp: Timestamp | None = None


class OrderSearchOpenRequest(Request):
    accountId: int


class OrderSearchByIdRequest(Request):
    accountId: int
    orderId: int


class OrderQueryFilter(Request):
    accountId: int
    statuses: list[int] | None = None
    contractId: str | None = None
    createdAfter: Timestamp | None = None
    createdBefore: Timestamp | None = None


class OrderQueryRequest(Request):
    """``Order/v2/query``: the only search that returns Suspended bracket children."""

    filter: OrderQueryFilter
    pageSize: int | None = None
    pageOffset: int | None = None
    sortBy: int | None = None  # 0 CreatedAt, 1 Id
    sortDirection: int | None = None  # 0 Asc, 1 Desc
    includeTotalCount: bool | None = None


class PositionSearchOpenRequest(Request):
    accountId: int


class PositionCloseContractRequest(Request):
    accountId: int
    contractId: str


class PositionPartialCloseContractRequest(Request):
    accountId: int
    contractId: str
    size: int


class TradeSearchRequest(Request):
    accountId: int
    startTimestamp: Timestamp
    endTimestamp: Timestamp | None = None


# ---------------------------------------------------------------------------------------
# Response payloads
# ---------------------------------------------------------------------------------------


class AccountSearchResponse(Envelope):
    accounts: list[WireAccount] = []


class ContractSearchResponse(Envelope):
    """``Contract/search``, ``Contract/available`` and ``Contract/searchById`` (old or new shape)."""

    contracts: list[WireContract] | None = None
    contract: WireContract | None = None


class OrderPlaceResponse(Envelope):
    orderId: int | None = None  # may be set even when success is false


class OrderSearchResponse(Envelope):
    """``Order/search``, ``Order/searchOpen``, ``Order/v2/query`` and ``Order/searchById``."""

    orders: list[WireOrder] | None = None
    order: WireOrder | None = None
    totalCount: int | None = None


class PositionSearchResponse(Envelope):
    positions: list[WirePosition] = []


class TradeSearchResponse(Envelope):
    trades: list[WireTrade] = []


class RetrieveBarsResponse(Envelope):
    bars: list[WireBar] = []


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


#: What came in, shown briefly: a hostile value may be nested or long past any use in a log line.
_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother = 3, 40, 40


def _location(loc: tuple[int | str, ...]) -> str:
    """``("positions", 0, "averagePrice")`` -> ``positions[0].averagePrice``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(payload)"


def _describe(label: str, exc: ValidationError) -> str:
    """One line from a pydantic error: the first problem, its field, what came in."""
    errors = exc.errors(include_url=False, include_context=False)
    first = errors[0]
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    field = _location(first["loc"])
    if first["type"] == "missing":
        return f"{label}: field '{field}' is missing{more}"
    got = _BRIEF.repr(first.get("input"))  # bounded depth and length, whatever came in
    got = got if len(got) <= 40 else got[:37] + "..."
    return f"{label}: field '{field}': {first['msg']} (got {got}){more}"


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: Mapping[str, Any], label: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise WireError(_describe(label, exc)) from None


# ---------------------------------------------------------------------------------------
# Wire -> domain
# ---------------------------------------------------------------------------------------

E = TypeVar("E", bound=IntEnum)


def _members(enum: type[E]) -> dict[int, E]:
    return {int(member): member for member in enum}


_TYPES = _members(OrderType)
_STATUSES = _members(OrderStatus)
_SIDES = _members(OrderSide)
_LONG, _SHORT = 1, 2


def _side(value: int, label: str) -> OrderSide:
    """The one enum with no safe fallback: a fill of unknown direction cannot be booked."""
    side = _SIDES.get(value)
    if side is None:
        raise WireError(f"{label}: field 'side': unknown side {value} (0 buy, 1 sell)")
    return side


def _order(m: WireOrder, label: str) -> Order:
    # Unknown type/status ints degrade to UNKNOWN/NONE rather than dropping the event.
    return Order(
        id=m.id,
        account_id=m.accountId,
        contract_id=m.contractId,
        type=_TYPES.get(m.type, OrderType.UNKNOWN),
        side=_side(m.side, label),
        size=m.size,
        status=_STATUSES.get(m.status, OrderStatus.NONE),
        created_at=m.creationTimestamp,
        limit_price=m.limitPrice,
        stop_price=m.stopPrice,
        trail_price=m.trailPrice,
        fill_volume=m.fillVolume,
        filled_price=m.filledPrice,
        custom_tag=m.customTag,
        parent_order_id=m.parentOrderId,
    )


def _signed_size(m: WirePosition, label: str) -> int:
    """type 1 long -> +size, type 2 short -> -size, size 0 (any type) -> flat."""
    if m.size == 0:
        return 0
    if m.type == _LONG:
        return m.size
    if m.type == _SHORT:
        return -m.size
    raise WireError(f"{label}: field 'type': position type {m.type} with size {m.size} (1 long, 2 short)")


def _position(m: WirePosition, label: str) -> Position:
    size = _signed_size(m, label)
    if m.averagePrice is None and size != 0:
        raise WireError(f"{label}: field 'averagePrice' is missing on an open position")
    return Position(
        account_id=m.accountId,
        contract_id=m.contractId,
        size=size,
        avg_price=m.averagePrice if m.averagePrice is not None else ZERO,
        opened_at=m.creationTimestamp,
    )


def _fill(m: WireTrade, label: str) -> Fill:
    # commissions are kept on the wire model only: how the gateway nets them against
    # fees is unknown (PROJECTX.md §10), and SPEC §1 defines realized P&L with fees alone.
    return Fill(
        id=m.id,
        account_id=m.accountId,
        order_id=m.orderId,
        contract_id=m.contractId,
        side=_side(m.side, label),
        size=m.size,
        price=m.price,
        pnl=m.profitAndLoss,
        fees=m.fees if m.fees is not None else ZERO,
        voided=m.voided,
        at=m.creationTimestamp,
    )


def _account(m: WireAccount) -> AccountInfo:
    simulated = True if m.simulated is None else m.simulated
    return AccountInfo(id=m.id, name=m.name, balance=m.balance, can_trade=m.canTrade, simulated=simulated)


def _quote(m: WireQuotePrices, contract_id: str, at: datetime) -> Quote:
    stamp = m.timestamp or m.lastUpdated or at
    return Quote(contract_id=contract_id, last=m.lastPrice, bid=m.bestBid, ask=m.bestAsk, at=stamp)


def _contract(m: WireContract, catalog: ContractCatalog) -> Contract:
    return Contract(
        id=m.id,
        symbol=catalog.symbol(m.id),
        name=m.name,
        tick=TickSpec(tick_size=m.tickSize, tick_value=m.tickValue),
        active=m.activeContract,
    )


# ---------------------------------------------------------------------------------------
# Hub events (hot path)
# ---------------------------------------------------------------------------------------


def _kind(value: object) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "null" if value is None else f"a {type(value).__name__}"


#: Lists and ``{action, data}`` wrappers one hub argument may nest (the live hub uses two).
MAX_NESTING = 8


def unwrap_all(payload: object, label: str = "event", _depth: int = 0) -> list[dict[str, Any]]:
    """Every object in a hub argument: wrapped ``{action, data}``, bare, or a list of either."""
    if _depth > MAX_NESTING:
        raise WireError(f"{label}: nested more than {MAX_NESTING} lists or wrappers deep")
    items = payload if isinstance(payload, list) else [payload]
    out: list[dict[str, Any]] = []
    for item in items:
        # The meaning of ``action`` is undocumented (PROJECTX.md §4.3): keep the data only.
        inner = item["data"] if isinstance(item, dict) and "action" in item and "data" in item else item
        if isinstance(inner, list):
            out.extend(unwrap_all(inner, label, _depth + 1))
        elif isinstance(inner, dict):
            out.append(inner)
        else:
            raise WireError(f"{label}: expected an object, got {_kind(inner)}")
    return out


def unwrap(payload: object, label: str = "event") -> dict[str, Any]:
    """The one object in a hub argument; raises :class:`WireError` unless there is exactly one."""
    if isinstance(payload, dict) and "data" not in payload:
        return payload  # the common bare case, kept cheap
    objects = unwrap_all(payload, label)
    if len(objects) != 1:
        raise WireError(f"{label}: expected one object, got {len(objects)}")
    return objects[0]


def wrap(data: Mapping[str, Any], action: int) -> dict[str, Any]:
    """The envelope the live user hub puts around each payload (PROJECTX.md §4.3)."""
    return {"action": action, "data": dict(data)}


def _account_event(data: dict[str, Any], at: datetime, contract_id: str | None) -> Event:
    return AccountUpdated(at, _account(_validate(WireAccount, data, "GatewayUserAccount")))


def _order_event(data: dict[str, Any], at: datetime, contract_id: str | None) -> Event:
    label = "GatewayUserOrder"
    return OrderUpdated(at, _order(_validate(WireOrder, data, label), label))


def _position_event(data: dict[str, Any], at: datetime, contract_id: str | None) -> Event:
    label = "GatewayUserPosition"
    return PositionUpdated(at, _position(_validate(WirePosition, data, label), label))


def _trade_event(data: dict[str, Any], at: datetime, contract_id: str | None) -> Event:
    label = "GatewayUserTrade"
    return FillReceived(at, _fill(_validate(WireTrade, data, label), label))


def _quote_event(data: dict[str, Any], at: datetime, contract_id: str | None) -> Event:
    if not contract_id:
        raise WireError(
            "GatewayQuote: contractId is missing (market events carry it as their first argument)"
        )
    return QuoteReceived(at, _quote(_validate(WireQuotePrices, data, "GatewayQuote"), contract_id, at))


_PARSERS: dict[str, Callable[[dict[str, Any], datetime, str | None], Event]] = {
    "GatewayUserAccount": _account_event,
    "GatewayUserOrder": _order_event,
    "GatewayUserPosition": _position_event,
    "GatewayUserTrade": _trade_event,
    "GatewayQuote": _quote_event,
}

#: The hub event types :func:`parse_event` understands.
EVENT_TYPES = frozenset(_PARSERS)


def _parser(type: str) -> Callable[[dict[str, Any], datetime, str | None], Event]:
    parser = _PARSERS.get(type)
    if parser is None:
        raise WireError(f"unknown event type {type!r} (expected one of {', '.join(sorted(_PARSERS))})")
    return parser


def parse_event(type: str, data: object, at: datetime, contract_id: str | None = None) -> Event:
    """Turn one hub event into a domain event received at ``at`` (UTC).

    ``data`` may be wrapped, bare or a one-element list. ``contract_id`` is the first
    argument of market-hub events (required for ``GatewayQuote``). A quote's own
    ``timestamp`` becomes ``Quote.at``, ``at`` when it has none.
    Raises :class:`WireError` for an unknown type or a malformed payload.
    """
    return _parser(type)(unwrap(data, type), at, contract_id)


def parse_events(type: str, data: object, at: datetime, contract_id: str | None = None) -> list[Event]:
    """Like :func:`parse_event`, for a hub argument that may hold several objects."""
    parser = _parser(type)
    return [parser(item, at, contract_id) for item in unwrap_all(data, type)]


def position_id(data: object) -> int:
    """The gateway's id of a ``GatewayUserPosition`` payload (domain positions carry none)."""
    return _validate(WirePosition, unwrap(data, "GatewayUserPosition"), "GatewayUserPosition").id


# ---------------------------------------------------------------------------------------
# REST payloads
# ---------------------------------------------------------------------------------------


def parse_envelope(payload: Mapping[str, Any], endpoint: str) -> Envelope:
    """The success flag and error code of any REST response."""
    return _validate(Envelope, payload, endpoint)


def parse_accounts(payload: Mapping[str, Any], endpoint: str = "Account/search") -> list[AccountInfo]:
    return [_account(a) for a in _validate(AccountSearchResponse, payload, endpoint).accounts]


def parse_positions(payload: Mapping[str, Any], endpoint: str = "Position/searchOpen") -> list[Position]:
    rows = _validate(PositionSearchResponse, payload, endpoint).positions
    return [_position(p, f"{endpoint}: positions[{i}]") for i, p in enumerate(rows)]


def parse_orders(payload: Mapping[str, Any], endpoint: str = "Order/searchOpen") -> list[Order]:
    """Orders of any order search; ``Order/searchById``'s single ``order`` too."""
    response = _validate(OrderSearchResponse, payload, endpoint)
    rows = response.orders if response.orders is not None else []
    if response.order is not None:
        rows = [*rows, response.order]
    return [_order(o, f"{endpoint}: orders[{i}]") for i, o in enumerate(rows)]


def parse_trades(payload: Mapping[str, Any], endpoint: str = "Trade/search") -> list[Fill]:
    rows = _validate(TradeSearchResponse, payload, endpoint).trades
    return [_fill(t, f"{endpoint}: trades[{i}]") for i, t in enumerate(rows)]


def parse_contracts(
    payload: Mapping[str, Any], catalog: ContractCatalog, endpoint: str = "Contract/search"
) -> list[Contract]:
    """Contracts of a search, ``contracts[]`` or a single ``contract`` (both shapes exist)."""
    response = _validate(ContractSearchResponse, payload, endpoint)
    rows = response.contracts if response.contracts is not None else []
    if response.contract is not None:
        rows = [*rows, response.contract]
    return [_contract(c, catalog) for c in rows]


# ---------------------------------------------------------------------------------------
# Domain -> wire (simulators)
# ---------------------------------------------------------------------------------------


def symbol_id(contract_id: str) -> str:
    """The quote symbol of a contract: ``CON.F.US.MNQ.Z25`` -> ``F.US.MNQ`` (PROJECTX.md §5)."""
    parts = contract_id.split(".")
    return ".".join(parts[1:-1]) if len(parts) >= 5 and parts[0] == "CON" else contract_id


def _present(**fields: Any) -> dict[str, Any]:
    """Swagger-only extras: sent when they have a value, left out otherwise."""
    return {name: value for name, value in fields.items() if value is not None}


def order_to_wire(order: Order, *, updated_at: datetime | None = None) -> dict[str, Any]:
    """A ``GatewayUserOrder`` payload; ``updated_at`` defaults to the creation time."""
    return WireOrder(
        id=order.id,
        accountId=order.account_id,
        contractId=order.contract_id,
        symbolId=symbol_id(order.contract_id),
        creationTimestamp=order.created_at,
        updateTimestamp=updated_at or order.created_at,
        status=int(order.status),
        type=int(order.type),
        side=int(order.side),
        size=order.size,
        limitPrice=order.limit_price,
        stopPrice=order.stop_price,
        fillVolume=order.fill_volume,
        filledPrice=order.filled_price,
        customTag=order.custom_tag,
        **_present(trailPrice=order.trail_price, parentOrderId=order.parent_order_id),
    ).payload()


def position_to_wire(position: Position, position_id: int) -> dict[str, Any]:
    """A ``GatewayUserPosition`` payload; flat is size 0, type 0 as the live hub sends it."""
    kind = _LONG if position.size > 0 else _SHORT if position.size < 0 else 0
    return WirePosition(
        id=position_id,
        accountId=position.account_id,
        contractId=position.contract_id,
        creationTimestamp=position.opened_at,
        type=kind,
        size=abs(position.size),
        averagePrice=position.avg_price,
    ).payload()


def fill_to_wire(fill: Fill) -> dict[str, Any]:
    """A ``GatewayUserTrade`` payload."""
    return WireTrade(
        id=fill.id,
        accountId=fill.account_id,
        contractId=fill.contract_id,
        creationTimestamp=fill.at,
        price=fill.price,
        profitAndLoss=fill.pnl,
        fees=fill.fees,
        side=int(fill.side),
        size=fill.size,
        voided=fill.voided,
        orderId=fill.order_id,
    ).payload()


def account_to_wire(account: AccountInfo) -> dict[str, Any]:
    """A ``GatewayUserAccount`` payload (and an ``Account/search`` row)."""
    return WireAccount(
        id=account.id,
        name=account.name,
        balance=account.balance,
        canTrade=account.can_trade,
        isVisible=True,
        simulated=account.simulated,
    ).payload()


def quote_to_wire(quote: Quote, symbol_id: str) -> dict[str, Any]:
    """A ``GatewayQuote`` payload; prices the quote lacks are left out, as in a partial update."""
    return WireQuote(
        symbol=symbol_id,
        **_present(lastPrice=quote.last, bestBid=quote.bid, bestAsk=quote.ask),
        lastUpdated=quote.at,
        timestamp=quote.at,
    ).payload()


__all__ = [
    "EVENT_TYPES",
    "AccountSearchRequest",
    "AccountSearchResponse",
    "Bracket",
    "ContractAvailableRequest",
    "ContractSearchByIdRequest",
    "ContractSearchRequest",
    "ContractSearchResponse",
    "Envelope",
    "LoginKeyRequest",
    "LoginResponse",
    "OrderCancelRequest",
    "OrderModifyRequest",
    "OrderPlaceRequest",
    "OrderPlaceResponse",
    "OrderQueryFilter",
    "OrderQueryRequest",
    "OrderSearchByIdRequest",
    "OrderSearchOpenRequest",
    "OrderSearchRequest",
    "OrderSearchResponse",
    "PositionCloseContractRequest",
    "PositionPartialCloseContractRequest",
    "PositionSearchOpenRequest",
    "PositionSearchResponse",
    "Price",
    "Request",
    "RetrieveBarsRequest",
    "RetrieveBarsResponse",
    "Timestamp",
    "TradeSearchRequest",
    "TradeSearchResponse",
    "ValidateResponse",
    "WireAccount",
    "WireBar",
    "WireContract",
    "WireDepth",
    "WireError",
    "WireMarketTrade",
    "WireModel",
    "WireOrder",
    "WirePosition",
    "WireQuote",
    "WireQuotePrices",
    "WireTrade",
    "account_to_wire",
    "fill_to_wire",
    "order_to_wire",
    "parse_accounts",
    "parse_contracts",
    "parse_envelope",
    "parse_event",
    "parse_events",
    "parse_orders",
    "parse_positions",
    "parse_trades",
    "position_id",
    "position_to_wire",
    "quote_to_wire",
    "symbol_id",
    "unwrap",
    "unwrap_all",
    "wrap",
]
