"""ProjectXClient: the ProjectX Gateway over REST, as a :class:`~risk_manager.broker.base.Broker`.

Every call is ``POST /api/<Controller>/<action>`` with a JSON body and a bearer token
(PROJECTX.md §1-2). What a call can end in:

==============================  ==========================  ==========================
gateway answer                  read / poll                 mutation
==============================  ==========================  ==========================
200, ``success`` true           the parsed payload          done
200, ``success`` false          BrokerRejected(code)        BrokerRejected(code)
401                             log in again, retry once    log in again, retry once
429                             wait the back-off, retry    RateLimited
500, 502, 503                   back off, retry             BrokerUnavailable
504                             back off, retry             OutcomeUnknown
other 4xx                       HttpRejected(status)        HttpRejected(status)
connect error / timeout         back off, retry             BrokerUnavailable
read timeout, dropped answer    back off, retry             OutcomeUnknown
==============================  ==========================  ==========================

Reads are retried (``read_attempts`` in all, 0.5 s doubling to 8 s, with jitter; after a
429 the shared :class:`RequestBudget` holds every request for ``Retry-After``). Mutations
are sent once: the enforcement executor is the only layer that retries them (SPEC §4.1),
and an :class:`OutcomeUnknown` tells it to check before sending again.

The API key and tokens never reach a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random as _random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr, ValidationError

from risk_manager.broker.base import BrokerError, BrokerRejected, BrokerUnavailable, OutcomeUnknown
from risk_manager.broker.projectx.auth import TokenListener, TokenSession
from risk_manager.broker.projectx.budget import BudgetExhausted, Priority, RequestBudget, Sleep
from risk_manager.broker.projectx.errors import HttpRejected, RateLimited, redact, rejection_text
from risk_manager.broker.projectx.wire import (
    AccountSearchRequest,
    ContractSearchByIdRequest,
    ContractSearchRequest,
    OrderCancelRequest,
    OrderModifyRequest,
    OrderPlaceRequest,
    OrderPlaceResponse,
    OrderQueryFilter,
    OrderQueryRequest,
    OrderSearchOpenRequest,
    PositionCloseContractRequest,
    PositionPartialCloseContractRequest,
    PositionSearchOpenRequest,
    TradeSearchRequest,
    WireError,
    parse_accounts,
    parse_contracts,
    parse_envelope,
    parse_orders,
    parse_positions,
    parse_trades,
)
from risk_manager.config.accounts import GatewayConfig
from risk_manager.domain import (
    AccountInfo,
    Contract,
    ContractCatalog,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
)
from risk_manager.schedule.clock import Clock, SystemClock

log = logging.getLogger("risk_manager.broker.projectx")

ACCOUNT_SEARCH = "Account/search"
CONTRACT_SEARCH = "Contract/search"
CONTRACT_BY_ID = "Contract/searchById"
ORDER_SEARCH_OPEN = "Order/searchOpen"
ORDER_QUERY = "Order/v2/query"
POSITION_SEARCH_OPEN = "Position/searchOpen"
TRADE_SEARCH = "Trade/search"
ORDER_PLACE = "Order/place"
ORDER_MODIFY = "Order/modify"
ORDER_CANCEL = "Order/cancel"
POSITION_CLOSE = "Position/closeContract"
POSITION_PARTIAL_CLOSE = "Position/partialCloseContract"

#: ``Order/v2/query`` statuses: Open and Suspended (bracket children before the entry fills).
QUERY_STATUSES = (int(OrderStatus.OPEN), int(OrderStatus.SUSPENDED))
#: One page of ``Order/v2/query``; more working orders than this on one account is logged.
QUERY_PAGE_SIZE = 100
_CONTRACT_NOT_FOUND = 1  # Contract/searchById errorCode
#: Tries per Auth/* request; the read or poll that needed the token retries on top of these.
AUTH_ATTEMPTS = 2

# Failures that happen before the request left: nothing can have been done.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)

T = TypeVar("T")


@dataclass(slots=True)
class _Shared:
    """What every priority view of one client shares."""

    http: httpx.AsyncClient
    session: TokenSession
    budget: RequestBudget
    catalog: ContractCatalog
    v2_query: bool = True  # False once Order/v2/query answered 4xx: searchOpen alone from then on


class ProjectXClient:
    """The live gateway: REST calls, the session token, the request budget.

    Args:
        api_url: REST base, e.g. ``https://api.topstepx.com`` (``/api/...`` is appended).
        username: the platform login name (not the e-mail).
        api_key: the ProjectX API key.
        catalog: where ``Contract/search`` results go (the engine's catalog); a new one if None.
        clock: UTC now, for token expiry (leave as default unless testing).
        budget: the shared request budget; one per API key (default 200/60 s, reads 150).
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        timeout: seconds per request (connect: at most 5 s).
        read_attempts: tries per read, the first included.
        sleep, random: retry back-off timing and jitter (leave as default unless testing).
        only_active_accounts: the ``onlyActiveAccounts`` flag of ``Account/search``.

    The client itself sends its reads at enforcement priority: give it to the executor.
    :attr:`polling` is a view sharing everything but sending reads at poll priority, for
    resyncs and other background reads.
    """

    def __init__(
        self,
        api_url: str,
        username: str,
        api_key: SecretStr | str,
        *,
        catalog: ContractCatalog | None = None,
        clock: Clock | None = None,
        budget: RequestBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        read_attempts: int = 4,
        retry_base: float = 0.5,
        retry_cap: float = 8.0,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        only_active_accounts: bool = True,
    ) -> None:
        if read_attempts < 1:
            raise ValueError(f"read_attempts must be >= 1 (got {read_attempts})")
        key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._clock: Clock = clock or SystemClock()
        self._sleep = sleep
        self._random = random
        self._read_attempts = read_attempts
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._only_active = only_active_accounts
        self._priority = Priority.ENFORCEMENT
        http = httpx.AsyncClient(
            base_url=api_url.rstrip("/") + "/api/",
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"Accept": "application/json"},
        )
        session = TokenSession(username, key, self._auth_send, self._clock)
        self._shared = _Shared(http, session, budget or RequestBudget(), catalog or ContractCatalog())

    @classmethod
    def from_config(
        cls,
        gateway: GatewayConfig,
        *,
        username: str | None = None,
        api_key: SecretStr | str | None = None,
        **options: Any,
    ) -> ProjectXClient:
        """A client for ``gateway``'s firm; ``username``/``api_key`` override the file's
        (keyring, secrets.yaml). Raises ValueError when either is still empty."""
        user = username if username is not None else gateway.username
        key = api_key if api_key is not None else gateway.api_key
        secret = key.get_secret_value() if isinstance(key, SecretStr) else key
        missing = [name for name, value in (("username", user), ("api_key", secret)) if not value]
        if missing:
            raise ValueError(
                f"gateway.{' and gateway.'.join(missing)}: required to log in "
                "(set PROJECT_X_USERNAME / PROJECT_X_API_KEY, the keyring or secrets.yaml)"
            )
        return cls(gateway.endpoints().api_url, user, key, **options)

    # -- views, lifecycle, session -----------------------------------------------------------

    def with_priority(self, priority: Priority) -> ProjectXClient:
        """A view of this client whose reads go at ``priority`` (mutations stay enforcement)."""
        view = copy.copy(self)
        view._priority = priority
        return view

    @property
    def polling(self) -> ProjectXClient:
        """This client with poll-priority reads: resyncs, reconciliation of idle state."""
        return self.with_priority(Priority.POLL)

    @property
    def priority(self) -> Priority:
        return self._priority

    @property
    def catalog(self) -> ContractCatalog:
        return self._shared.catalog

    @property
    def budget(self) -> RequestBudget:
        return self._shared.budget

    @property
    def session(self) -> TokenSession:
        return self._shared.session

    async def aclose(self) -> None:
        """Close the HTTP connection pool (all views share it)."""
        await self._shared.http.aclose()

    async def __aenter__(self) -> ProjectXClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def token(self) -> str:
        """A valid session token (logs in or refreshes as needed): what the hubs connect with."""
        return await self._shared.session.token()

    async def relogin(self, rejected: str | None = None) -> str:
        """Log in again (a hub received ``GatewayLogout`` or a 401); returns the new token.

        With ``rejected`` (the token the hub used), nothing is done if another caller has
        already replaced it, so two hubs told of one logout log in once.
        """
        session = self._shared.session
        return await (session.reauthenticate(rejected) if rejected else session.relogin())

    def add_token_listener(self, listener: TokenListener) -> None:
        """``listener(token)`` runs whenever the token changes; pass each hub's ``token_changed``."""
        self._shared.session.add_listener(listener)

    async def keep_token_fresh(self) -> None:
        """Refresh the token when due, even while no request needs one. Run it as a task.

        Without it an idle daemon would hold an expired token; hubs reconnect with each
        new one (through the token listeners).
        """
        session = self._shared.session
        while True:
            due = session.refresh_at
            now = self._clock.now()
            if due is not None and now < due:
                await self._sleep(min((due - now).total_seconds(), 300.0))
                continue
            try:
                await session.token()
            except BrokerError as exc:
                log.error("session token could not be renewed: %s; retrying in 30 s", self._clean(str(exc)))
                await self._sleep(30.0)
                continue
            after = session.refresh_at
            if after is None or after <= self._clock.now():
                await self._sleep(30.0)

    # -- Broker protocol: searches -----------------------------------------------------------

    async def search_accounts(self) -> list[AccountInfo]:
        body = AccountSearchRequest(onlyActiveAccounts=self._only_active).body()
        payload = await self._call(ACCOUNT_SEARCH, body)
        return self._parsed(parse_accounts, payload, ACCOUNT_SEARCH, None)

    async def search_open_positions(self, account_id: int) -> list[Position]:
        body = PositionSearchOpenRequest(accountId=account_id).body()
        payload = await self._call(POSITION_SEARCH_OPEN, body, account_id=account_id)
        return self._parsed(parse_positions, payload, POSITION_SEARCH_OPEN, account_id)

    async def search_open_orders(self, account_id: int) -> list[Order]:
        """Working orders: ``Order/searchOpen`` plus ``Order/v2/query`` for Suspended bracket
        children, which searchOpen leaves out (PROJECTX.md §2, §6). Sorted by id."""
        if not self._shared.v2_query:
            return await self._open_orders(account_id)
        listed, queried = await asyncio.gather(
            self._open_orders(account_id), self._queried_orders(account_id), return_exceptions=True
        )
        if isinstance(listed, BaseException):
            raise listed
        if isinstance(queried, BaseException):
            raise queried
        merged = {order.id: order for order in queried}
        merged.update((order.id, order) for order in listed)  # searchOpen's row wins a tie
        return [merged[order_id] for order_id in sorted(merged)]

    async def search_trades(
        self, account_id: int, start: datetime, end: datetime | None = None
    ) -> list[Fill]:
        body = TradeSearchRequest(accountId=account_id, startTimestamp=start, endTimestamp=end).body()
        payload = await self._call(TRADE_SEARCH, body, account_id=account_id)
        return self._parsed(parse_trades, payload, TRADE_SEARCH, account_id)

    async def _open_orders(self, account_id: int) -> list[Order]:
        body = OrderSearchOpenRequest(accountId=account_id).body()
        payload = await self._call(ORDER_SEARCH_OPEN, body, account_id=account_id)
        return self._parsed(parse_orders, payload, ORDER_SEARCH_OPEN, account_id)

    async def _queried_orders(self, account_id: int) -> list[Order]:
        query = OrderQueryRequest(
            filter=OrderQueryFilter(accountId=account_id, statuses=list(QUERY_STATUSES)),
            pageSize=QUERY_PAGE_SIZE,
            includeTotalCount=True,
        )
        try:
            payload = await self._call(ORDER_QUERY, query.body(), account_id=account_id)
        except HttpRejected as exc:
            # Swagger-only endpoint (PROJECTX.md §2): a firm's gateway may lack it or refuse
            # our body. Open orders alone beat no orders; say once what is missing.
            if self._shared.v2_query:
                self._shared.v2_query = False
                log.error(
                    "%s unusable (%s): Suspended bracket children will be missing from order searches",
                    ORDER_QUERY,
                    exc,
                )
            return []
        orders = self._parsed(parse_orders, payload, ORDER_QUERY, account_id)
        total = payload.get("totalCount")
        if isinstance(total, int) and total > len(orders):
            log.warning(
                "%s: account %s has %d working orders, only %d read (one page)",
                ORDER_QUERY,
                account_id,
                total,
                len(orders),
            )
        return [order for order in orders if order.is_working]

    # -- Broker protocol: mutations (sent once, never retried here) ---------------------------

    async def cancel_order(self, account_id: int, order_id: int) -> None:
        body = OrderCancelRequest(accountId=account_id, orderId=order_id).body()
        await self._call(ORDER_CANCEL, body, account_id=account_id, mutating=True)

    async def close_position(self, account_id: int, contract_id: str) -> None:
        body = PositionCloseContractRequest(accountId=account_id, contractId=contract_id).body()
        await self._call(POSITION_CLOSE, body, account_id=account_id, mutating=True)

    async def partial_close(self, account_id: int, contract_id: str, size: int) -> None:
        body = PositionPartialCloseContractRequest(accountId=account_id, contractId=contract_id, size=size)
        await self._call(POSITION_PARTIAL_CLOSE, body.body(), account_id=account_id, mutating=True)

    async def place_order(
        self,
        account_id: int,
        contract_id: str,
        type: OrderType,
        side: OrderSide,
        size: int,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        custom_tag: str | None = None,
    ) -> int:
        """Place an order and return its id; raises OutcomeUnknown if accepted without one."""
        body = OrderPlaceRequest(
            accountId=account_id,
            contractId=contract_id,
            type=int(type),
            side=int(side),
            size=size,
            limitPrice=limit_price,
            stopPrice=stop_price,
            customTag=custom_tag,
        ).body()
        payload = await self._call(ORDER_PLACE, body, account_id=account_id, mutating=True)
        try:
            order_id = OrderPlaceResponse.model_validate(payload).orderId
        except ValidationError:
            order_id = None
        if order_id is None:
            raise OutcomeUnknown(
                "accepted, but the answer holds no readable orderId",
                endpoint=ORDER_PLACE,
                account_id=account_id,
            )
        return order_id

    async def modify_order(
        self,
        account_id: int,
        order_id: int,
        *,
        size: int | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        body = OrderModifyRequest(
            accountId=account_id, orderId=order_id, size=size, limitPrice=limit_price, stopPrice=stop_price
        ).body()
        await self._call(ORDER_MODIFY, body, account_id=account_id, mutating=True)

    # -- contracts (fill the ContractCatalog) ---------------------------------------------------

    async def search_contracts(self, text: str, *, live: bool = False) -> list[Contract]:
        """``Contract/search`` (at most 20 results); every contract found joins the catalog."""
        body = ContractSearchRequest(searchText=text, live=live).body()
        payload = await self._call(CONTRACT_SEARCH, body, priority=Priority.POLL)
        return self._learn(payload, CONTRACT_SEARCH)

    async def contract(self, contract_id: str) -> Contract | None:
        """``Contract/searchById`` (rolled contracts too), added to the catalog; None if unknown."""
        body = ContractSearchByIdRequest(contractId=contract_id).body()
        try:
            payload = await self._call(CONTRACT_BY_ID, body, priority=Priority.POLL)
        except BrokerRejected as exc:
            if exc.code == _CONTRACT_NOT_FOUND and not isinstance(exc, HttpRejected):
                return None
            raise
        found = [c for c in self._learn(payload, CONTRACT_BY_ID) if c.id == contract_id]
        return found[0] if found else None

    async def load_contracts(self, contract_ids: Iterable[str]) -> list[Contract]:
        """Look up every id the catalog has not learnt yet; unknown ids are logged and skipped."""
        known = {c.id for c in self._shared.catalog.known()}
        loaded: list[Contract] = []
        for contract_id in dict.fromkeys(contract_ids):
            if contract_id in known:
                continue
            contract = await self.contract(contract_id)
            if contract is None:
                log.warning(
                    "%s: contract %s not found; built-in tick table used", CONTRACT_BY_ID, contract_id
                )
            else:
                loaded.append(contract)
        return loaded

    def _learn(self, payload: Mapping[str, Any], endpoint: str) -> list[Contract]:
        catalog = self._shared.catalog
        contracts = self._parsed(lambda p, e: parse_contracts(p, catalog, e), payload, endpoint, None)
        for contract in contracts:
            catalog.add(contract)
        return contracts

    # -- transport --------------------------------------------------------------------------

    async def _call(
        self,
        endpoint: str,
        body: dict[str, Any],
        *,
        account_id: int | None = None,
        mutating: bool = False,
        priority: Priority | None = None,
    ) -> dict[str, Any]:
        """One authenticated call: its payload (success true), or a BrokerError."""
        level = Priority.ENFORCEMENT if mutating else (priority if priority is not None else self._priority)

        async def once() -> dict[str, Any]:
            session = self._shared.session
            token = await session.token()
            response = await self._post(endpoint, body, token, account_id, mutating, level)
            if response.status_code == 401:
                # The token was refused (expired early, revoked): one fresh login, one retry.
                # Safe for mutations too: a 401 is answered before anything is carried out.
                log.warning("%s: HTTP 401, logging in again and retrying once", _where(endpoint, account_id))
                token = await session.reauthenticate(token)
                response = await self._post(endpoint, body, token, account_id, mutating, level)
                if response.status_code == 401:
                    raise BrokerUnavailable(
                        "not authorised (HTTP 401) even after a fresh login",
                        endpoint=endpoint,
                        account_id=account_id,
                    )
            return self._read(response, endpoint, account_id, mutating, envelope=True)

        return await self._retrying(once, endpoint, account_id, 1 if mutating else self._read_attempts)

    async def _auth_send(
        self, endpoint: str, body: dict[str, Any] | None, token: str | None
    ) -> dict[str, Any]:
        """The session's way out: Auth/* requests, at enforcement priority, retried like reads.
        Their envelope is the session's to judge (a refused validate means: log in again)."""

        async def once() -> dict[str, Any]:
            response = await self._post(endpoint, body, token, None, False, Priority.ENFORCEMENT)
            return self._read(response, endpoint, None, False, envelope=False)

        return await self._retrying(once, endpoint, None, AUTH_ATTEMPTS)

    async def _retrying(
        self,
        once: Callable[[], Awaitable[dict[str, Any]]],
        endpoint: str,
        account_id: int | None,
        attempts: int,
    ) -> dict[str, Any]:
        attempt = 1
        while True:
            try:
                return await once()
            except RateLimited as exc:
                if exc.from_budget or attempt >= attempts:
                    raise
                delay = 0.0  # the budget already holds every request for the back-off
                error: BrokerError = exc
            except BrokerUnavailable as exc:
                if attempt >= attempts:
                    raise
                delay = self._retry_delay(attempt)
                error = exc
            log.warning(
                "%s: %s; retry %d of %d in %.1f s",
                _where(endpoint, account_id),
                _strip_where(str(error)),
                attempt,
                attempts - 1,
                delay,
            )
            attempt += 1
            if delay > 0:
                await self._sleep(delay)

    def _retry_delay(self, attempt: int) -> float:
        """0.5, 1, 2, 4, 8 s ... (times 0.75-1.25 jitter)."""
        base = min(self._retry_cap, self._retry_base * 2 ** (attempt - 1))
        return float(base * (0.75 + 0.5 * self._random()))

    async def _post(
        self,
        endpoint: str,
        body: dict[str, Any] | None,
        token: str | None,
        account_id: int | None,
        mutating: bool,
        priority: Priority,
    ) -> httpx.Response:
        try:
            await self._shared.budget.acquire(priority)
        except BudgetExhausted as exc:
            raise RateLimited(
                str(exc), retry_in=exc.wait, from_budget=True, endpoint=endpoint, account_id=account_id
            ) from None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self._shared.http.post(endpoint, json=body, headers=headers)
        except httpx.TransportError as exc:
            detail = self._clean(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            if mutating and not isinstance(exc, _NOT_SENT):
                raise OutcomeUnknown(
                    f"sent, but no answer ({detail}): it may have been carried out",
                    endpoint=endpoint,
                    account_id=account_id,
                ) from exc
            raise BrokerUnavailable(
                f"gateway unreachable ({detail})", endpoint=endpoint, account_id=account_id
            ) from exc
        log.debug("%s -> HTTP %d", _where(endpoint, account_id), response.status_code)
        return response

    def _read(
        self,
        response: httpx.Response,
        endpoint: str,
        account_id: int | None,
        mutating: bool,
        *,
        envelope: bool,
    ) -> dict[str, Any]:
        status = response.status_code
        if status == 429:
            wait = _retry_after(response.headers.get("Retry-After"), self._clock.now())
            backoff = self._shared.budget.rate_limited(wait)
            raise RateLimited(
                f"rate limited (HTTP 429); every request waits {backoff:.0f} s",
                retry_in=backoff,
                endpoint=endpoint,
                account_id=account_id,
            )
        if status == 504 and mutating:
            raise OutcomeUnknown(
                "gateway timeout (HTTP 504): it may have been carried out",
                endpoint=endpoint,
                account_id=account_id,
            )
        if status >= 500:
            raise BrokerUnavailable(
                f"gateway error (HTTP {status})", endpoint=endpoint, account_id=account_id
            )
        if status >= 300:
            raise HttpRejected(
                f"refused (HTTP {status}{self._problem(response)})",
                status=status,
                endpoint=endpoint,
                account_id=account_id,
            )
        self._shared.budget.succeeded()
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise self._unreadable("the answer is not a JSON object", endpoint, account_id, mutating)
        if envelope:
            try:
                answer = parse_envelope(payload, endpoint)
            except WireError as exc:
                raise self._unreadable(str(exc), endpoint, account_id, mutating) from None
            if not answer.success:
                text = rejection_text(
                    endpoint, answer.errorCode, self._clean(answer.errorMessage or "") or None
                )
                order_id = payload.get("orderId")
                if order_id is not None:  # a rejected place may still name an order (PROJECTX.md §2.1)
                    text += f" (orderId {order_id})"
                raise BrokerRejected(text, code=answer.errorCode, endpoint=endpoint, account_id=account_id)
        return payload

    @staticmethod
    def _unreadable(reason: str, endpoint: str, account_id: int | None, mutating: bool) -> BrokerError:
        if mutating:
            return OutcomeUnknown(
                f"unreadable answer ({reason}): it may have been carried out",
                endpoint=endpoint,
                account_id=account_id,
            )
        return BrokerError(f"unreadable answer ({reason})", endpoint=endpoint, account_id=account_id)

    def _problem(self, response: httpx.Response) -> str:
        """``: <title>`` of a ProblemDetails body, if there is one."""
        try:
            body = response.json()
        except ValueError:
            return ""
        title = body.get("title") if isinstance(body, dict) else None
        return f": {self._clean(str(title))[:200]}" if title else ""

    def _parsed(
        self,
        parse: Callable[[Mapping[str, Any], str], list[T]],
        payload: Mapping[str, Any],
        endpoint: str,
        account_id: int | None,
    ) -> list[T]:
        try:
            return parse(payload, endpoint)
        except WireError as exc:
            raise BrokerError(f"unreadable answer: {exc}", endpoint=endpoint, account_id=account_id) from exc

    def _clean(self, text: str) -> str:
        return redact(text, self._shared.session.secrets())


def _where(endpoint: str, account_id: int | None) -> str:
    return endpoint + (f" (account {account_id})" if account_id is not None else "")


def _strip_where(message: str) -> str:
    """A BrokerError's message without its ``[endpoint, account]`` suffix (already logged)."""
    head, bracket, _ = message.rpartition(" [")
    return head if bracket else message


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/odd."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


__all__ = [
    "ACCOUNT_SEARCH",
    "CONTRACT_BY_ID",
    "CONTRACT_SEARCH",
    "ORDER_CANCEL",
    "ORDER_MODIFY",
    "ORDER_PLACE",
    "ORDER_QUERY",
    "ORDER_SEARCH_OPEN",
    "POSITION_CLOSE",
    "POSITION_PARTIAL_CLOSE",
    "POSITION_SEARCH_OPEN",
    "QUERY_PAGE_SIZE",
    "QUERY_STATUSES",
    "TRADE_SEARCH",
    "ProjectXClient",
]
