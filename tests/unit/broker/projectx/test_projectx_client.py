"""ProjectXClient against a scripted gateway (httpx.MockTransport): auth, errors, retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from broker_payloads import ES, MNQ, account_payload, order_payload, position_payload, trade_payload
from projectx_fakes import ACCOUNT, API_KEY, T0, USERNAME, FakeGateway, RecordingSleep, make_jwt, ok, refused

from risk_manager.broker.base import Broker, BrokerError, BrokerRejected, BrokerUnavailable, OutcomeUnknown
from risk_manager.broker.projectx.auth import jwt_expiry
from risk_manager.broker.projectx.budget import Priority, RequestBudget
from risk_manager.broker.projectx.client import ProjectXClient
from risk_manager.broker.projectx.errors import HttpRejected, LoginRejected, RateLimited
from risk_manager.config.accounts import GatewayConfig
from risk_manager.domain import OrderSide, OrderStatus, OrderType
from risk_manager.schedule.clock import ManualClock

Call = Callable[[ProjectXClient], Awaitable[Any]]


class Harness:
    """A client wired to a fake gateway, fake clock and a sleep that never waits."""

    def __init__(self, **options: Any) -> None:
        self.clock = ManualClock(T0)
        self.gateway = FakeGateway(self.clock)
        self.sleep = RecordingSleep()
        self.budget = options.pop("budget", None) or RequestBudget(sleep=self.sleep)
        self.client = ProjectXClient(
            "https://gateway.test",
            USERNAME,
            API_KEY,
            clock=self.clock,
            transport=self.gateway.transport(),
            budget=self.budget,
            sleep=self.sleep,
            random=lambda: 0.5,  # jitter factor exactly 1
            **options,
        )

    def run(self, call: Call) -> Any:
        async def go() -> Any:
            try:
                return await call(self.client)
            finally:
                await self.client.aclose()

        return asyncio.run(go())

    def runs(self, *calls: Call) -> list[Any]:
        """Several calls in one event loop, in order; an exception is returned, not raised."""

        async def go() -> list[Any]:
            results: list[Any] = []
            for call in calls:
                try:
                    results.append(await call(self.client))
                except BrokerError as exc:
                    results.append(exc)
            await self.client.aclose()
            return results

        return asyncio.run(go())


def answer(status: int, payload: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    """A scripted response; ``Retry_After="7"`` becomes the header ``Retry-After: 7``."""
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    if payload is None:
        return httpx.Response(status, headers=named)
    return httpx.Response(status, json=payload, headers=named)


def cancel(client: ProjectXClient) -> Awaitable[None]:
    return client.cancel_order(ACCOUNT, 3_000_000_123)


def positions(client: ProjectXClient) -> Awaitable[Any]:
    return client.search_open_positions(ACCOUNT)


# -- login and token lifetime ------------------------------------------------------------------


def test_login_with_api_key_then_bearer_on_every_call() -> None:
    h = Harness()
    h.gateway.answers["Account/search"] = {"accounts": [account_payload()]}
    [account] = h.run(lambda c: c.search_accounts())
    assert account.id == 101 and account.can_trade
    assert h.gateway.requests[0] == ("Auth/loginKey", {"userName": USERNAME, "apiKey": API_KEY}, None)
    assert h.gateway.requests[1] == ("Account/search", {"onlyActiveAccounts": True}, h.gateway.issued[0])


def test_token_is_refreshed_with_validate_five_minutes_before_expiry() -> None:
    h = Harness()
    renewed: list[str] = []
    h.client.add_token_listener(renewed.append)

    async def scenario(client: ProjectXClient) -> None:
        await client.search_open_positions(ACCOUNT)
        h.clock.advance(hours=23, minutes=54)  # 6 min left: still fresh
        await client.search_open_positions(ACCOUNT)
        assert h.gateway.calls("Auth/validate") == []
        h.clock.advance(minutes=2)  # 4 min left: refresh first
        await client.search_open_positions(ACCOUNT)

    h.run(scenario)
    first, second = h.gateway.issued
    assert [name for name, _, _ in h.gateway.requests] == [
        "Auth/loginKey",
        "Position/searchOpen",
        "Position/searchOpen",
        "Auth/validate",
        "Position/searchOpen",
    ]
    assert h.gateway.bearers("Auth/validate") == [first]
    assert h.gateway.bearers("Position/searchOpen") == [first, first, second]
    assert renewed == [second]
    assert h.client.session.expires_at == T0 + timedelta(hours=23, minutes=56) + timedelta(hours=24)


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(answer(200, refused(2, "Session not found")), id="success-false"),
        pytest.param(answer(401), id="http-401"),
    ],
)
def test_refused_validate_falls_back_to_a_fresh_login(refusal: httpx.Response) -> None:
    h = Harness()
    h.gateway.script("Auth/validate", refusal)

    async def scenario(client: ProjectXClient) -> None:
        await client.search_open_positions(ACCOUNT)
        h.clock.advance(hours=23, minutes=57)
        await client.search_open_positions(ACCOUNT)

    h.run(scenario)
    assert [name for name, _, _ in h.gateway.requests if name.startswith("Auth/")] == [
        "Auth/loginKey",
        "Auth/validate",
        "Auth/loginKey",
    ]
    assert h.gateway.bearers("Position/searchOpen")[-1] == h.gateway.issued[-1]


def test_an_expired_token_is_replaced_by_login_not_validate() -> None:
    h = Harness()

    async def scenario(client: ProjectXClient) -> None:
        await client.search_open_positions(ACCOUNT)
        h.clock.advance(hours=25)
        await client.search_open_positions(ACCOUNT)

    h.run(scenario)
    assert len(h.gateway.calls("Auth/loginKey")) == 2 and h.gateway.calls("Auth/validate") == []


def test_unreachable_validate_keeps_the_still_valid_token() -> None:
    h = Harness()
    h.gateway.script("Auth/validate", httpx.ConnectError, httpx.ConnectError)

    async def scenario(client: ProjectXClient) -> None:
        await client.search_open_positions(ACCOUNT)
        h.clock.advance(hours=23, minutes=57)
        await client.search_open_positions(ACCOUNT)

    h.run(scenario)
    assert len(h.gateway.calls("Auth/loginKey")) == 1
    assert h.gateway.bearers("Position/searchOpen") == [h.gateway.issued[0]] * 2
    assert h.client.session.refresh_at == T0 + timedelta(hours=23, minutes=57, seconds=30)


def test_a_401_logs_in_again_once_and_retries_that_call() -> None:
    h = Harness()

    async def scenario(client: ProjectXClient) -> None:
        await client.search_open_positions(ACCOUNT)
        h.gateway.revoke()  # the gateway forgot our session
        await client.cancel_order(ACCOUNT, 3_000_000_123)

    h.run(scenario)
    first, second = h.gateway.issued
    assert h.gateway.bearers("Order/cancel") == [first, second]
    assert len(h.gateway.calls("Auth/loginKey")) == 2


def test_a_second_401_after_a_fresh_login_is_not_retried_again() -> None:
    h = Harness()
    h.gateway.script("Order/cancel", answer(401), answer(401))
    with pytest.raises(
        BrokerUnavailable, match=r"HTTP 401\) even after a fresh login \[Order/cancel, account 101\]"
    ):
        h.run(cancel)
    assert len(h.gateway.calls("Order/cancel")) == 2


def test_wrong_credentials_are_a_login_rejection() -> None:
    h = Harness()
    h.gateway.script("Auth/loginKey", answer(200, refused(3, "Invalid credentials")))
    with pytest.raises(LoginRejected, match=r"errorCode 3 InvalidCredentials") as caught:
        h.run(positions)
    assert caught.value.code == 3 and caught.value.endpoint == "Auth/loginKey"
    assert h.gateway.calls("Position/searchOpen") == []


def test_concurrent_calls_share_one_login() -> None:
    h = Harness()

    async def scenario(client: ProjectXClient) -> None:
        await asyncio.gather(*(client.search_open_positions(ACCOUNT) for _ in range(5)))

    h.run(scenario)
    assert len(h.gateway.calls("Auth/loginKey")) == 1


def test_two_hubs_told_of_one_logout_log_in_once() -> None:
    h = Harness()
    renewed: list[str] = []
    h.client.add_token_listener(renewed.append)

    async def scenario(client: ProjectXClient) -> list[str]:
        stale = await client.token()
        return list(await asyncio.gather(client.relogin(stale), client.relogin(stale)))

    first, second = h.run(scenario)
    assert first == second == h.gateway.issued[1] and renewed == [first]
    assert len(h.gateway.calls("Auth/loginKey")) == 2


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param(make_jwt(T0), T0, id="jwt"),
        pytest.param("opaque-session-token", None, id="not-a-jwt"),
        pytest.param("a.!!!.c", None, id="bad-base64"),
        pytest.param("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", None, id="no-exp"),
    ],
)
def test_jwt_expiry_is_read_without_verifying(token: str, expected: object) -> None:
    assert jwt_expiry(token) == expected


# -- envelope errors -----------------------------------------------------------------------------

REJECTIONS = [
    pytest.param(
        cancel, "Order/cancel", 6, "Live accounts not supported", "AccountRejected", id="cancel-live-account"
    ),
    pytest.param(
        lambda c: c.modify_order(ACCOUNT, 7, stop_price=Decimal("1")),
        "Order/modify",
        7,
        None,
        "ContractNotFound",
        id="modify-contract",
    ),
    pytest.param(
        lambda c: c.close_position(ACCOUNT, MNQ),
        "Position/closeContract",
        2,
        "No position",
        "PositionNotFound",
        id="close-no-position",
    ),
    pytest.param(
        lambda c: c.partial_close(ACCOUNT, MNQ, 5),
        "Position/partialCloseContract",
        5,
        "Invalid size",
        "InvalidCloseSize",
        id="partial-size",
    ),
    pytest.param(
        lambda c: c.place_order(ACCOUNT, MNQ, OrderType.MARKET, OrderSide.SELL, 1),
        "Order/place",
        5,
        "Market closed",
        "OutsideTradingHours",
        id="place-closed",
    ),
    pytest.param(positions, "Position/searchOpen", 1, None, "AccountNotFound", id="positions-account"),
    pytest.param(
        lambda c: c.search_trades(ACCOUNT, T0),
        "Trade/search",
        1,
        "nope",
        "AccountNotFound",
        id="trades-account",
    ),
]


@pytest.mark.parametrize(("call", "endpoint", "code", "message", "name"), REJECTIONS)
def test_envelope_failures_become_rejections_naming_endpoint_and_account(
    call: Call, endpoint: str, code: int, message: str | None, name: str
) -> None:
    h = Harness()
    h.gateway.script(endpoint, answer(200, refused(code, message)))
    with pytest.raises(BrokerRejected) as caught:
        h.run(call)
    error = caught.value
    assert (error.code, error.endpoint, error.account_id) == (code, endpoint, ACCOUNT)
    assert f"errorCode {code} {name}" in str(error)
    assert str(error).endswith(f"[{endpoint}, account {ACCOUNT}]")
    assert len(h.gateway.calls(endpoint)) == 1  # a rejection is an answer: never retried


def test_a_rejected_place_names_the_order_id_it_still_returned() -> None:
    h = Harness()
    h.gateway.script("Order/place", answer(200, refused(2, "Brackets cannot be used", orderId=3_000_000_999)))
    with pytest.raises(
        BrokerRejected, match=r"errorCode 2 OrderRejected: Brackets cannot be used \(orderId 3000000999\)"
    ):
        h.run(
            lambda c: c.place_order(ACCOUNT, MNQ, OrderType.STOP, OrderSide.SELL, 1, stop_price=Decimal("1"))
        )


def test_an_http_4xx_is_a_rejection_with_its_status() -> None:
    h = Harness()
    h.gateway.script("Order/cancel", answer(400, {"title": "One or more validation errors occurred."}))
    with pytest.raises(HttpRejected, match=r"HTTP 400: One or more validation errors") as caught:
        h.run(cancel)
    assert caught.value.status == 400 and caught.value.code == 0


# -- mutations -------------------------------------------------------------------------------------


def test_place_order_sends_the_documented_body_and_returns_the_id() -> None:
    h = Harness()
    h.gateway.answers["Order/place"] = {"orderId": 3_000_000_555}
    order_id = h.run(
        lambda c: c.place_order(
            ACCOUNT,
            MNQ,
            OrderType.STOP,
            OrderSide.SELL,
            2,
            stop_price=Decimal("20990.25"),
            custom_tag="RM-1-SL",
        )
    )
    assert order_id == 3_000_000_555
    assert h.gateway.calls("Order/place") == [
        {
            "accountId": ACCOUNT,
            "contractId": MNQ,
            "type": 4,
            "side": 1,
            "size": 2,
            "stopPrice": 20990.25,
            "customTag": "RM-1-SL",
        }
    ]


def test_place_accepted_without_an_order_id_is_an_unknown_outcome() -> None:
    h = Harness()
    with pytest.raises(OutcomeUnknown, match="no readable orderId"):
        h.run(lambda c: c.place_order(ACCOUNT, MNQ, OrderType.MARKET, OrderSide.BUY, 1))


def test_mutation_bodies() -> None:
    h = Harness()
    h.runs(
        cancel,
        lambda c: c.close_position(ACCOUNT, MNQ),
        lambda c: c.partial_close(ACCOUNT, ES, 3),
        lambda c: c.modify_order(ACCOUNT, 77, size=1, limit_price=Decimal("21000.5")),
    )
    assert h.gateway.calls("Order/cancel") == [{"accountId": ACCOUNT, "orderId": 3_000_000_123}]
    assert h.gateway.calls("Position/closeContract") == [{"accountId": ACCOUNT, "contractId": MNQ}]
    assert h.gateway.calls("Position/partialCloseContract") == [
        {"accountId": ACCOUNT, "contractId": ES, "size": 3}
    ]
    assert h.gateway.calls("Order/modify") == [
        {"accountId": ACCOUNT, "orderId": 77, "size": 1, "limitPrice": 21000.5}
    ]


# -- retries and transport failures ----------------------------------------------------------------


def test_reads_are_retried_with_backoff_on_5xx_then_succeed() -> None:
    h = Harness()
    h.gateway.answers["Position/searchOpen"] = {"positions": [position_payload()]}
    h.gateway.script("Position/searchOpen", answer(500), answer(503), httpx.ConnectError)
    [position] = h.run(positions)
    assert position.size == 2 and position.contract_id == MNQ
    assert len(h.gateway.calls("Position/searchOpen")) == 4
    assert h.sleep.delays == [0.5, 1.0, 2.0]


def test_reads_give_up_after_their_attempts() -> None:
    h = Harness(read_attempts=2)
    h.gateway.script("Position/searchOpen", answer(502), answer(502))
    with pytest.raises(
        BrokerUnavailable, match=r"gateway error \(HTTP 502\) \[Position/searchOpen, account 101\]"
    ):
        h.run(positions)
    assert len(h.gateway.calls("Position/searchOpen")) == 2


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        pytest.param(answer(500), BrokerUnavailable, id="500"),
        pytest.param(answer(503), BrokerUnavailable, id="503"),
        pytest.param(answer(429, Retry_After="3"), RateLimited, id="429"),
        pytest.param(httpx.ConnectError, BrokerUnavailable, id="connect-error"),
        pytest.param(httpx.ConnectTimeout, BrokerUnavailable, id="connect-timeout"),
        pytest.param(httpx.ReadTimeout, OutcomeUnknown, id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError, OutcomeUnknown, id="dropped-answer"),
        pytest.param(answer(504), OutcomeUnknown, id="504"),
        pytest.param(answer(200, {"unexpected": True}), OutcomeUnknown, id="unreadable"),
    ],
)
def test_mutations_are_sent_once_and_failures_typed(failure: Any, error: type[BrokerError]) -> None:
    h = Harness()
    h.gateway.script("Order/cancel", failure)
    with pytest.raises(error) as caught:
        h.run(cancel)
    assert type(caught.value) is error
    assert len(h.gateway.calls("Order/cancel")) == 1
    assert h.sleep.delays == []


def test_a_read_timeout_on_a_read_is_retried_not_unknown() -> None:
    h = Harness()
    h.gateway.script("Position/searchOpen", httpx.ReadTimeout)
    assert h.run(positions) == []
    assert len(h.gateway.calls("Position/searchOpen")) == 2


def test_429_makes_every_request_wait_retry_after_and_the_read_then_succeeds() -> None:
    clock: list[float] = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds
        await asyncio.sleep(0)

    budget = RequestBudget(monotonic=lambda: clock[0], sleep=sleep)
    h = Harness(budget=budget)
    h.gateway.script("Position/searchOpen", answer(429, Retry_After="7"))
    results = h.runs(positions, cancel)
    assert results == [[], None]
    assert clock[0] == 7.0  # the retry waited out Retry-After in the budget, not on top of it
    assert h.sleep.delays == []  # no extra exponential back-off for a 429


def test_a_429_on_a_mutation_is_rate_limited_and_enforcement_does_not_hang() -> None:
    budget = RequestBudget(max_enforcement_wait=5.0)
    h = Harness(budget=budget)
    h.gateway.script("Order/cancel", answer(429, Retry_After="30"))
    first, second = h.runs(cancel, cancel)
    assert isinstance(first, RateLimited) and not first.from_budget and first.retry_in == 30
    assert isinstance(second, RateLimited) and second.from_budget  # refused locally: not sent
    assert len(h.gateway.calls("Order/cancel")) == 1


# -- order searches --------------------------------------------------------------------------------


def test_suspended_bracket_children_come_from_v2_query_and_merge_with_search_open() -> None:
    h = Harness()
    entry = order_payload(id=500, status=1, type=1, side=0, limitPrice=20950.0, stopPrice=None, customTag="e")
    stop = order_payload(id=501, status=8, stopPrice=None, parentOrderId=500, customTag="e-SL")
    target = order_payload(id=502, status=8, type=1, stopPrice=None, parentOrderId=500, customTag="e-TP")
    h.gateway.answers["Order/searchOpen"] = {"orders": [entry]}
    h.gateway.answers["Order/v2/query"] = {"orders": [target, entry, stop], "totalCount": 3}
    orders = h.run(lambda c: c.search_open_orders(ACCOUNT))
    assert [(o.id, o.status) for o in orders] == [
        (500, OrderStatus.OPEN),
        (501, OrderStatus.SUSPENDED),
        (502, OrderStatus.SUSPENDED),
    ]
    assert h.gateway.calls("Order/v2/query") == [
        {"filter": {"accountId": ACCOUNT, "statuses": [1, 8]}, "pageSize": 100, "includeTotalCount": True}
    ]


def test_v2_query_rows_that_are_not_working_are_ignored() -> None:
    h = Harness()
    h.gateway.answers["Order/v2/query"] = {"orders": [order_payload(id=9, status=2)]}  # filter ignored
    assert h.run(lambda c: c.search_open_orders(ACCOUNT)) == []


def test_without_v2_query_search_open_alone_is_used_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness()
    h.gateway.answers["Order/searchOpen"] = {"orders": [order_payload(id=7)]}
    h.gateway.script("Order/v2/query", answer(404))
    first, second = h.runs(lambda c: c.search_open_orders(ACCOUNT), lambda c: c.search_open_orders(ACCOUNT))
    assert [o.id for o in first] == [7] and [o.id for o in second] == [7]
    assert len(h.gateway.calls("Order/v2/query")) == 1
    assert len([r for r in caplog.records if "Suspended bracket children will be missing" in r.message]) == 1


def test_search_trades_sends_utc_timestamps() -> None:
    h = Harness()
    h.gateway.answers["Trade/search"] = {"trades": [trade_payload()]}
    [fill] = h.run(lambda c: c.search_trades(ACCOUNT, T0, T0 + timedelta(hours=1)))
    assert fill.pnl is None and fill.size == 2
    assert h.gateway.calls("Trade/search") == [
        {
            "accountId": ACCOUNT,
            "startTimestamp": "2026-03-10T14:00:00Z",
            "endTimestamp": "2026-03-10T15:00:00Z",
        }
    ]


def test_an_unreadable_search_answer_is_a_broker_error_naming_the_field() -> None:
    h = Harness()
    h.gateway.answers["Position/searchOpen"] = {"positions": [position_payload(averagePrice=None)]}
    with pytest.raises(BrokerError, match=r"averagePrice.*\[Position/searchOpen, account 101\]"):
        h.run(positions)


# -- priorities ------------------------------------------------------------------------------------


class SpyBudget(RequestBudget):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Priority] = []

    async def acquire(self, priority: Priority) -> None:
        self.asked.append(priority)
        await super().acquire(priority)


def test_the_client_reads_at_enforcement_priority_and_its_polling_view_at_poll() -> None:
    budget = SpyBudget()
    h = Harness(budget=budget)
    h.runs(
        positions, lambda c: c.polling.search_open_positions(ACCOUNT), lambda c: c.polling.cancel_order(1, 2)
    )
    login, read, poll, mutation = budget.asked
    assert (login, read, poll, mutation) == (
        Priority.ENFORCEMENT,
        Priority.ENFORCEMENT,
        Priority.POLL,
        Priority.ENFORCEMENT,
    )
    assert h.client.polling.session is h.client.session


# -- contracts -------------------------------------------------------------------------------------


def contract_payload(contract_id: str = MNQ) -> dict[str, Any]:
    return {
        "id": contract_id,
        "name": "MNQH6",
        "description": "Micro E-mini Nasdaq-100",
        "tickSize": 0.25,
        "tickValue": 0.5,
        "activeContract": True,
        "symbolId": "F.US.MNQ",
    }


def test_contract_searches_fill_the_catalog() -> None:
    h = Harness()
    h.gateway.answers["Contract/search"] = {"contracts": [contract_payload()]}
    h.gateway.script(
        "Contract/searchById",
        answer(200, ok(contract=contract_payload(ES))),
        answer(200, ok(contracts=[contract_payload("CON.F.US.RTY.H26")])),  # the older shape
        answer(200, refused(1, "Contract not found")),
    )
    found, by_id, old_shape, missing = h.runs(
        lambda c: c.search_contracts("MNQ"),
        lambda c: c.contract(ES),
        lambda c: c.contract("CON.F.US.RTY.H26"),
        lambda c: c.contract("CON.F.US.NOPE.H26"),
    )
    assert [c.id for c in found] == [MNQ] and by_id.id == ES and old_shape.symbol == "RTY"
    assert missing is None
    assert {c.id for c in h.client.catalog.known()} == {MNQ, ES, "CON.F.US.RTY.H26"}
    assert h.gateway.calls("Contract/search") == [{"searchText": "MNQ", "live": False}]


def test_load_contracts_asks_only_for_unknown_ids() -> None:
    h = Harness()
    h.gateway.answers["Contract/searchById"] = {"contract": contract_payload()}
    loaded = h.run(lambda c: c.load_contracts([MNQ, MNQ]))
    assert [c.id for c in loaded] == [MNQ]
    assert h.gateway.calls("Contract/searchById") == [{"contractId": MNQ}]


# -- wiring ----------------------------------------------------------------------------------------


def test_the_client_is_a_broker() -> None:
    assert isinstance(Harness().client, Broker)


def test_from_config_uses_the_firm_preset_and_requires_credentials() -> None:
    client = ProjectXClient.from_config(GatewayConfig(firm="simulator", username="u", api_key="k"))
    assert str(client._shared.http.base_url) == "http://127.0.0.1:8765/api/"
    with pytest.raises(ValueError, match=r"gateway.username and gateway.api_key: required"):
        ProjectXClient.from_config(GatewayConfig(firm="topstepx"))


def test_keep_token_fresh_renews_the_token_when_due() -> None:
    h = Harness()
    wakes: list[float] = []

    async def sleep(seconds: float) -> None:
        wakes.append(seconds)
        h.clock.advance(seconds=seconds)
        if len(wakes) > 300:
            raise asyncio.CancelledError

    h.client._sleep = sleep

    async def scenario(client: ProjectXClient) -> None:
        await client.token()
        with pytest.raises(asyncio.CancelledError):
            await client.keep_token_fresh()

    h.run(scenario)
    assert len(h.gateway.calls("Auth/validate")) >= 1
    assert max(wakes) == 300.0  # long waits are re-checked every 5 min


# -- secrets -----------------------------------------------------------------------------------------


def test_the_api_key_and_tokens_never_reach_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    h = Harness()
    h.gateway.script("Order/cancel", answer(401))  # forces a second login
    h.gateway.script("Position/closeContract", httpx.ReadTimeout)
    h.gateway.script("Order/modify", answer(200, refused(3, f"bad request from key {API_KEY}")))
    h.gateway.script("Order/place", answer(400, {"title": f"apiKey {API_KEY} rejected"}))
    errors = h.runs(
        positions,
        cancel,
        lambda c: c.close_position(ACCOUNT, MNQ),
        lambda c: c.modify_order(ACCOUNT, 1, size=1),
        lambda c: c.place_order(ACCOUNT, MNQ, OrderType.MARKET, OrderSide.BUY, 1),
    )
    assert len(h.gateway.issued) == 2
    text = caplog.text + "\n".join(map(str, errors))
    for secret in (API_KEY, *h.gateway.issued):
        assert secret not in text
    assert "***" in text  # the key the gateway echoed was masked
