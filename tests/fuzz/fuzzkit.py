"""Hostile inputs for the fuzz tests: JSON values, near-valid gateway payloads, YAML documents.

A uniquely named module (not conftest). The strategies aim at what a broken or hostile
gateway could send: wrong types, missing fields, huge and tiny numbers, NaN and
Infinity, unknown enum values, odd unicode, deep nesting; near-valid payloads start
from a real one and break a few fields, so they reach past the first type check.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

ACCOUNT = 7
MNQ = "CON.F.US.MNQ.H26"
AT = "2026-03-10T14:00:01Z"

#: One valid payload per hub event, as the gateway sends it (bare; wrapping is drawn separately).
VALID: dict[str, dict[str, Any]] = {
    "GatewayUserAccount": {"id": ACCOUNT, "name": "PRAC-7", "balance": 50000.0, "canTrade": True,
                           "isVisible": True, "simulated": True},
    "GatewayUserOrder": {"id": 3000000001, "accountId": ACCOUNT, "contractId": MNQ, "symbolId": "F.US.MNQ",
                         "creationTimestamp": AT, "updateTimestamp": AT, "status": 1, "type": 1, "side": 0,
                         "size": 1, "limitPrice": 20900.0, "stopPrice": None, "fillVolume": 0,
                         "filledPrice": None, "customTag": None},
    "GatewayUserPosition": {"id": 100000001, "accountId": ACCOUNT, "contractId": MNQ,
                            "creationTimestamp": AT, "type": 1, "size": 1, "averagePrice": 21000.0},
    "GatewayUserTrade": {"id": 3500000001, "accountId": ACCOUNT, "contractId": MNQ, "creationTimestamp": AT,
                         "price": 21000.0, "profitAndLoss": None, "fees": 0.37, "side": 0, "size": 1,
                         "voided": False, "orderId": 3000000001},
    "GatewayQuote": {"symbol": "F.US.MNQ", "lastPrice": 21000.0, "bestBid": 20999.75, "bestAsk": 21000.0,
                     "timestamp": AT},
}  # fmt: skip
USER_EVENTS = ("GatewayUserAccount", "GatewayUserOrder", "GatewayUserPosition", "GatewayUserTrade")

#: Strings a parser may choke on: numbers in disguise, broken dates, control and odd unicode.
NASTY_TEXT = (
    "", " ", "NaN", "nan", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "0x10", "١٢٣", "1_000",
    "2026-13-45T99:99:99Z", "2026-03-10T14:00:01", "0000-00-00", "9999-12-31T23:59:59.999999999Z",
    "\x00", "\u202e", "\ud7ff", "🚀", "CON.F.US.MNQ", "CON..US..", "CON.F.US.🚀.H26", "a" * 300,
)  # fmt: skip
NASTY_NUMBERS = (
    0, -1, 1, 2**31, 2**31 - 1, -(2**31), 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(10**30),
    1e-300, 1e300, -1e300, 5e-324, 1.7976931348623157e308, math.nan, math.inf, -math.inf, 0.1, 0.125,
    21000.123456789, -0.0,
)  # fmt: skip

#: Well-formed timestamps at the ends of time (and a few odd but valid spellings).
EXTREME_TIMES = (
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59-12:00", "1970-01-01T00:00:00Z", "2026-03-10T14:00:01.123456789+00:00",
    "2026-03-10 14:00:01Z", "2026-03-08T07:00:00Z", "2026-11-01T05:30:00Z",
)  # fmt: skip

scalars = st.one_of(
    st.sampled_from(EXTREME_TIMES),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NASTY_NUMBERS),
    st.text(max_size=20),
    st.sampled_from(NASTY_TEXT),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)


def deep(depth: int) -> Any:
    """``{"data": [{"data": ... {"id": 1}}], "action": 1}`` nested ``depth`` times."""
    value: Any = {"id": 1}
    for level in range(depth):
        value = [value] if level % 2 else {"data": value, "action": 1}
    return value


#: Values nested far past anything the gateway sends (deeper ones: see the hub tests' own cases;
#: hypothesis itself cannot print an example nested past the recursion limit).
deeply_nested = st.sampled_from([deep(50), deep(400)])


@st.composite
def near_valid(draw: st.DrawFn, kind: str | None = None) -> tuple[str, Any]:
    """``(event type, payload)``: a real payload with a few fields broken, dropped or added,
    sometimes wrapped ``{action, data}`` or in a list as the live hub may send it."""
    kind = kind or draw(st.sampled_from(sorted(VALID)))
    payload = dict(VALID[kind])
    fields = sorted(payload)
    for name in draw(st.lists(st.sampled_from(fields), max_size=3, unique=True)):
        payload[name] = draw(st.one_of(json_values, st.sampled_from(NASTY_NUMBERS), deeply_nested))
    for name in draw(st.lists(st.sampled_from(fields), max_size=2, unique=True)):
        payload.pop(name, None)
    extra = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2))
    payload.update({k: v for k, v in extra.items() if k not in VALID[kind]})
    shape = draw(st.sampled_from(["bare", "wrapped", "list", "wrapped-list"]))
    wrapped: Any = payload
    if shape == "wrapped":
        wrapped = {"action": draw(st.one_of(st.integers(-3, 9), json_values)), "data": payload}
    elif shape == "list":
        wrapped = [payload]
    elif shape == "wrapped-list":
        wrapped = [{"action": 1, "data": payload}, draw(json_values)]
    return kind, wrapped


@st.composite
def hub_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A SignalR message as the hub's decoder hands it over: mostly invocations of our
    events (near-valid or plain garbage arguments), sometimes other message types."""
    style = draw(st.sampled_from(["event", "event", "event", "garbage-args", "other-type", "odd-target"]))
    if style == "event":
        kind, payload = draw(near_valid())
        arguments: Any = [MNQ, payload] if kind == "GatewayQuote" else [payload]
        return {"type": 1, "target": kind, "arguments": arguments}
    if style == "garbage-args":
        target = draw(st.sampled_from([*sorted(VALID), "GatewayTrade", "GatewayDepth"]))
        return {"type": 1, "target": target, "arguments": draw(json_values)}
    if style == "odd-target":
        return {"type": 1, "target": draw(json_values), "arguments": draw(st.lists(json_values, max_size=2))}
    kind_value = draw(st.one_of(st.integers(-2, 12).filter(lambda k: k not in (1, 7)), json_values))
    return {"type": kind_value, **draw(st.dictionaries(st.text(max_size=10), json_values, max_size=3))}


def now() -> datetime:
    return datetime(2026, 3, 10, 14, 0, 1, tzinfo=UTC)


__all__ = [
    "ACCOUNT",
    "AT",
    "EXTREME_TIMES",
    "MNQ",
    "NASTY_NUMBERS",
    "NASTY_TEXT",
    "USER_EVENTS",
    "VALID",
    "deep",
    "deeply_nested",
    "hub_messages",
    "json_values",
    "near_valid",
    "now",
    "scalars",
]
