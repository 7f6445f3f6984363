"""The simulator's REST API over a real socket: auth, endpoints, errorCodes, limits (PROJECTX.md §1-§3)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gateway_harness import FakeClock, Harness, Json, run

from risk_manager.broker.projectx.wire import (
    AccountSearchResponse,
    ContractSearchResponse,
    OrderSearchResponse,
    PositionSearchResponse,
    TradeSearchResponse,
)
from risk_manager.gateway import token_claims

EPOCH = "2000-01-01T00:00:00Z"


# -- auth ----------------------------------------------------------------------------------------


def test_login_returns_a_jwt_whose_exp_is_24_hours_ahead() -> None:
    async def scenario(h: Harness) -> None:
        before = datetime.now(UTC)
        token = await h.login()

        header, _, signature = token.split(".")
        exp = datetime.fromtimestamp(int(str(token_claims(token)["exp"])), UTC)
        assert header and signature
        assert timedelta(hours=23, minutes=59) < exp - before <= timedelta(hours=24, seconds=1)

    run(scenario)


def test_login_with_a_wrong_api_key_is_error_code_3_and_no_token() -> None:
    async def scenario(h: Harness) -> None:
        response = await h.http.post("/api/Auth/loginKey", json={"userName": "demo", "apiKey": "nope"})

        assert response.status_code == 200
        assert response.json() == {"success": False, "errorCode": 3, "errorMessage": None, "token": None}

    run(scenario)


def test_login_with_the_configured_user_and_key() -> None:
    async def scenario(h: Harness) -> None:
        good = await h.http.post("/api/Auth/loginKey", json={"userName": "alice", "apiKey": "k3y"})
        demo = await h.http.post("/api/Auth/loginKey", json={"userName": "demo", "apiKey": "demo"})

        assert good.json()["success"] is True
        assert demo.json()["errorCode"] == 3

    run(scenario, user="alice", api_key="k3y")


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-header"),
        pytest.param("Bearer not-a-jwt", id="garbage"),
        pytest.param("Bearer eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTl9.c2ln", id="foreign-signature"),
        pytest.param("Basic ZGVtbzpkZW1v", id="wrong-scheme"),
    ],
)
def test_calls_without_a_valid_bearer_token_get_401(authorization: str | None) -> None:
    async def scenario(h: Harness) -> None:
        headers = {"Authorization": authorization} if authorization else {}
        response = await h.http.post(
            "/api/Account/search", json={"onlyActiveAccounts": True}, headers=headers
        )

        assert response.status_code == 401
        assert response.content == b""
        assert response.headers["www-authenticate"].startswith("Bearer")

    run(scenario)


def test_ping_needs_no_token() -> None:
    async def scenario(h: Harness) -> None:
        response = await h.http.get("/api/Status/ping")

        assert (response.status_code, response.text) == (200, "pong")

    run(scenario)


def test_validate_returns_a_new_token_that_works() -> None:
    async def scenario(h: Harness) -> None:
        data = await h.call("Auth/validate")
        new = data["newToken"]

        assert data["success"] is True and new != h.token
        assert (await h.api("Account/search", {"onlyActiveAccounts": True}, token=new)).status_code == 200

    run(scenario)


def test_expired_tokens_get_401_on_rest_and_a_new_login_works() -> None:
    async def scenario(h: Harness) -> None:
        old = await h.login()
        assert (await h.sim("/sim/expire-tokens"))["expired"] == 1

        refused = await h.api("Account/search", {"onlyActiveAccounts": True}, token=old)
        validate = await h.api("Auth/validate", token=old)
        fresh = await h.login()

        assert refused.status_code == 401 and "invalid_token" in refused.headers["www-authenticate"]
        assert validate.status_code == 401
        assert (await h.api("Account/search", {"onlyActiveAccounts": True}, token=fresh)).status_code == 200

    run(scenario)


def test_a_token_expires_24_hours_after_login() -> None:
    clock = FakeClock()

    async def scenario(h: Harness) -> None:
        await h.login()
        clock.advance(hours=23, minutes=59)
        assert (await h.api("Account/search", {"onlyActiveAccounts": True})).status_code == 200

        clock.advance(minutes=1)

        assert (await h.api("Account/search", {"onlyActiveAccounts": True})).status_code == 401

    run(scenario, clock=clock)


# -- accounts and contracts ----------------------------------------------------------------------


def test_account_search_lists_accounts_1_to_n_named_sim() -> None:
    async def scenario(h: Harness) -> None:
        data = await h.call("Account/search", {"onlyActiveAccounts": True})

        AccountSearchResponse.model_validate(data)
        assert [(a["id"], a["name"], a["balance"], a["canTrade"]) for a in data["accounts"]] == [
            (1, "SIM-1", 50000, True),
            (2, "SIM-2", 50000, True),
            (3, "SIM-3", 50000, True),
        ]

    run(scenario, accounts=3)


def test_contract_search_by_id_and_available_use_the_front_months() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        found = await h.call("Contract/search", {"searchText": "NQ", "live": False})
        by_id = await h.call("Contract/searchById", {"contractId": mnq})
        available = await h.call("Contract/available", {"live": False})
        unknown = await h.call("Contract/searchById", {"contractId": "CON.F.US.XYZ.Z26"})

        for data in (found, by_id, available):
            ContractSearchResponse.model_validate(data)
        assert {c["id"].split(".")[3] for c in found["contracts"]} == {"MNQ", "ENQ"}
        contract = by_id["contract"]
        assert (contract["id"], contract["symbolId"], contract["tickSize"], contract["tickValue"]) == (
            mnq,
            "F.US.MNQ",
            0.25,
            0.5,
        )
        assert contract["activeContract"] is True and contract["name"] == f"MNQ{mnq[-3]}{mnq[-1]}"
        assert len(available["contracts"]) == 12
        assert (unknown["success"], unknown["errorCode"], unknown["contract"]) == (False, 1, None)

    run(scenario)


# -- orders --------------------------------------------------------------------------------------


def test_a_market_order_fills_at_the_last_price_and_shows_in_every_search() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21000.25})

        placed = await h.place(side=0, size=2, customTag="entry-1")
        positions = await h.call("Position/searchOpen", {"accountId": 1})
        orders = await h.call("Order/search", {"accountId": 1, "startTimestamp": EPOCH})
        trades = await h.call("Trade/search", {"accountId": 1, "startTimestamp": EPOCH})
        open_orders = await h.call("Order/searchOpen", {"accountId": 1})

        assert placed["success"] is True and placed["orderId"] > 3_000_000_000
        PositionSearchResponse.model_validate(positions)
        TradeSearchResponse.model_validate(trades)
        OrderSearchResponse.model_validate(orders)
        (position,) = positions["positions"]
        assert (position["contractId"], position["type"], position["size"], position["averagePrice"]) == (
            mnq,
            1,
            2,
            21000.25,
        )
        (order,) = orders["orders"]
        assert (order["id"], order["status"], order["filledPrice"], order["customTag"]) == (
            placed["orderId"],
            2,
            21000.25,
            "entry-1",
        )
        (trade,) = trades["trades"]
        assert (trade["orderId"], trade["price"], trade["profitAndLoss"], trade["fees"]) == (
            placed["orderId"],
            21000.25,
            None,
            0.74,
        )
        assert open_orders["orders"] == []

    run(scenario)


def _setup_refusal(case: str) -> Any:
    async def setup(h: Harness) -> Json:
        mnq = h.front("MNQ")
        base: Json = {"accountId": 1, "contractId": mnq, "type": 2, "side": 0, "size": 1}
        if case == "account":
            return {**base, "accountId": 99}
        if case == "contract":
            return {**base, "contractId": "CON.F.US.NOPE.Z26"}
        if case == "rolled":
            return {**base, "contractId": mnq[:-2] + str(int(mnq[-2:]) - 1)}
        if case == "cannot-trade":
            await h.sim("/sim/account", {"accountId": 1, "canTrade": False})
        elif case == "closed":
            await h.sim("/sim/market", {"closed": True})
        elif case == "duplicate-tag":
            await h.place(customTag="dup")
            return {**base, "customTag": "dup"}
        elif case == "size":
            return {**base, "size": 0}
        elif case == "trailing":
            return {**base, "type": 5, "trailPrice": 20990}
        elif case == "off-grid":
            return {**base, "type": 1, "limitPrice": 20000.1}
        elif case == "stop-limit":
            return {**base, "type": 3, "limitPrice": 20000, "stopPrice": 20000}
        return base

    return setup


@pytest.mark.parametrize(
    ("case", "code"),
    [
        pytest.param("account", 1, id="AccountNotFound-1"),
        pytest.param("contract", 8, id="ContractNotFound-8"),
        pytest.param("rolled", 9, id="ContractNotActive-9"),
        pytest.param("cannot-trade", 4, id="AccountViolation-4"),
        pytest.param("closed", 5, id="OutsideTradingHours-5"),
        pytest.param("duplicate-tag", 2, id="duplicate-customTag-2"),
        pytest.param("size", 2, id="size-0-2"),
        pytest.param("trailing", 2, id="trailing-stop-2"),
        pytest.param("off-grid", 2, id="price-off-tick-grid-2"),
        pytest.param("stop-limit", 2, id="stop-limit-2"),
    ],
)
def test_order_place_refusals_use_the_place_error_codes(case: str, code: int) -> None:
    async def scenario(h: Harness) -> None:
        body = await _setup_refusal(case)(h)

        data = await h.call("Order/place", body)

        assert (data["success"], data["errorCode"], data["orderId"]) == (False, code, None)
        assert data["errorMessage"]

    run(scenario)


def test_a_limit_order_rests_then_modify_and_cancel_it() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21000})
        placed = await h.place(type=1, limitPrice=20990.5)
        order_id = placed["orderId"]

        modified = await h.call(
            "Order/modify", {"accountId": 1, "orderId": order_id, "limitPrice": 20980, "size": 3}
        )
        (resting,) = (await h.call("Order/searchOpen", {"accountId": 1}))["orders"]
        cancelled = await h.call("Order/cancel", {"accountId": 1, "orderId": order_id})
        again = await h.call("Order/cancel", {"accountId": 1, "orderId": order_id})
        missing = await h.call("Order/modify", {"accountId": 1, "orderId": 42, "size": 1})
        by_id = await h.call("Order/searchById", {"accountId": 1, "orderId": order_id})

        assert modified == {"success": True, "errorCode": 0, "errorMessage": None}
        assert (resting["status"], resting["limitPrice"], resting["size"]) == (1, 20980, 3)
        assert cancelled["success"] is True
        assert (again["success"], again["errorCode"]) == (False, 2)
        assert (missing["success"], missing["errorCode"]) == (False, 2)
        assert by_id["order"]["status"] == 3
        assert (await h.call("Order/searchOpen", {"accountId": 1}))["orders"] == []

    run(scenario)


def test_a_marketable_limit_fills_at_once_at_the_last_price() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21000})

        await h.place(type=1, limitPrice=21010)

        (order,) = (await h.call("Order/search", {"accountId": 1, "startTimestamp": EPOCH}))["orders"]
        assert (order["status"], order["filledPrice"]) == (2, 21000)

    run(scenario)


def test_brackets_are_rejected_in_position_brackets_mode() -> None:
    async def scenario(h: Harness) -> None:
        data = await h.place(
            stopLossBracket={"ticks": -10, "type": 4}, takeProfitBracket={"ticks": 20, "type": 1}
        )

        assert (data["success"], data["errorCode"], data["orderId"]) == (False, 2, None)
        assert data["errorMessage"].startswith("Brackets cannot be used with Position Brackets")
        assert (await h.call("Order/v2/query", {"filter": {"accountId": 1}}))["orders"] == []

    run(scenario)


def test_suspended_bracket_children_are_missing_from_search_open_but_not_from_v2_query() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21000})
        await h.sim("/sim/oco", {"accountId": 1})
        entry = await h.place(
            type=1,
            limitPrice=20950,
            customTag="b1",
            stopLossBracket={"ticks": -10, "type": 4},
            takeProfitBracket={"ticks": 20, "type": 1},
        )

        open_orders = (await h.call("Order/searchOpen", {"accountId": 1}))["orders"]
        search = (await h.call("Order/search", {"accountId": 1, "startTimestamp": EPOCH}))["orders"]
        query = await h.call(
            "Order/v2/query", {"filter": {"accountId": 1, "statuses": [1, 8]}, "includeTotalCount": True}
        )

        assert entry["success"] is True
        assert [o["id"] for o in open_orders] == [entry["orderId"]]
        assert [o["id"] for o in search] == [entry["orderId"]]
        assert query["totalCount"] == 3
        stop, target = query["orders"][1:]
        assert (stop["status"], stop["type"], stop["side"], stop["customTag"], stop["parentOrderId"]) == (
            8,
            4,
            1,
            "b1-SL",
            entry["orderId"],
        )
        assert (target["status"], target["type"], target["customTag"], target["linkedOrderId"]) == (
            8,
            1,
            "b1-TP",
            stop["id"],
        )

    run(scenario)


def test_bracket_legs_open_on_the_entry_fill_and_one_leg_filling_cancels_the_other() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21000})
        await h.sim("/sim/oco", {"accountId": 1})
        entry = await h.place(
            stopLossBracket={"ticks": -8, "type": 4}, takeProfitBracket={"ticks": 12, "type": 1}
        )

        legs = (await h.call("Order/searchOpen", {"accountId": 1}))["orders"]
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 20998})  # the stop at 20998.00
        final = (await h.call("Order/v2/query", {"filter": {"accountId": 1}, "sortBy": 1}))["orders"]

        assert entry["success"] is True
        assert [(o["type"], o["status"], o["stopPrice"], o["limitPrice"]) for o in legs] == [
            (4, 1, 20998, None),
            (1, 1, None, 21003),
        ]
        assert [o["status"] for o in final] == [2, 2, 3]
        assert (await h.call("Position/searchOpen", {"accountId": 1}))["positions"] == []

    run(scenario)


def test_close_and_partial_close_trade_at_market_and_answer_an_envelope_only() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21000})
        await h.place(size=3)
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21002})

        partial = await h.call(
            "Position/partialCloseContract", {"accountId": 1, "contractId": mnq, "size": 1}
        )
        too_big = await h.call(
            "Position/partialCloseContract", {"accountId": 1, "contractId": mnq, "size": 5}
        )
        size_left = (await h.call("Position/searchOpen", {"accountId": 1}))["positions"][0]["size"]
        closed = await h.call("Position/closeContract", {"accountId": 1, "contractId": mnq})
        nothing = await h.call("Position/closeContract", {"accountId": 1, "contractId": mnq})
        trades = (await h.call("Trade/search", {"accountId": 1, "startTimestamp": EPOCH}))["trades"]

        ok = {"success": True, "errorCode": 0, "errorMessage": None}
        assert partial == ok and closed == ok
        assert (too_big["success"], too_big["errorCode"]) == (False, 5)
        assert size_left == 2
        assert (nothing["success"], nothing["errorCode"]) == (False, 2)
        assert [(t["side"], t["size"], t["profitAndLoss"]) for t in trades] == [
            (0, 3, None),
            (1, 1, 4.0),
            (1, 2, 8.0),
        ]

    run(scenario)


def test_partial_close_in_a_closed_market_is_code_6_with_a_null_message() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        await h.place(size=2)
        await h.sim("/sim/market", {"closed": True})

        partial = await h.call(
            "Position/partialCloseContract", {"accountId": 1, "contractId": mnq, "size": 1}
        )
        close = await h.call("Position/closeContract", {"accountId": 1, "contractId": mnq})

        assert partial == {"success": False, "errorCode": 6, "errorMessage": None}
        assert (close["success"], close["errorCode"]) == (False, 5)

    run(scenario)


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Order/search", {"accountId": 99, "startTimestamp": EPOCH}),
        ("Order/searchOpen", {"accountId": 99}),
        ("Order/v2/query", {"filter": {"accountId": 99}}),
        ("Position/searchOpen", {"accountId": 99}),
        ("Trade/search", {"accountId": 99, "startTimestamp": EPOCH}),
        ("Order/cancel", {"accountId": 99, "orderId": 1}),
        ("Position/closeContract", {"accountId": 99, "contractId": "CON.F.US.MNQ.Z26"}),
    ],
)
def test_an_unknown_account_is_error_code_1(endpoint: str, body: Json) -> None:
    async def scenario(h: Harness) -> None:
        data = await h.call(endpoint, body)

        assert (data["success"], data["errorCode"]) == (False, 1)

    run(scenario)


def test_order_v2_query_filters_sorts_and_pages() -> None:
    async def scenario(h: Harness) -> None:
        mnq, es = h.front("MNQ"), h.front("EP")
        ids = [(await h.place(contractId=c, type=1, limitPrice=100))["orderId"] for c in (mnq, es, mnq)]

        page = await h.call(
            "Order/v2/query",
            {
                "filter": {"accountId": 1, "contractId": mnq, "statuses": [1]},
                "sortBy": 1,
                "sortDirection": 1,
                "pageSize": 1,
                "pageOffset": 0,
                "includeTotalCount": True,
            },
        )

        assert [o["id"] for o in page["orders"]] == [ids[2]]
        assert page["totalCount"] == 2

    run(scenario)


# -- protocol edges ------------------------------------------------------------------------------


def test_malformed_bodies_get_400_problem_details_and_a_wrong_content_type_415() -> None:
    async def scenario(h: Harness) -> None:
        token = await h.login()
        auth = {"Authorization": f"Bearer {token}"}
        json_type = {**auth, "Content-Type": "application/json"}

        broken = await h.http.post("/api/Order/place", content=b"{not json", headers=json_type)
        missing = await h.api("Order/place", {"accountId": 1})
        login = await h.http.post("/api/Auth/loginKey", json={"userName": "demo"})
        text = await h.http.post(
            "/api/Account/search", content=b"x", headers={**auth, "Content-Type": "text/plain"}
        )

        assert broken.status_code == 400 and broken.headers["content-type"].startswith(
            "application/problem+json"
        )
        assert broken.json()["title"] == "One or more validation errors occurred."
        assert missing.status_code == 400 and "$.contractId" in missing.json()["errors"]
        assert login.status_code == 400
        assert text.status_code == 415

    run(scenario)


def test_unknown_paths_404_wrong_methods_405_and_paths_are_case_insensitive() -> None:
    async def scenario(h: Harness) -> None:
        await h.login()

        assert (await h.api("Nope/nothing")).status_code == 404
        assert (await h.http.get("/api/Account/search")).status_code == 405
        assert (await h.api("account/SEARCH", {"onlyActiveAccounts": False})).status_code == 200

    run(scenario)


def test_requests_above_the_rate_limit_get_429_until_the_window_moves() -> None:
    async def scenario(h: Harness) -> None:
        statuses = [(await h.http.get("/api/Status/ping")).status_code for _ in range(6)]
        await h.sim("/sim/rate-limit", {"limit": 2, "window": 60})
        after_reset = [(await h.http.get("/api/Status/ping")).status_code for _ in range(3)]

        assert statuses == [200] * 5 + [429]
        assert after_reset == [200, 200, 429]
        assert (await h.state())["rateLimit"] == {"limit": 2, "window": 60.0, "used": 2}

    run(scenario, rate_limit=5)


# -- scripted faults -----------------------------------------------------------------------------


def test_sim_fail_answers_the_next_calls_with_the_scripted_status_then_recovers() -> None:
    async def scenario(h: Harness) -> None:
        await h.login()
        await h.sim("/sim/fail", {"endpoint": "Account/search", "times": 2, "status": 503})
        await h.sim("/sim/fail", {"endpoint": "/api/Order/searchOpen", "status": 200, "errorCode": 7})

        statuses = [
            (await h.api("Account/search", {"onlyActiveAccounts": True})).status_code for _ in range(3)
        ]
        business = await h.call("Order/searchOpen", {"accountId": 1})
        unknown = await h.sim("/sim/fail", {"endpoint": "Order/teleport"}, status=400)

        assert statuses == [503, 503, 200]
        assert (business["success"], business["errorCode"]) == (False, 7)
        assert "unknown endpoint 'Order/teleport'" in unknown["error"]

    run(scenario)


def test_sim_fail_with_apply_takes_effect_and_loses_the_answer() -> None:
    async def scenario(h: Harness) -> None:
        await h.sim("/sim/fail", {"endpoint": "Order/place", "status": 500, "apply": True})

        response = await h.api(
            "Order/place", {"accountId": 1, "contractId": h.front("MNQ"), "type": 2, "side": 0, "size": 1}
        )

        assert response.status_code == 500
        assert len((await h.call("Position/searchOpen", {"accountId": 1}))["positions"]) == 1

    run(scenario)


def test_sim_delay_holds_the_next_call_only() -> None:
    async def scenario(h: Harness) -> None:
        await h.login()
        await h.sim("/sim/delay", {"endpoint": "Account/search", "seconds": 0.3})

        started = time.monotonic()
        first = await h.api("Account/search", {"onlyActiveAccounts": True})
        slow = time.monotonic() - started
        started = time.monotonic()
        await h.api("Account/search", {"onlyActiveAccounts": True})
        fast = time.monotonic() - started

        assert first.status_code == 200
        assert slow >= 0.3 > fast

    run(scenario)
