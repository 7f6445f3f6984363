"""The simulator's SignalR hubs over real WebSockets (PROJECTX.md §4): protocol, events, scripted trouble."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from gateway_harness import Harness, HubClient, Json, run, user_events
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from risk_manager.broker.projectx.signalr import invocation
from risk_manager.broker.projectx.wire import WireOrder, WirePosition, WireQuote, WireTrade, parse_event

# -- connecting and the protocol -----------------------------------------------------------------


@pytest.mark.parametrize("hub", ["user", "market"])
def test_handshake_is_answered_with_an_empty_object(hub: str) -> None:
    async def scenario(h: Harness) -> None:
        client = await h.hub(hub, handshake=False)

        assert await client.handshake() == {}

    run(scenario)


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        ({"protocol": "messagepack", "version": 1}, "The protocol 'messagepack' is not supported."),
        ({"protocol": "json", "version": 2}, "The server does not support version 2 of the 'json' protocol."),
        ({"hello": "there"}, "An unexpected error occurred during connection handshake."),
    ],
)
def test_a_bad_handshake_gets_an_error_and_the_socket_closes(request_: Json, error: str) -> None:
    async def scenario(h: Harness) -> None:
        client = await h.hub("user", handshake=False)

        assert await client.handshake(request_) == {"error": error}
        with pytest.raises(ConnectionClosed):
            await client.next()

    run(scenario)


def test_connecting_without_or_with_an_expired_token_is_refused_with_401() -> None:
    async def scenario(h: Harness) -> None:
        token = await h.login()
        await h.sim("/sim/expire-tokens")

        for url in (h.gw.user_hub_url, f"{h.gw.market_hub_url}?access_token={token}"):
            with pytest.raises(InvalidStatus) as refused:
                await connect(url, open_timeout=2)
            assert refused.value.response.status_code == 401

    run(scenario)


def test_expiring_tokens_leaves_open_sockets_open() -> None:
    async def scenario(h: Harness) -> None:
        client = await h.user_hub()
        await h.sim("/sim/expire-tokens")

        completion = await client.invoke("SubscribeOrders", 2, invocation_id="after")

        assert completion == {"type": 3, "invocationId": "after"}

    run(scenario)


def test_negotiate_then_connect_with_the_connection_token() -> None:
    async def scenario(h: Harness) -> None:
        token = await h.login()
        response = await h.http.post(f"/hubs/user/negotiate?negotiateVersion=1&access_token={token}")
        negotiated = response.json()
        unauthorised = await h.http.post("/hubs/user/negotiate?negotiateVersion=1")

        connection = f"{h.gw.user_hub_url}?id={negotiated['connectionToken']}&access_token={token}"
        client = HubClient(await connect(connection, open_timeout=2))
        with pytest.raises(InvalidStatus) as reused:
            await connect(connection, open_timeout=2)

        assert response.status_code == 200 and negotiated["negotiateVersion"] == 1
        assert negotiated["availableTransports"][0]["transport"] == "WebSockets"
        assert unauthorised.status_code == 401
        assert await client.handshake() == {}
        assert reused.value.response.status_code == 404

    run(scenario)


def test_the_hub_pings_an_idle_client_and_takes_client_pings_silently() -> None:
    async def scenario(h: Harness) -> None:
        client = await h.hub("user")
        await client.send({"type": 6})

        assert await client.next(pings=True) == {"type": 6}
        assert await client.fence() == []

    run(scenario, ping_interval=0.2)


def test_a_silent_client_is_closed_after_the_client_timeout() -> None:
    async def scenario(h: Harness) -> None:
        client = await h.hub("user")

        close = await client.next(timeout=2)
        with pytest.raises(ConnectionClosed):
            await client.next()

        assert close["type"] == 7

    run(scenario, client_timeout=0.3)


def test_unknown_targets_and_bad_arguments_complete_with_an_error_only_when_an_id_is_given() -> None:
    async def scenario(h: Harness) -> None:
        client = await h.hub("user")
        await client.send(invocation("NoSuchMethod"))  # no invocationId: no answer at all

        unknown = await client.invoke("NoSuchMethod", invocation_id="7")
        bad_args = await client.invoke("SubscribeOrders", "one", invocation_id="8")
        no_args = await client.invoke("SubscribeOrders", invocation_id="9")
        market_on_user = await client.invoke(
            "SubscribeContractQuotes", "CON.F.US.MNQ.Z26", invocation_id="10"
        )
        case_insensitive = await client.invoke("subscribeorders", 1, invocation_id="11")

        assert unknown == {
            "type": 3,
            "invocationId": "7",
            "error": "Failed to invoke 'NoSuchMethod' due to an error on the server. "
            "HubException: Method does not exist.",
        }
        assert bad_args["error"] == "Failed to invoke 'SubscribeOrders' due to an error on the server."
        assert "error" in no_args and "error" in market_on_user
        assert case_insensitive == {"type": 3, "invocationId": "11"}

    run(scenario)


def test_a_close_message_from_the_client_ends_the_connection() -> None:
    async def scenario(h: Harness) -> None:
        client = await h.hub("market")
        await client.invoke("SubscribeContractQuotes", h.front("MNQ"))

        await client.send({"type": 7})
        with pytest.raises(ConnectionClosed):
            await client.next()

        assert await _wait_for_connections(h, 0)

    run(scenario)


async def _wait_for_connections(h: Harness, count: int) -> bool:
    """Until /sim/state shows ``count`` hub connections (the server notices a close asynchronously)."""
    async with asyncio.timeout(3):
        while len((await h.state())["connections"]) != count:
            await asyncio.sleep(0.01)
    return True


# -- user hub events -----------------------------------------------------------------------------


def test_a_fill_arrives_as_order_trade_position_each_wrapped_action_data() -> None:
    async def scenario(h: Harness) -> None:
        client = await h.user_hub(1)
        mnq = h.front("MNQ")
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21000.5})

        placed = await h.place(size=2)
        events = user_events(await client.events(5))

        assert [(target, action) for target, action, _ in events] == [
            ("GatewayUserOrder", 1),
            ("GatewayUserOrder", 1),
            ("GatewayUserTrade", 0),
            ("GatewayUserPosition", 1),
            ("GatewayUserAccount", 1),
        ]
        pending, filled, trade, position, account = (data for _, _, data in events)
        assert (pending["id"], pending["status"]) == (placed["orderId"], 6)
        assert (filled["status"], filled["filledPrice"], filled["fillVolume"]) == (2, 21000.5, 2)
        assert (trade["orderId"], trade["price"], trade["profitAndLoss"]) == (
            placed["orderId"],
            21000.5,
            None,
        )
        assert (position["type"], position["size"], position["averagePrice"]) == (1, 2, 21000.5)
        assert account["balance"] == 50000 - 0.74
        for model, data in ((WireOrder, filled), (WireTrade, trade), (WirePosition, position)):
            model.model_validate(data)

    run(scenario)


def test_a_closed_position_arrives_with_action_2_size_0_type_0() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        await h.place(size=1)
        client = await h.user_hub(1)

        await h.call("Position/closeContract", {"accountId": 1, "contractId": mnq})
        events = user_events(await client.events(5))

        position = next((action, data) for target, action, data in events if target == "GatewayUserPosition")
        assert position[0] == 2
        assert (position[1]["size"], position[1]["type"]) == (0, 0)
        parse_event("GatewayUserPosition", {"action": 2, "data": position[1]}, h.gw.simulator.clock())

    run(scenario)


def test_subscribing_sends_no_snapshot_and_other_accounts_orders_stay_silent() -> None:
    async def scenario(h: Harness) -> None:
        await h.place(size=1)  # account 1 holds a position before anyone subscribes
        client = await h.user_hub(1)

        assert await client.fence() == []
        await h.place(accountId=2, size=1)
        others = user_events(await client.fence())

        # SubscribeAccounts covers every account of the user; orders, trades, positions are per account.
        assert [(target, data["id"]) for target, _, data in others] == [("GatewayUserAccount", 2)]

    run(scenario)


def test_sim_account_flips_can_trade_and_publishes_the_account() -> None:
    async def scenario(h: Harness) -> None:
        client = await h.user_hub(1)

        answer = await h.sim("/sim/account", {"accountId": 2, "canTrade": False})
        ((target, action, data),) = user_events(await client.events(1))
        accounts = (await h.call("Account/search", {"onlyActiveAccounts": False}))["accounts"]

        assert answer["canTrade"] is False
        assert (target, action, data["id"], data["canTrade"]) == ("GatewayUserAccount", 1, 2, False)
        assert [a["canTrade"] for a in accounts] == [True, False]

    run(scenario)


def test_sim_trade_is_the_traders_own_order_and_refusals_are_409() -> None:
    async def scenario(h: Harness) -> None:
        client = await h.user_hub(1)
        mnq = h.front("MNQ")

        placed = await h.sim("/sim/trade", {"accountId": 1, "contractId": mnq, "side": 1, "size": 2})
        events = user_events(await client.events(4))
        refused = await h.sim(
            "/sim/trade", {"accountId": 1, "contractId": mnq, "side": 1, "size": 0}, status=409
        )

        assert placed["ok"] is True
        assert [target for target, _, _ in events][2:] == ["GatewayUserTrade", "GatewayUserPosition"]
        assert events[3][2]["type"] == 2 and events[3][2]["size"] == 2
        assert refused["errorCode"] == 2

    run(scenario)


# -- market hub ----------------------------------------------------------------------------------


def test_a_quote_set_through_sim_reaches_the_market_hub_with_two_arguments_and_triggers_a_stop() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        market = await h.hub("market")
        assert "error" not in await market.invoke("SubscribeContractQuotes", mnq)
        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21000})
        await market.events(1)
        await h.place(size=1)
        stop = await h.place(type=4, side=1, stopPrice=20995)
        user = await h.user_hub(1)

        await h.sim(
            "/sim/quote", {"contractId": mnq, "lastPrice": 20994.75, "bestBid": 20994.5, "bestAsk": 20995}
        )
        (quote,) = await market.events(1)
        fills = user_events(await user.events(4))

        assert quote["target"] == "GatewayQuote"
        contract_id, data = quote["arguments"]
        assert contract_id == mnq
        WireQuote.model_validate(data)
        assert (data["symbol"], data["lastPrice"], data["bestBid"], data["bestAsk"]) == (
            "F.US.MNQ",
            20994.75,
            20994.5,
            20995,
        )
        filled = fills[0][2]
        assert (filled["id"], filled["status"], filled["filledPrice"]) == (stop["orderId"], 2, 20995)
        assert (fills[2][0], fills[2][1], fills[2][2]["size"]) == ("GatewayUserPosition", 2, 0)

    run(scenario)


def test_the_random_walk_is_reproducible_with_a_seed() -> None:
    def prices(seed: int) -> list[float]:
        seen: list[float] = []

        async def scenario(h: Harness) -> None:
            market = await h.hub("market")
            await market.invoke("SubscribeContractQuotes", h.front("MNQ"))
            seen.extend(message["arguments"][1]["lastPrice"] for message in await market.events(5))

        run(scenario, seed=seed, quote_rate=100)
        return seen

    first, again, other = prices(7), prices(7), prices(8)

    assert first == again
    assert first != other
    assert all(price % 0.25 == 0 for price in first)


def test_market_trades_and_depth_subscriptions_receive_lists() -> None:
    async def scenario(h: Harness) -> None:
        mnq = h.front("MNQ")
        market = await h.hub("market")
        await market.invoke("SubscribeContractTrades", mnq, invocation_id="t")
        await market.invoke("SubscribeContractMarketDepth", mnq, invocation_id="d")

        await h.sim("/sim/quote", {"contractId": mnq, "lastPrice": 21001})
        trade, depth = await market.events(2)

        assert trade["target"] == "GatewayTrade" and trade["arguments"][0] == mnq
        assert trade["arguments"][1][0]["price"] == 21001
        assert depth["target"] == "GatewayDepth"
        assert [level["type"] for level in depth["arguments"][1]] == [3, 4]

    run(scenario)


# -- scripted trouble ----------------------------------------------------------------------------


def test_sim_drop_closes_every_socket_and_subscriptions_die_with_them() -> None:
    async def scenario(h: Harness) -> None:
        user = await h.user_hub(1)
        market = await h.hub("market")
        await market.invoke("SubscribeContractQuotes", h.front("MNQ"))

        dropped = await h.sim("/sim/drop")
        for client in (user, market):
            with pytest.raises(ConnectionClosed) as closed:
                await client.next()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        assert await _wait_for_connections(h, 0)
        again = await h.hub("user")

        assert dropped["dropped"] == 2
        await h.place(size=1)
        assert await again.fence() == []  # a new connection starts with no subscriptions

    run(scenario)


def test_a_graceful_drop_sends_a_close_message_first() -> None:
    async def scenario(h: Harness) -> None:
        market = await h.hub("market")
        user = await h.hub("user")

        await h.sim("/sim/drop", {"hub": "market", "graceful": True})
        close = await market.next()

        assert close["type"] == 7 and close["allowReconnect"] is True
        assert await user.fence() == []

    run(scenario)


def test_sim_fail_refuses_the_next_hub_connection_with_the_scripted_status() -> None:
    async def scenario(h: Harness) -> None:
        await h.sim("/sim/fail", {"endpoint": "hubs/user", "status": 503})

        with pytest.raises(InvalidStatus) as refused:
            await h.hub("user")
        client = await h.hub("user")

        assert refused.value.response.status_code == 503
        assert await client.fence() == []

    run(scenario)


def test_sim_malformed_sends_a_bad_payload_and_a_non_json_frame() -> None:
    async def scenario(h: Harness) -> None:
        client = await h.hub("user")

        await h.sim("/sim/malformed", {"kind": "payload"})
        (bad,) = await client.events(1)
        await h.sim("/sim/malformed", {"kind": "json"})
        frame = await client.ws.recv()

        assert bad["target"] == "GatewayUserOrder" and bad["arguments"][0]["data"]["id"] == "not-a-number"
        assert isinstance(frame, str) and frame.endswith("\x1e")
        with pytest.raises(ValueError):
            client._decoder.feed(frame)

    run(scenario)


def test_sim_logout_sends_gateway_logout_on_both_hubs() -> None:
    async def scenario(h: Harness) -> None:
        user, market = await h.hub("user"), await h.hub("market")

        sent = await h.sim("/sim/logout")

        assert sent["sent"] == 2
        for client in (user, market):
            (message,) = await client.events(1)
            assert (message["target"], message["arguments"]) == ("GatewayLogout", [])

    run(scenario)


def test_sim_state_shows_connections_with_their_subscriptions() -> None:
    async def scenario(h: Harness) -> None:
        await h.user_hub(2)

        state = await h.state()

        (connection,) = state["connections"]
        assert connection["hub"] == "user"
        assert (
            connection["subscriptions"]["orders"] == [2] and connection["subscriptions"]["accounts"] is True
        )
        assert [a["name"] for a in state["accounts"]] == ["SIM-1", "SIM-2"]
        assert state["market"]["rate"] == 0

    run(scenario)


def test_sim_rejects_bad_bodies_with_400_and_unknown_things_with_404() -> None:
    async def scenario(h: Harness) -> None:
        typo = await h.sim("/sim/quote", {"contractId": h.front("MNQ"), "lastprice": 1}, status=400)
        unknown = await h.sim("/sim/quote", {"contractId": "CON.F.US.NOPE.Z26", "lastPrice": 1}, status=404)
        account = await h.sim("/sim/account", {"accountId": 9, "canTrade": False}, status=404)
        listing = await h.http.get("/sim")

        assert typo["ok"] is False and "lastPrice" in typo["error"]
        assert unknown["ok"] is False and account["ok"] is False
        assert isinstance(listing, httpx.Response) and "/sim/expire-tokens" in listing.text

    run(scenario)


def test_the_walk_moves_only_contracts_that_are_subscribed_held_or_worked() -> None:
    async def scenario(h: Harness) -> None:
        mnq, es, gold = h.front("MNQ"), h.front("EP"), h.front("GCE")
        assert (await h.state())["market"]["inPlay"] == []
        market = await h.hub("market")

        await market.invoke("SubscribeContractQuotes", mnq)
        await h.place(contractId=es, size=1)
        await h.place(contractId=gold, type=1, limitPrice=100)
        in_play = (await h.state())["market"]["inPlay"]
        await h.sim("/sim/market", {"paused": True, "rate": 25})
        stepped = h.gw.simulator.step_market()

        assert in_play == sorted([mnq, es, gold])
        assert stepped == 3
        (quote,) = await market.events(1)
        assert quote["arguments"][0] == mnq

    run(scenario)
