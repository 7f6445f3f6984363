"""RULE-009 Session Block Outside Hours: the Given/When/Then of SPEC §3 and the edges.

The table runs the pure rule; the replays at the end run the real engine (gate, lock rows,
session unlocks, the reset) on a simulated clock, as ``risk_manager replay`` does.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from factories import ACCOUNT, MNQ, fill, order, state
from risk_manager.config.risk import SessionBlockOutsideConfig
from risk_manager.domain import (
    Decision,
    Evaluate,
    OrderSide,
    OrderUpdated,
    Position,
    PositionUpdated,
    Tick,
)
from risk_manager.engine import Record
from risk_manager.ledger import AccountState
from risk_manager.replay import load_scenario, record_json, replay
from risk_manager.rules import REGISTRY, session_block_outside
from risk_manager.schedule import ExchangeCalendar, HolidayOverrides

NY = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
CL = "CON.F.US.CLE.F26"
ES = "CON.F.US.EP.H26"
A = "account"
FLATTEN = ("cancel_all", "close_all")
#: SPEC's example: holiday 2025-12-25, early close 2025-11-28 13:00 (New York)
CALENDAR = ExchangeCalendar(
    HolidayOverrides(
        NY,
        {date(2025, 12, 25): "Christmas"},
        {date(2025, 11, 28): (time(13, 0), "Day after Thanksgiving")},
    )
)
SESSION = {
    "start": "09:30",
    "end": "16:00",
    "timezone": "America/New_York",
    "days": ["mon", "tue", "wed", "thu", "fri"],
}
#: CL in SPEC's per-instrument example: Sunday 17:00 to Monday 16:00 Chicago, and so on to Friday.
CL_WRAP = {
    "start": "17:00",
    "end": "16:00",
    "timezone": "America/Chicago",
    "days": ["sun", "mon", "tue", "wed", "thu"],
}
#: CL trading only 08:00-13:30 Chicago (09:00-14:30 New York), inside the account's window.
CL_DAY = {
    "start": "08:00",
    "end": "13:30",
    "timezone": "America/Chicago",
    "days": ["mon", "tue", "wed", "thu", "fri"],
}


def config(**fields: Any) -> SessionBlockOutsideConfig:
    return SessionBlockOutsideConfig.model_validate({"enabled": True, "session": SESSION, **fields})


def ny(text: str) -> datetime:
    """A New York wall-clock time (``2025-12-02 16:00``) as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=NY).astimezone(UTC)


def chicago(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO).astimezone(UTC)


def given(
    now: datetime,
    *held: tuple[str, int],
    orders: tuple[tuple[int, str, OrderSide, int], ...] = (),
    locks: tuple[str, ...] = (),
    fills: tuple[tuple[str, OrderSide, int], ...] = (),
) -> AccountState:
    """An account holding ``(contract, size)`` positions and working orders, with locks held."""
    st = state(*((cid, size, "100") for cid, size in held))
    st.calendar = CALENDAR
    for order_id, contract_id, side, size in orders:
        st.apply_order(order(order_id, contract_id, side, size, at=now))
    for index, (contract_id, side, size) in enumerate(fills, start=1):
        st.apply_fill(fill(index, contract_id, side, size, "100", at=now), count_as_trade=True)
    st.held_locks = {("RULE-009", scope) for scope in locks}
    return st


def summary(decisions: list[Decision]) -> list[tuple[str | None, datetime | None, tuple[str, ...]]]:
    """(lock scope, lock until, action kinds) per decision."""
    return [
        (
            d.lock.scope if d.lock else None,
            d.lock.until if d.lock else None,
            tuple(a.kind.value for a in d.actions),
        )
        for d in decisions
    ]


def an_entry(now: datetime, contract_id: str = MNQ) -> PositionUpdated:
    return PositionUpdated(now, Position(ACCOUNT, contract_id, 1, Decimal(100), now))


def a_buy_order(now: datetime, contract_id: str = MNQ, order_id: int = 7) -> OrderUpdated:
    return OrderUpdated(now, order(order_id, contract_id, OrderSide.BUY, 1, at=now))


# --------------------------------------------------------------------------- SPEC §3 examples and edges


def case(
    when: datetime,
    trigger: str,
    expected: list[tuple[str, datetime | None, tuple[str, ...]]],
    *,
    held: tuple[tuple[str, int], ...] = ((MNQ, 1),),
    locks: tuple[str, ...] = (),
    **fields: Any,
) -> tuple[Any, ...]:
    return (when, trigger, held, locks, fields, expected)


@pytest.mark.parametrize(
    ("when", "trigger", "held", "locks", "fields", "expected"),
    [
        # G 09:30-16:00 Mon-Fri, holiday 2025-12-25, early close 2025-11-28 13:00:
        # 1. W Tue 08:00 MNQ +1 fills. T closed; LOCKED until Tue 09:30.
        pytest.param(
            *case(ny("2025-12-02 08:00"), "entry", [(A, ny("2025-12-02 09:30"), FLATTEN)]), id="RULE-009.1"
        ),
        # ...the lock taken at Monday's close, the gate closes it (see the replays below); the rule is silent.
        pytest.param(*case(ny("2025-12-02 08:00"), "entry", [], locks=(A,)), id="RULE-009.1-already-locked"),
        # (Tue 10:00 entry: nothing.)
        pytest.param(*case(ny("2025-12-02 10:00"), "entry", []), id="RULE-009.1-tue-10:00-entry"),
        # 2. G position open. W Tue 16:00:00. T flatten, locked until Wed 09:30; Fri 16:00 -> Mon 09:30.
        pytest.param(
            *case(ny("2025-12-02 16:00"), "tick", [(A, ny("2025-12-03 09:30"), FLATTEN)]), id="RULE-009.2"
        ),
        pytest.param(
            *case(ny("2025-12-05 16:00"), "tick", [(A, ny("2025-12-08 09:30"), FLATTEN)]),
            id="RULE-009.2-friday",
        ),
        # 3. W Thu 2025-12-25 10:00 order. T cancelled; locked until Fri 09:30.
        pytest.param(
            *case(ny("2025-12-25 10:00"), "order", [(A, ny("2025-12-26 09:30"), FLATTEN)], held=()),
            id="RULE-009.3",
        ),
        # 4. W Fri 2025-11-28 13:00. T positions closed; locked until Mon 2025-12-01 09:30.
        pytest.param(
            *case(ny("2025-11-28 13:00"), "tick", [(A, ny("2025-12-01 09:30"), FLATTEN)]), id="RULE-009.4"
        ),
        # Edges of [start, end): the start is inside, the end outside.
        pytest.param(*case(ny("2025-12-02 09:30"), "tick", []), id="at-window-start-open"),
        pytest.param(
            *case(ny("2025-12-02 09:29:59"), "tick", [(A, ny("2025-12-02 09:30"), FLATTEN)]),
            id="one-second-before-start-locked",
        ),
        pytest.param(*case(ny("2025-12-02 15:59:59"), "tick", []), id="one-second-before-end-open"),
        pytest.param(*case(ny("2025-11-28 12:59:59"), "tick", []), id="early-close-not-yet"),
        pytest.param(
            *case(ny("2025-11-28 13:00"), "tick", [], respect_holidays=False), id="early-close-ignored"
        ),
        pytest.param(
            *case(ny("2025-12-25 10:00"), "order", [], held=(), respect_holidays=False), id="holiday-ignored"
        ),
        pytest.param(
            *case(ny("2025-12-24 13:00"), "tick", [(A, ny("2025-12-26 09:30"), FLATTEN)]),
            id="exchange-calendar-early-close-christmas-eve",
        ),
        # DST: the lock ends at the wall-clock opening, whatever the offset did over the weekend.
        pytest.param(
            *case(ny("2026-03-06 16:00"), "tick", [(A, datetime(2026, 3, 9, 13, 30, tzinfo=UTC), FLATTEN)]),
            id="dst-spring-forward-weekend",
        ),
        pytest.param(
            *case(ny("2025-10-31 16:00"), "tick", [(A, datetime(2025, 11, 3, 14, 30, tzinfo=UTC), FLATTEN)]),
            id="dst-fall-back-weekend",
        ),
        pytest.param(*case(ny("2026-03-09 09:30"), "tick", []), id="dst-monday-opens-09:30-edt"),
        # Nothing held: the lock alone; the evaluation at startup does the same as the tick.
        pytest.param(
            *case(ny("2025-12-02 16:00"), "tick", [(A, ny("2025-12-03 09:30"), ())], held=()),
            id="nothing-held",
        ),
        pytest.param(
            *case(ny("2025-12-06 12:00"), "evaluate", [(A, ny("2025-12-08 09:30"), FLATTEN)]),
            id="startup-saturday",
        ),
        pytest.param(*case(ny("2025-12-06 12:00"), "tick", [], locks=(A,)), id="lock-held-nothing-new"),
        # close_at_session_end false: held positions stay, the lock alone.
        pytest.param(
            *case(
                ny("2025-12-02 16:00"), "tick", [(A, ny("2025-12-03 09:30"), ())], close_at_session_end=False
            ),
            id="close-at-session-end-false-keeps-positions",
        ),
        # Wrap-around windows (CL 17:00-16:00 Chicago, Sun-Thu openings), per-instrument: symbol scope.
        pytest.param(
            *case(
                chicago("2026-03-08 16:59"),
                "tick",
                [(A, ny("2026-03-09 09:30"), ()), ("CL", chicago("2026-03-08 17:00"), ())],
                held=(),
                per_instrument={"CL": CL_WRAP},
            ),
            id="wrap-sunday-before-open",
        ),
        pytest.param(
            *case(
                chicago("2026-03-09 03:00"), "tick", [], held=(), locks=(A,), per_instrument={"CL": CL_WRAP}
            ),
            id="wrap-open-past-midnight",
        ),
        pytest.param(
            *case(
                chicago("2026-03-10 16:00"),
                "tick",
                [("CL", chicago("2026-03-10 17:00"), ("close",))],
                held=((CL, 2),),
                locks=(A,),
                per_instrument={"CL": CL_WRAP},
            ),
            id="wrap-daily-break-closes-cl",
        ),
        pytest.param(
            *case(
                chicago("2026-03-13 16:00"),
                "tick",
                [("CL", chicago("2026-03-15 17:00"), ())],
                held=(),
                locks=(A,),
                per_instrument={"CL": CL_WRAP},
            ),
            id="wrap-friday-to-sunday",
        ),
        # Symbol lock vs account lock: CL's window ends while the account's is open; MNQ stays.
        pytest.param(
            *case(
                ny("2025-12-02 14:30"),
                "tick",
                [("CL", ny("2025-12-03 09:00"), ("close",))],
                held=((MNQ, 1), (CL, 2)),
                per_instrument={"CL": CL_DAY},
            ),
            id="per-instrument-symbol-lock-keeps-mnq",
        ),
        # The account's window ends while CL's is open: MNQ and ES are closed one by one, CL stays.
        pytest.param(
            *case(
                ny("2025-12-02 16:00"),
                "tick",
                [(A, ny("2025-12-03 09:30"), ("close", "close"))],
                held=((MNQ, 1), (ES, -2), (CL, 2)),
                per_instrument={"CL": CL_WRAP},
            ),
            id="account-lock-keeps-cl-in-its-window",
        ),
    ],
)
def test_session_block_outside(
    when: datetime,
    trigger: str,
    held: tuple[tuple[str, int], ...],
    locks: tuple[str, ...],
    fields: dict[str, Any],
    expected: list[tuple[str, datetime | None, tuple[str, ...]]],
) -> None:
    orders: tuple[tuple[int, str, OrderSide, int], ...] = ()
    fills: tuple[tuple[str, OrderSide, int], ...] = ()
    event: Any
    if trigger == "entry":
        event, fills = an_entry(when), ((MNQ, OrderSide.BUY, 1),)
    elif trigger == "order":
        event, orders = a_buy_order(when), ((7, MNQ, OrderSide.BUY, 1),)
    elif trigger == "evaluate":
        event = Evaluate(when, ACCOUNT, "startup")
    else:
        event = Tick(when)
    st = given(when, *held, orders=orders, locks=locks, fills=fills)
    decisions = session_block_outside.evaluate(config(**fields), st, event, when)
    assert summary(decisions) == expected
    assert all(d.rule == "RULE-009" and d.lock is not None and d.lock.kind == "session" for d in decisions)


def test_a_symbol_window_end_closes_that_symbol_and_cancels_its_orders() -> None:
    now = ny("2025-12-02 14:30")
    st = given(
        now,
        (CL, 2),
        (MNQ, 1),
        orders=(
            (1, CL, OrderSide.SELL, 2),
            (2, "CON.F.US.CLE.G26", OrderSide.BUY, 1),
            (3, MNQ, OrderSide.BUY, 1),
        ),
    )
    [decision] = session_block_outside.evaluate(config(per_instrument={"cl": CL_DAY}), st, Tick(now), now)
    # CL closed whole (the merge adds its cancel), the CL roll month's order cancelled, MNQ untouched
    assert [(a.kind.value, a.contract_id, a.size or a.order_id) for a in decision.actions] == [
        ("close", CL, 2),
        ("cancel_order", "CON.F.US.CLE.G26", 2),
    ]
    assert decision.lock is not None and decision.lock.scope == "CL"


def test_the_daemons_own_orders_are_never_cancelled() -> None:
    now = ny("2025-12-02 14:30")
    st = given(now, orders=((1, CL, OrderSide.BUY, 1),))
    st.daemon_orders.add(1)
    [decision] = session_block_outside.evaluate(config(per_instrument={"CL": CL_DAY}), st, Tick(now), now)
    assert decision.actions == ()


def test_a_tick_locks_each_closed_scope_once() -> None:
    now = ny("2025-12-02 20:00")  # 19:00 Chicago: the account locked already, CL open, GC closed
    cfg = config(per_instrument={"CL": CL_WRAP, "GC": CL_DAY})
    st = given(now, locks=(A,))
    assert [d.lock.scope for d in session_block_outside.evaluate(cfg, st, Tick(now), now) if d.lock] == ["GC"]


# --------------------------------------------------------------------------- close_at_session_end false


@pytest.mark.parametrize(
    ("event", "held", "fills", "orders", "expected"),
    [
        pytest.param(
            a_buy_order(ny("2025-12-02 16:00:00.5")),
            (),
            (),
            ((7, MNQ, OrderSide.BUY, 1),),
            [("cancel_order", 7)],
            id="entry-order-cancelled",
        ),
        pytest.param(
            OrderUpdated(ny("2025-12-02 16:00:00.5"), order(8, MNQ, OrderSide.SELL, 1)),
            ((MNQ, 2),),
            (),
            ((8, MNQ, OrderSide.SELL, 1),),
            [],
            id="reducing-order-passes",
        ),
        pytest.param(
            an_entry(ny("2025-12-02 16:00:00.5")),
            ((MNQ, 1),),
            ((MNQ, OrderSide.BUY, 1),),
            (),
            [("close", 1)],
            id="opened-position-closed",
        ),
        pytest.param(
            an_entry(ny("2025-12-02 16:00:00.5")),
            ((MNQ, 1),),
            ((MNQ, OrderSide.BUY, 2), (MNQ, OrderSide.SELL, 1)),
            (),
            [],
            id="reduced-position-stays",
        ),
        pytest.param(
            an_entry(ny("2025-12-02 16:00:00.5")), ((MNQ, 1),), (), (), [], id="position-held-before-stays"
        ),
    ],
)
def test_without_close_at_session_end_only_new_exposure_is_refused(
    event: OrderUpdated | PositionUpdated,
    held: tuple[tuple[str, int], ...],
    fills: tuple[tuple[str, OrderSide, int], ...],
    orders: tuple[tuple[int, str, OrderSide, int], ...],
    expected: list[tuple[str, int]],
) -> None:
    """An order or fill between the close and the next tick: what lockout mode would have done."""
    st = given(event.at, *held, orders=orders, fills=tuple(fills))
    [decision] = session_block_outside.evaluate(config(close_at_session_end=False), st, event, event.at)
    assert [(a.kind.value, a.order_id or a.size) for a in decision.actions] == expected
    assert decision.lock is not None and decision.lock.until == ny("2025-12-03 09:30")


# --------------------------------------------------------------------------- reasons, wakeups, triggers


@pytest.mark.parametrize(
    ("when", "fields", "reason"),
    [
        pytest.param(
            ny("2025-12-02 16:00"),
            {},
            "outside session 09:30-16:00 America/New_York; opens Wed 2025-12-03 09:30",
            id="account",
        ),
        pytest.param(
            ny("2025-12-25 10:00"),
            {},
            "outside session 09:30-16:00 America/New_York "
            "(holiday 2025-12-25 Christmas); opens Fri 2025-12-26 09:30",
            id="holiday",
        ),
        pytest.param(
            ny("2025-12-24 20:00"),
            {},
            "outside session 09:30-16:00 America/New_York "
            "(holiday 2025-12-25 Christmas); opens Fri 2025-12-26 09:30",
            id="holiday-ahead",
        ),
        pytest.param(
            ny("2025-11-28 13:00"),
            {},
            "outside session 09:30-16:00 America/New_York "
            "(early close 2025-11-28 13:00); opens Mon 2025-12-01 09:30",
            id="early-close",
        ),
        pytest.param(
            ny("2025-12-25 10:00"),
            {"respect_holidays": False, "session": {**SESSION, "days": ["fri"]}},
            "outside session 09:30-16:00 America/New_York; opens Fri 2025-12-26 09:30",
            id="holidays-not-respected",
        ),
    ],
)
def test_reasons_say_window_cause_and_next_opening(
    when: datetime, fields: dict[str, Any], reason: str
) -> None:
    [decision] = session_block_outside.evaluate(config(**fields), given(when), Tick(when), when)
    assert decision.reason == reason


def test_a_symbol_reason_names_the_symbol_and_its_zone() -> None:
    now = chicago("2026-03-10 16:00")
    decisions = session_block_outside.evaluate(
        config(per_instrument={"CL": CL_WRAP}), given(now, locks=(A,)), Tick(now), now
    )
    assert [d.reason for d in decisions] == [
        "CL outside session 17:00-16:00 America/Chicago; opens Tue 2026-03-10 17:00"
    ]
    assert decisions[0].state == {
        "scope": "CL",
        "window": "17:00-16:00 America/Chicago",
        "opens": "2026-03-10T22:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("when", "fields", "wake"),
    [
        pytest.param(ny("2025-12-02 10:00"), {}, ny("2025-12-02 16:00"), id="open-wakes-at-close"),
        pytest.param(ny("2025-12-02 16:00"), {}, ny("2025-12-03 09:30"), id="at-close-wakes-at-next-open"),
        pytest.param(ny("2025-12-02 09:29:59"), {}, ny("2025-12-02 09:30"), id="before-open"),
        pytest.param(ny("2025-11-28 10:00"), {}, ny("2025-11-28 13:00"), id="early-close"),
        pytest.param(ny("2025-12-24 17:00"), {}, ny("2025-12-26 09:30"), id="over-the-holiday"),
        pytest.param(
            ny("2025-12-02 10:00"),
            {"per_instrument": {"CL": CL_DAY}},
            ny("2025-12-02 14:30"),
            id="earliest-of-all-windows",
        ),
    ],
)
def test_wakeup_is_the_next_window_edge(when: datetime, fields: dict[str, Any], wake: datetime) -> None:
    assert session_block_outside.wakeup(config(**fields), given(when), when) == wake


def test_triggers_and_registry() -> None:
    assert session_block_outside.triggers(config()) == {OrderUpdated, PositionUpdated, Tick, Evaluate}
    spec = REGISTRY["RULE-009"]
    assert (spec.key, spec.wakeup) == ("session_block_outside", session_block_outside.wakeup)


def test_hooks_for_the_engine_exempt_and_flattens() -> None:
    cfg = config(per_instrument={"cl": CL_WRAP, "GC": CL_DAY}, close_at_session_end=False)
    assert session_block_outside.exempt(cfg) == {"CL", "GC"}
    assert session_block_outside.exempt(config()) == frozenset()
    assert (session_block_outside.flattens(cfg), session_block_outside.flattens(config())) == (False, True)


def test_schedules_are_built_once_per_config_and_calendar() -> None:
    cfg = config()
    first = session_block_outside._plan(cfg, CALENDAR)
    assert session_block_outside._plan(cfg, CALENDAR) is first
    assert session_block_outside._plan(config(), CALENDAR) is not first  # an equal but new config: rebuilt
    assert session_block_outside._plan(cfg, ExchangeCalendar()) is not first


def test_no_calendar_on_the_state_uses_the_exchange_calendars() -> None:
    now = ny("2025-12-25 10:00")
    st = given(now)
    st.calendar = None
    [decision] = session_block_outside.evaluate(config(), st, Tick(now), now)
    assert decision.lock is not None and decision.lock.until == ny("2025-12-26 09:30")


# --------------------------------------------------------------------------- through the engine


def run(tmp_path: Path, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Replay a scenario (ARCHITECTURE.md format) and return its ``--json`` lines."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    records: list[Record] = []
    asyncio.run(replay(load_scenario(path), tmp_path, records.append))
    return [json.loads(line) for r in records if (line := record_json(r)) is not None]


def z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def filled(
    at: datetime, order_id: int, contract_id: str, side: int, size: int, price: float, position: int
) -> list[dict[str, Any]]:
    """A market order's three gateway events: order filled, trade, position."""
    stamp = z(at)
    common = {"accountId": 9, "contractId": contract_id, "creationTimestamp": stamp}
    return [
        {
            "at": stamp,
            "type": "GatewayUserOrder",
            "data": {
                "id": order_id,
                **common,
                "status": 2,
                "type": 2,
                "side": side,
                "size": size,
                "fillVolume": size,
                "filledPrice": price,
            },
        },
        {
            "at": stamp,
            "type": "GatewayUserTrade",
            "data": {
                "id": order_id,
                **common,
                "price": price,
                "profitAndLoss": None,
                "fees": 0,
                "side": side,
                "size": size,
                "voided": False,
                "orderId": order_id,
            },
        },
        {
            "at": stamp,
            "type": "GatewayUserPosition",
            "data": {
                "id": order_id,
                **common,
                "type": 1 if position > 0 else 2,
                "size": abs(position),
                "averagePrice": price,
            },
        },
    ]


def placed(at: datetime, order_id: int, contract_id: str, price: float) -> dict[str, Any]:
    stamp = z(at)
    data = {
        "id": order_id,
        "accountId": 9,
        "contractId": contract_id,
        "creationTimestamp": stamp,
        "status": 1,
        "type": 1,
        "side": 0,
        "size": 1,
        "limitPrice": price,
    }
    return {"at": stamp, "type": "GatewayUserOrder", "data": data}


def quote(at: datetime, contract_id: str, price: float) -> dict[str, Any]:
    return {"at": z(at), "type": "GatewayQuote", "contractId": contract_id, "data": {"lastPrice": price}}


def scenario(start: datetime, end: datetime, events: list[dict[str, Any]], **rule: Any) -> dict[str, Any]:
    return {
        "start": z(start),
        "end": z(end),
        "accounts": [{"id": 9, "name": "PRAC-9"}],
        "rules": {"session_block_outside": {"enabled": True, "session": SESSION, **rule}},
        "holidays": {
            "timezone": "America/New_York",
            "holidays": [{"date": "2025-12-25", "name": "Christmas"}],
            "early_closes": [{"date": "2025-11-28", "close_time": "13:00", "name": "Day after Thanksgiving"}],
        },
        "events": events,
    }


def brief(lines: list[dict[str, Any]]) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (line["at"], line["action"], line.get("rule"), line.get("until") or line.get("by")) for line in lines
    ]


def test_rule_009_1_through_the_engine(tmp_path: Path) -> None:
    """Mon 16:00 locks; W Tue 08:00 MNQ +1 fills, T closed by lockout mode; 09:30 unlocks; 10:00: nothing."""
    events = [
        quote(ny("2025-12-02 07:59"), MNQ, 21000.0),
        *filled(ny("2025-12-02 08:00"), 1, MNQ, 0, 1, 21000.0, 1),
        *filled(ny("2025-12-02 10:00"), 2, MNQ, 0, 1, 21000.0, 1),
    ]
    lines = run(tmp_path, scenario(ny("2025-12-01 15:00"), ny("2025-12-02 10:30"), events))
    assert brief(lines) == [
        (z(ny("2025-12-01 16:00")), "lockout", "RULE-009", z(ny("2025-12-02 09:30"))),
        (z(ny("2025-12-01 17:00")), "reset", None, None),
        (z(ny("2025-12-02 08:00")), "close", "RULE-009", None),
        (z(ny("2025-12-02 09:30")), "unlock", "RULE-009", "session"),
    ]
    assert lines[0]["scope"] == "account"
    assert lines[2]["reason"] == f"position {MNQ} +1 opened while locked by RULE-009"


def test_rule_009_3_and_4_through_the_engine(tmp_path: Path) -> None:
    """The early close flattens (Fri 13:00 -> Mon 09:30); a Christmas order is cancelled (to Fri 09:30)."""
    early = [
        quote(ny("2025-11-28 10:00"), MNQ, 21000.0),
        *filled(ny("2025-11-28 10:00"), 1, MNQ, 0, 1, 21000.0, 1),
    ]
    lines = run(tmp_path / "early", scenario(ny("2025-11-28 10:00"), ny("2025-12-01 09:30"), early))
    assert brief(lines)[:3] == [
        (z(ny("2025-11-28 13:00")), "lockout", "RULE-009", z(ny("2025-12-01 09:30"))),
        (z(ny("2025-11-28 13:00")), "cancel_all", "RULE-009", None),
        (z(ny("2025-11-28 13:00")), "close_all", "RULE-009", None),
    ]
    assert brief(lines)[-1] == (z(ny("2025-12-01 09:30")), "unlock", "RULE-009", "session")
    holiday = [placed(ny("2025-12-25 10:00"), 1, MNQ, 21000.0)]
    lines = run(tmp_path / "holiday", scenario(ny("2025-12-24 15:00"), ny("2025-12-26 09:30"), holiday))
    assert [(a, r, x) for _, a, r, x in brief(lines) if a != "reset"] == [
        ("lockout", "RULE-009", z(ny("2025-12-26 09:30"))),  # Christmas Eve: the exchange's 13:00 early close
        ("cancel_order", "RULE-009", None),
        ("unlock", "RULE-009", "session"),
    ]
    assert lines[0]["at"] == z(ny("2025-12-24 15:00"))


def test_the_daily_reset_keeps_the_session_lock(tmp_path: Path) -> None:
    events = [placed(ny("2025-12-02 17:30"), 1, MNQ, 21000.0)]
    lines = run(tmp_path, scenario(ny("2025-12-02 15:00"), ny("2025-12-03 09:30"), events))
    assert [(a, x) for _, a, _, x in brief(lines)] == [
        ("lockout", z(ny("2025-12-03 09:30"))),
        ("reset", None),
        ("cancel_order", None),
        ("unlock", "session"),
    ]


def test_a_symbol_lock_leaves_other_symbols_trading(tmp_path: Path) -> None:
    events = [
        quote(ny("2025-12-02 10:00"), CL, 60.0),
        *filled(ny("2025-12-02 10:00"), 1, CL, 0, 1, 60.0, 1),
        placed(ny("2025-12-02 15:00"), 2, CL, 59.0),
        placed(ny("2025-12-02 15:01"), 3, MNQ, 21000.0),
    ]
    lines = run(
        tmp_path,
        scenario(ny("2025-12-02 10:00"), ny("2025-12-02 15:30"), events, per_instrument={"CL": CL_DAY}),
    )
    assert [
        (a, r, line.get("scope"), line.get("contract_id"))
        for line, (_, a, r, _) in zip(lines, brief(lines), strict=True)
    ] == [
        ("lockout", "RULE-009", "CL", None),
        ("close", "RULE-009", None, CL),
        ("cancel_order", "RULE-009", None, CL),
    ]


def test_without_close_at_session_end_a_held_position_survives_the_close(tmp_path: Path) -> None:
    events = [
        quote(ny("2025-12-02 10:00"), MNQ, 21000.0),
        *filled(ny("2025-12-02 10:00"), 1, MNQ, 0, 1, 21000.0, 1),
    ]
    lines = run(
        tmp_path, scenario(ny("2025-12-02 10:00"), ny("2025-12-02 16:30"), events, close_at_session_end=False)
    )
    assert [line["action"] for line in lines] == ["lockout"]


def test_a_per_instrument_window_trades_on_while_the_account_is_locked(tmp_path: Path) -> None:
    events = [placed(chicago("2025-12-02 17:30"), 1, CL, 59.0)]  # 18:30 New York: account closed, CL open
    lines = run(
        tmp_path,
        scenario(ny("2025-12-02 18:00"), ny("2025-12-02 19:00"), events, per_instrument={"CL": CL_WRAP}),
    )
    assert [line["action"] for line in lines] == ["lockout"]  # the account's; the CL order stands
