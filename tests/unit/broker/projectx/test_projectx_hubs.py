"""Hub connections against an in-process SignalR hub on 127.0.0.1: the bytes we send and parse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from broker_payloads import ES, MNQ, order_payload, position_payload, quote_payload
from projectx_fakes import (
    API_KEY,
    T0,
    USERNAME,
    FakeGateway,
    FakeHub,
    FakeTokens,
    HubSession,
    RecordingSleep,
    eventually,
)

from risk_manager.broker.projectx.client import ProjectXClient
from risk_manager.broker.projectx.hubs import MarketHub, UserHub, hub_url
from risk_manager.broker.projectx.signalr import MessageType, close, completion, invocation
from risk_manager.broker.projectx.wire import wrap
from risk_manager.domain import Event, OrderUpdated, PositionUpdated, QuoteReceived
from risk_manager.schedule.clock import ManualClock

ACCOUNT = 101
USER_SUBSCRIPTIONS = [
    ("SubscribeAccounts", []),
    ("SubscribeOrders", [ACCOUNT]),
    ("SubscribePositions", [ACCOUNT]),
    ("SubscribeTrades", [ACCOUNT]),
]


class Events:
    """An on_event sink the test can await."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, object, Event]] = []
        self._queue: asyncio.Queue[tuple[str, object, Event]] = asyncio.Queue()

    def __call__(self, type: str, raw: object, event: Event) -> None:
        self.seen.append((type, raw, event))
        self._queue.put_nowait((type, raw, event))

    async def next(self, timeout: float = 3.0) -> tuple[str, object, Event]:
        return await asyncio.wait_for(self._queue.get(), timeout)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async def go() -> None:
        async with asyncio.timeout(10):
            await scenario()

    asyncio.run(go())


def options(**overrides: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {"clock": ManualClock(T0), "sleep": RecordingSleep(), "random": lambda: 0.5}
    return {**defaults, **overrides}


async def subscriptions(session: HubSession, count: int) -> list[tuple[str, list[Any]]]:
    calls = await session.expect(count, type=MessageType.INVOCATION)
    assert all(call.get("invocationId") for call in calls)  # so the hub answers with a Completion
    return [(call["target"], call["arguments"]) for call in calls]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://rtc.topstepx.com/hubs/user", "wss://rtc.topstepx.com/hubs/user?access_token=a.b%2Bc"),
        ("http://127.0.0.1:8765/hubs/market", "ws://127.0.0.1:8765/hubs/market?access_token=a.b%2Bc"),
        ("wss://h/hubs/user?x=1", "wss://h/hubs/user?x=1&access_token=a.b%2Bc"),
    ],
)
def test_hub_url_goes_straight_to_the_websocket_with_the_token(url: str, expected: str) -> None:
    assert hub_url(url, "a.b+c") == expected


def test_user_hub_handshakes_subscribes_and_delivers_a_wrapped_event() -> None:
    async def scenario() -> None:
        events = Events()
        async with FakeHub() as server:
            hub = UserHub(server.url("http"), FakeTokens("tok-1"), events, accounts=[ACCOUNT], **options())
            hub.start()
            session = await server.next_session()
            assert session.token == "tok-1"
            assert await subscriptions(session, 4) == USER_SUBSCRIPTIONS
            await hub.wait_connected()
            payload = wrap(order_payload(id=77), action=1)
            await session.send(completion("1"), invocation("GatewayUserOrder", payload))
            type, raw, event = await events.next()
            assert (type, raw) == ("GatewayUserOrder", payload)
            assert isinstance(event, OrderUpdated) and event.order.id == 77 and event.at == T0
            await hub.close()

    run(scenario)


def test_events_in_a_list_are_delivered_one_by_one() -> None:
    async def scenario() -> None:
        events = Events()
        async with FakeHub() as server:
            hub = UserHub(server.url(), FakeTokens("tok-1"), events, accounts=[ACCOUNT], **options())
            hub.start()
            session = await server.next_session()
            await subscriptions(session, 4)
            flat = position_payload(size=0, type=0)
            await session.send(
                invocation("GatewayUserPosition", [wrap(position_payload(), 1), wrap(flat, 2)])
            )
            first, second = await events.next(), await events.next()
            assert isinstance(first[2], PositionUpdated) and first[2].position.size == 2
            assert isinstance(second[2], PositionUpdated) and second[2].position.size == 0
            assert second[1] == flat  # one of several: its own object is the raw payload
            await hub.close()

    run(scenario)


def test_the_client_pings_and_server_pings_keep_it_alive() -> None:
    async def scenario() -> None:
        async with FakeHub() as server:
            hub = UserHub(server.url(), FakeTokens("tok-1"), Events(), **options(ping_interval=0.02))
            hub.start()
            session = await server.next_session()
            await session.send({"type": MessageType.PING})
            assert await session.expect(2, type=MessageType.PING) == [{"type": 6}] * 2
            assert hub.connections == 1
            await hub.close()

    run(scenario)


def test_silence_is_a_dead_connection_and_the_hub_reconnects() -> None:
    async def scenario() -> None:
        sleep = RecordingSleep()
        async with FakeHub() as server:
            hub = UserHub(
                server.url(), FakeTokens("tok-1"), Events(), **options(server_timeout=0.2, sleep=sleep)
            )
            hub.start()
            await server.next_session()
            await server.next_session()  # after 0.2 s of silence
            assert sleep.delays == [1.0]
            await hub.close()

    run(scenario)


def test_a_reconnect_resubscribes_with_the_current_token_and_resyncs_holding_events() -> None:
    async def scenario() -> None:
        events = Events()
        tokens = FakeTokens("tok-1")
        resync_started, resync_may_end = asyncio.Event(), asyncio.Event()
        resyncs: list[int] = []

        async def on_reconnected() -> None:
            resyncs.append(len(events.seen))
            resync_started.set()
            await resync_may_end.wait()

        sleep = RecordingSleep()
        async with FakeHub() as server:
            hub = UserHub(
                server.url(),
                tokens,
                events,
                accounts=[ACCOUNT],
                on_reconnected=on_reconnected,
                **options(sleep=sleep),
            )
            hub.start()
            first = await server.next_session()
            await subscriptions(first, 4)
            tokens.current = "tok-2"  # refreshed meanwhile
            await first.drop()
            second = await server.next_session()
            assert second.token == "tok-2" and sleep.delays == [1.0]
            assert await subscriptions(second, 4) == USER_SUBSCRIPTIONS
            await resync_started.wait()
            await second.send(invocation("GatewayUserOrder", wrap(order_payload(id=1), 1)))
            await second.send(invocation("GatewayUserOrder", wrap(order_payload(id=2), 1)))
            await eventually(lambda: len(hub._held) == 2)  # read from the socket, held back
            assert events.seen == []
            resync_may_end.set()
            ids = [(await events.next())[2], (await events.next())[2]]
            assert [e.order.id for e in ids if isinstance(e, OrderUpdated)] == [1, 2]
            assert resyncs == [0] and hub.connections == 2
            await hub.close()

    run(scenario)


def test_a_new_token_reconnects_at_once() -> None:
    async def scenario() -> None:
        tokens = FakeTokens("tok-1")
        sleep = RecordingSleep()
        async with FakeHub() as server:
            hub = UserHub(server.url(), tokens, Events(), **options(sleep=sleep))
            hub.start()
            await server.next_session()
            await hub.wait_connected()
            tokens.current = "tok-2"
            hub.token_changed("tok-2")
            second = await server.next_session()
            assert second.token == "tok-2" and sleep.delays == [0.0]
            await hub.close()

    run(scenario)


def test_gateway_logout_logs_in_again_and_reconnects() -> None:
    async def scenario() -> None:
        tokens = FakeTokens("tok-1", "tok-2")
        async with FakeHub() as server:
            hub = UserHub(server.url(), tokens, Events(), accounts=[ACCOUNT], **options())
            hub.start()
            first = await server.next_session()
            await subscriptions(first, 4)
            await first.send(invocation("GatewayLogout"))
            second = await server.next_session()
            assert tokens.rejected == ["tok-1"] and second.token == "tok-2"
            assert await subscriptions(second, 4) == USER_SUBSCRIPTIONS
            await hub.close()

    run(scenario)


def test_a_refused_token_at_the_upgrade_means_log_in_again() -> None:
    async def scenario() -> None:
        tokens = FakeTokens("tok-stale", "tok-2")
        async with FakeHub(refuse={"tok-stale"}) as server:
            hub = UserHub(server.url(), tokens, Events(), **options())
            hub.start()
            session = await server.next_session()
            assert server.refused == ["tok-stale"] and session.token == "tok-2" and tokens.relogins == 1
            await hub.close()

    run(scenario)


def test_a_malformed_event_is_logged_once_with_its_type_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        events = Events()
        async with FakeHub() as server:
            hub = UserHub(server.url(), FakeTokens("tok-1"), events, **options())
            hub.start()
            session = await server.next_session()
            bad = wrap(order_payload(side=7), 1)
            await session.send(
                invocation("GatewayUserOrder", bad),
                invocation("GatewayUserOrder", {"id": "nope"}),
                invocation("GatewayUserTrade", 42),
                invocation("GatewayUserOrder", wrap(order_payload(id=5), 1)),
            )
            type, _, event = await events.next()
            assert type == "GatewayUserOrder" and isinstance(event, OrderUpdated) and event.order.id == 5
            assert hub.malformed == {"GatewayUserOrder": 2, "GatewayUserTrade": 1}
            assert hub.connections == 1 and hub.is_connected
            await hub.close()

    run(scenario)
    warnings = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert len(warnings) == 2
    assert "malformed GatewayUserOrder skipped (1 so far)" in warnings[0] and "'side'" in warnings[0]


def test_a_failing_event_handler_does_not_end_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        events = Events()

        def on_event(type: str, raw: object, event: Event) -> None:
            if isinstance(event, OrderUpdated) and event.order.id == 1:
                raise RuntimeError("engine bug")
            events(type, raw, event)

        async with FakeHub() as server:
            hub = UserHub(server.url(), FakeTokens("tok-1"), on_event, **options())
            hub.start()
            session = await server.next_session()
            await session.send(
                invocation("GatewayUserOrder", wrap(order_payload(id=1), 1)),
                invocation("GatewayUserOrder", wrap(order_payload(id=2), 1)),
            )
            _, _, event = await events.next()
            assert isinstance(event, OrderUpdated) and event.order.id == 2 and hub.connections == 1
            await hub.close()

    run(scenario)
    assert "user hub: handling GatewayUserOrder failed" in caplog.text


def test_market_hub_quotes_and_contracts_following_positions() -> None:
    async def scenario() -> None:
        events = Events()
        async with FakeHub("/hubs/market") as server:
            hub = MarketHub(server.url(), FakeTokens("tok-1"), events, contracts=[MNQ], **options())
            hub.start()
            session = await server.next_session()
            assert await subscriptions(session, 1) == [("SubscribeContractQuotes", [MNQ])]
            await session.send(invocation("GatewayQuote", MNQ, quote_payload(lastPrice=21001.5)))
            type, _, event = await events.next()
            assert type == "GatewayQuote" and isinstance(event, QuoteReceived)
            assert event.quote.contract_id == MNQ and str(event.quote.last) == "21001.5"
            hub.set_contracts([ES])
            assert await subscriptions(session, 2) == [
                ("UnsubscribeContractQuotes", [MNQ]),
                ("SubscribeContractQuotes", [ES]),
            ]
            assert hub.contracts == [ES]
            await hub.close()

    run(scenario)


def test_a_failed_subscription_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with FakeHub() as server:
            hub = UserHub(server.url(), FakeTokens("tok-1"), Events(), accounts=[ACCOUNT], **options())
            hub.start()
            session = await server.next_session()
            calls = await session.expect(4, type=MessageType.INVOCATION)
            orders = next(c for c in calls if c["target"] == "SubscribeOrders")
            await session.send(completion(orders["invocationId"], error="Account not authorised"))
            await session.send({"type": MessageType.PING})
            await eventually(lambda: "SubscribeOrders(101) failed" in caplog.text)
            await hub.close()

    run(scenario)
    assert "user hub: SubscribeOrders(101) failed: Account not authorised" in caplog.text


def test_holding_delivers_events_after_the_block_in_order() -> None:
    async def scenario() -> None:
        events = Events()
        hub = UserHub("http://127.0.0.1:1/hubs/user", FakeTokens("t"), events, **options())
        async with hub.holding():  # the daemon's startup snapshot
            hub._invoked("GatewayUserOrder", [order_payload(id=1)])
            hub._invoked("GatewayUserOrder", [order_payload(id=2)])
            assert events.seen == []
        assert [e.order.id for _, _, e in events.seen if isinstance(e, OrderUpdated)] == [1, 2]

    run(scenario)


def test_remove_account_unsubscribes_only_that_account() -> None:
    hub = UserHub("http://127.0.0.1:1/hubs/user", FakeTokens("t"), Events(), accounts=[1, 2])
    hub.remove_account(1)
    assert hub.accounts == [2]
    assert [t for t, _ in hub.subscriptions] == [
        "SubscribeAccounts",
        "SubscribeOrders",
        "SubscribePositions",
        "SubscribeTrades",
    ]


def test_secrets_in_hub_urls_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = "eyJhbGciOi.SECRET-hub-token.sig"
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with FakeHub(refuse={secret}) as server:
            hub = UserHub(server.url(), FakeTokens(secret, "tok-2"), Events(), **options())
            hub.start()
            await server.next_session()
            await hub.close()

    run(scenario)
    assert "access_token=***" in caplog.text  # websockets logged the request line, masked
    assert "upgrade refused with HTTP 401" in caplog.text
    assert secret not in caplog.text


# -- with the real client as token source: how the daemon wires them -------------------------------


def test_a_refreshed_token_reconnects_both_hubs_with_it_and_resyncs() -> None:
    async def scenario() -> None:
        clock = ManualClock(T0)
        gateway = FakeGateway(clock)
        client = ProjectXClient(
            "http://gateway.test", USERNAME, API_KEY, clock=clock, transport=gateway.transport()
        )
        events = Events()
        resynced = asyncio.Event()

        async def resync() -> None:
            await client.polling.search_open_positions(ACCOUNT)
            resynced.set()

        async with FakeHub("/hubs/user") as users, FakeHub("/hubs/market") as market:
            user = UserHub(
                users.url(), client, events, accounts=[ACCOUNT], on_reconnected=resync, **options(clock=clock)
            )
            quotes = MarketHub(market.url(), client, events, contracts=[MNQ], **options(clock=clock))
            for hub in (user, quotes):
                client.add_token_listener(hub.token_changed)
                hub.start()
            first_user, first_market = await users.next_session(), await market.next_session()
            assert first_user.token == first_market.token == gateway.issued[0]
            await user.wait_connected()
            await quotes.wait_connected()
            clock.advance(hours=23, minutes=56)  # 4 minutes before expiry
            await client.token()  # Auth/validate -> newToken -> both hubs told
            second_user, second_market = await users.next_session(), await market.next_session()
            assert second_user.token == second_market.token == gateway.issued[1]
            assert await subscriptions(second_user, 4) == USER_SUBSCRIPTIONS
            assert await subscriptions(second_market, 1) == [("SubscribeContractQuotes", [MNQ])]
            await asyncio.wait_for(resynced.wait(), 3)
            assert gateway.bearers("Position/searchOpen") == [gateway.issued[1]]
            await user.close()
            await quotes.close()
        await client.aclose()

    run(scenario)


def test_a_hub_refused_at_the_upgrade_makes_the_client_log_in_again() -> None:
    async def scenario() -> None:
        clock = ManualClock(T0)
        gateway = FakeGateway(clock)
        client = ProjectXClient(
            "http://gateway.test", USERNAME, API_KEY, clock=clock, transport=gateway.transport()
        )
        stale = await client.token()
        async with FakeHub(refuse={stale}) as server:
            hub = UserHub(server.url(), client, Events(), **options(clock=clock))
            hub.start()
            session = await server.next_session()
            assert server.refused == [stale] and session.token == gateway.issued[1]
            await hub.close()
        await client.aclose()

    run(scenario)


def test_a_refused_handshake_and_a_server_close_are_retried_with_growing_delays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        sleep = RecordingSleep()
        async with FakeHub(handshake_errors=1) as server:
            hub = UserHub(server.url(), FakeTokens("tok-1"), Events(), **options(sleep=sleep))
            hub.start()
            first = await server.next_session()
            await first.send(close("Server timeout elapsed without receiving a message"))
            await server.next_session()
            assert sleep.delays == [1.0, 2.0]
            await hub.close()

    run(scenario)
    assert "handshake refused: Requested protocol 'json' is not available." in caplog.text
    assert "server closed the connection: Server timeout elapsed" in caplog.text
