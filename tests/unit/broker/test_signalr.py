"""SignalR JSON framing: what the hubs and our client exchange."""

from __future__ import annotations

import pytest

from risk_manager.broker.projectx.signalr import (
    HANDSHAKE_REQUEST,
    Decoder,
    MessageType,
    ProtocolError,
    completion,
    encode,
    invocation,
)


def test_one_frame_may_hold_several_messages_and_a_split_tail() -> None:
    decoder = Decoder()
    text = encode({}) + encode(invocation("GatewayQuote", "CON.F.US.MNQ.H26", {"lastPrice": 1.0}))
    head, tail = text[:-10], text[-10:]
    first = decoder.feed(head)
    assert first == [{}]
    [quote] = decoder.feed(tail)
    assert quote["type"] == MessageType.INVOCATION and quote["arguments"][0] == "CON.F.US.MNQ.H26"


def test_handshake_and_completion_shapes() -> None:
    assert encode(HANDSHAKE_REQUEST) == '{"protocol":"json","version":1}\x1e'
    assert completion("3", error="boom") == {"type": 3, "invocationId": "3", "error": "boom"}
    assert invocation("SubscribeOrders", 12345, invocation_id="3")["invocationId"] == "3"


@pytest.mark.parametrize("bad", ["not json\x1e", "[1, 2]\x1e"])
def test_garbage_is_a_protocol_error(bad: str) -> None:
    with pytest.raises(ProtocolError):
        Decoder().feed(bad)
