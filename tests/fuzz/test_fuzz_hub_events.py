"""Fuzz: hostile hub events through the real parsing path and the real engine.

Messages go where the websocket's decoder would hand them: into the hub's message
handling (``UserHub`` / ``MarketHub``), which unwraps, parses with the wire models and
delivers domain events; those go into the engine on a real SQLite file with the
simulated broker. Whatever arrives, nothing raises out of the hub or the engine, each
rejected event is logged once (a warning, no traceback), and a valid breach sent after
the garbage is still enforced.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fuzzkit import VALID, deep, hub_messages, json_values, near_valid, now
from hypothesis import given
from hypothesis import strategies as st

from engine_desk import ACCOUNT, MNQ, Desk
from risk_manager.broker.projectx.hubs import HubConnection, MarketHub, UserHub
from risk_manager.broker.projectx.signalr import Decoder, ProtocolError, encode
from risk_manager.domain import Event
from risk_manager.schedule import ManualClock

MAX_TWO = {"max_contracts": {"enabled": True, "limit": 2}}


class NoTokens:
    """The hubs are never connected here: messages are handed to them directly."""

    async def token(self) -> str:
        raise AssertionError("not connecting")

    async def relogin(self, rejected: str | None = None) -> str:
        raise AssertionError("not connecting")


class Hubs:
    """Both hubs, parsing into ``events`` exactly as they do live."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object, Event]] = []
        clock = ManualClock(now())
        deliver = self._deliver
        self.user = UserHub(
            "ws://127.0.0.1:9/hubs/user", NoTokens(), deliver, accounts=[ACCOUNT], clock=clock
        )
        self.market = MarketHub("ws://127.0.0.1:9/hubs/market", NoTokens(), deliver, clock=clock)

    def _deliver(self, kind: str, raw: object, event: Event) -> None:
        self.events.append((kind, raw, event))

    def hand(self, message: dict[str, Any]) -> None:
        """One decoded message to the hub that would receive it (quotes: market, the rest: user)."""
        hub: HubConnection = self.market if message.get("target") == "GatewayQuote" else self.user
        assert hub._handle(message) is True  # a malformed event never ends the connection

    def malformed(self) -> int:
        return sum(self.user.malformed.values()) + sum(self.market.malformed.values())


@contextmanager
def fresh_desk() -> Iterator[Desk]:
    """A new engine and database per example: nothing carries over from the one before."""
    with tempfile.TemporaryDirectory() as tmp:
        opened = Desk(Path(tmp), MAX_TWO)
        try:
            yield opened
        finally:
            opened.close()


def breach(desk: Desk, hubs: Hubs) -> None:
    """A valid RULE-001 breach (3 MNQ on a limit of 2), through the same hubs as the garbage."""
    hubs.events.clear()
    quote = {"lastPrice": 21000.0}
    desk.run.broker.observe("GatewayQuote", quote, MNQ)
    hubs.hand({"type": 1, "target": "GatewayQuote", "arguments": [MNQ, quote]})
    position = {**VALID["GatewayUserPosition"], "size": 3, "averagePrice": 21000.0}
    desk.run.broker.observe("GatewayUserPosition", position, None)
    hubs.hand({"type": 1, "target": "GatewayUserPosition", "arguments": [{"action": 1, "data": position}]})
    for kind, raw, event in hubs.events:
        desk.handle(kind, raw, event)


@given(messages=st.lists(hub_messages(), min_size=1, max_size=8))
def test_garbage_never_escapes_the_hub_or_the_engine_and_a_breach_after_it_is_enforced(
    messages: list[dict[str, Any]],
) -> None:
    hubs = Hubs()
    for message in messages:
        hubs.hand(message)
    with fresh_desk() as desk:
        for kind, raw, event in hubs.events:  # what parsed is handled: it must not raise either
            desk.handle(kind, raw, event)
        desk.jump(desk.run.clock.now() + timedelta(seconds=1))  # a tick: timers, flush to the store
        desk.engine.flush(desk.run.clock.now())
        assert not desk.engine.store.store_error, desk.engine.store.error  # garbage never poisons it
        desk.records.clear()
        desk.engine.states[ACCOUNT].pending_closes.clear()  # a cut the garbage provoked is not awaited
        breach(desk, hubs)
        assert ("reduce", "RULE-001") in desk.actions() or ("close", "RULE-001") in desk.actions()


class Captured(logging.Handler):
    """Every record of the ``risk_manager`` loggers while in use (caplog is per test, not per example)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Captured:
        logging.getLogger("risk_manager").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("risk_manager").removeHandler(self)


@given(kind_payload=near_valid())
def test_each_rejected_event_is_logged_once_without_a_traceback(kind_payload: tuple[str, Any]) -> None:
    kind, payload = kind_payload
    hubs = Hubs()
    arguments = [MNQ, payload] if kind == "GatewayQuote" else [payload]
    with Captured() as logs:
        hubs.hand({"type": 1, "target": kind, "arguments": arguments})
    rejected = hubs.malformed()
    warnings = [r for r in logs.records if r.levelno >= logging.WARNING]
    assert len(warnings) == (1 if rejected else 0), [r.getMessage() for r in warnings]
    assert all(r.exc_info is None for r in warnings)
    if rejected:
        assert kind in warnings[0].getMessage()


def test_a_flood_of_one_malformed_event_is_counted_exactly_and_logged_sparingly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hubs = Hubs()
    broken = {"type": 1, "target": "GatewayUserTrade", "arguments": [{"id": "x"}]}
    with caplog.at_level(logging.WARNING, logger="risk_manager"):
        for _ in range(250):
            hubs.hand(broken)
    assert hubs.user.malformed["GatewayUserTrade"] == 250
    assert len(caplog.records) == 3  # the first, the 100th and the 200th, each with the count


@pytest.mark.parametrize("depth", [50, 400, 3000])
@pytest.mark.parametrize("kind", sorted(VALID))
def test_nesting_past_the_recursion_limit_is_rejected_not_raised(depth: int, kind: str) -> None:
    hubs = Hubs()
    payload = deep(depth)
    arguments = [MNQ, payload] if kind == "GatewayQuote" else [payload]
    hubs.hand({"type": 1, "target": kind, "arguments": arguments})
    assert hubs.events == [] or hubs.malformed() == 0


@given(
    text=st.one_of(
        st.text(max_size=200), st.builds(encode, st.dictionaries(st.text(max_size=5), json_values))
    )
)
def test_any_frame_text_decodes_to_messages_or_a_protocol_error(text: str) -> None:
    try:
        messages = Decoder().feed(text + "\x1e")
    except ProtocolError:
        return
    assert all(isinstance(message, dict) for message in messages)


@pytest.mark.parametrize("depth", [100, 5000, 100_000])
def test_a_frame_nested_too_deeply_is_a_protocol_error(depth: int) -> None:
    """One such frame used to raise RecursionError out of the decoder, which ended the hub's task
    for good: no reconnect, no more events (caught by this suite)."""
    frame = '{"type":1,"target":"GatewayUserOrder","arguments":[' + "[" * depth + "]" * depth + "]}\x1e"
    try:
        messages = Decoder().feed(frame)
    except ProtocolError:
        return
    assert messages[0]["target"] == "GatewayUserOrder"
