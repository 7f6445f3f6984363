"""RULE-010 Auth Loss Guard: the Given/When/Then of SPEC §3 and the edges.

The table runs the pure rule; the replays at the end run the real engine (lock rows,
release by broker, the reset, restarts, the account poll) on a simulated clock.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from factories import ACCOUNT, MNQ, NOON, state
from risk_manager.config.risk import AuthLossGuardConfig
from risk_manager.domain import AccountInfo, AccountUpdated, Decision, Evaluate, Event
from risk_manager.engine import Record
from risk_manager.replay import load_scenario, record_json, replay
from risk_manager.rules import REGISTRY, auth_loss_guard

CONFIG = AuthLossGuardConfig.model_validate({"enabled": True, "poll_interval_seconds": 30})
FLATTEN = ("cancel_all", "close_all")


def account_update(can_trade: bool, balance: str = "50000") -> AccountUpdated:
    return AccountUpdated(NOON, AccountInfo(ACCOUNT, "PRAC-101", Decimal(balance), can_trade))


STARTUP = Evaluate(NOON, ACCOUNT, "startup")


def summary(decisions: list[Decision]) -> list[tuple[str, tuple[str, ...], object, str | None]]:
    """(reason, action kinds, lock, release) per decision."""
    return [
        (
            d.reason,
            tuple(a.kind.value for a in d.actions),
            d.lock and (d.lock.kind, d.lock.scope, d.lock.until),
            d.release,
        )
        for d in decisions
    ]


LOCKED = [("broker disabled trading", FLATTEN, ("broker", "account", None), None)]
RELEASED = [("broker enabled trading", (), None, "broker")]


@pytest.mark.parametrize(
    ("can_trade", "held", "event", "expected"),
    [
        # 1. G MNQ +1. W canTrade false 11:00. T cancel, close, LOCKED "broker disabled trading".
        pytest.param(False, set(), account_update(False), LOCKED, id="RULE-010.1"),
        # 2. W canTrade true 11:20. T unlocked; an active RULE-003 lock would remain.
        pytest.param(
            True,
            {("RULE-010", "account"), ("RULE-003", "account")},
            account_update(True),
            RELEASED,
            id="RULE-010.2",
        ),
        # 3. G canTrade false 16:50. W 17:00 reset. T still locked: nothing new, nothing released.
        pytest.param(False, {("RULE-010", "account")}, STARTUP, [], id="RULE-010.3"),
        # 4. G realtime event missed. W poll 11:00:30 false (delivered as an account update). T enforced.
        pytest.param(False, set(), account_update(False), LOCKED, id="RULE-010.4"),
        pytest.param(
            False, {("RULE-010", "account")}, account_update(False), [], id="still-false-no-second-flatten"
        ),
        pytest.param(True, set(), account_update(True), [], id="true-without-lock-nothing"),
        pytest.param(
            True, {("RULE-010", "account")}, account_update(True, "49000"), RELEASED, id="balance-change-true"
        ),
        pytest.param(False, set(), STARTUP, LOCKED, id="startup-false-locks"),
        # Only the broker's word releases: startup may run before the account search answered.
        pytest.param(True, {("RULE-010", "account")}, STARTUP, [], id="startup-true-keeps-lock"),
        pytest.param(
            False, {("RULE-003", "account")}, account_update(False), LOCKED, id="false-under-rule-003-lock"
        ),
    ],
)
def test_auth_loss_guard(
    can_trade: bool, held: set[tuple[str, str]], event: Event, expected: list[object]
) -> None:
    st = state((MNQ, 1, "21000"), held_locks=held)
    st.can_trade = can_trade  # set after: the factory reads ints (and so bools) as money
    decisions = auth_loss_guard.evaluate(CONFIG, st, event, NOON)
    assert summary(decisions) == expected
    assert all(d.rule == "RULE-010" for d in decisions)


def test_triggers_and_registry() -> None:
    assert auth_loss_guard.triggers(CONFIG) == {AccountUpdated, Evaluate}
    assert REGISTRY["RULE-010"].key == "auth_loss_guard"
    assert REGISTRY["RULE-010"].wakeup is None  # the account poll is the runner's, not a rule wakeup


# --------------------------------------------------------------------------- through the engine

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 New York (EDT)


def z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def at(hhmmss: str) -> str:
    """A New York (EDT, UTC-4) time on 2026-03-10 as the scenario's UTC stamp."""
    h, m, *s = (int(part) for part in hhmmss.split(":"))
    return f"2026-03-10T{h + 4:02d}:{m:02d}:{(s or [0])[0]:02d}Z"


def account(when: str, can_trade: bool, *, missed: bool = False) -> dict[str, Any]:
    data = {"id": 9, "name": "PRAC-9", "balance": 50000.0, "canTrade": can_trade}
    return {
        "at": at(when),
        "type": "GatewayUserAccount",
        "data": data,
        **({"missed": True} if missed else {}),
    }


def run(
    tmp_path: Path, events: list[dict[str, Any]], *, end: str = "17:30", **rules: Any
) -> list[dict[str, Any]]:
    """Replay a scenario holding MNQ +1 from 09:45 and return its ``--json`` lines."""
    opened = {"accountId": 9, "contractId": MNQ, "creationTimestamp": "2026-03-10T13:45:00Z"}
    body = {
        "start": z(START),
        "end": at(end),
        "accounts": [{"id": 9, "name": "PRAC-9"}],
        "rules": {"auth_loss_guard": {"enabled": True, "poll_interval_seconds": 30}, **rules},
        "snapshot": {
            "positions": [{"id": 1, **opened, "type": 1, "size": 1, "averagePrice": 21000.0}],
            "trades": [
                {"id": 1, **opened, "price": 21000.0, "profitAndLoss": None, "fees": 0, "side": 0, "size": 1}
                | {"voided": False, "orderId": 1}
            ],
        },
        "events": events,
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    records: list[Record] = []
    asyncio.run(replay(load_scenario(path), tmp_path, records.append))
    return [json.loads(line) for r in records if (line := record_json(r)) is not None]


def brief(lines: list[dict[str, Any]]) -> list[tuple[str, str, str | None, str | None]]:
    return [(line["at"], line["action"], line.get("rule"), line.get("by")) for line in lines]


def test_rule_010_1_and_2_a_rule_003_lock_remains(tmp_path: Path) -> None:
    """canTrade false 11:00 flattens and locks; true 11:20 unlocks RULE-010 only; RULE-003 stays."""
    order = {"id": 2, "accountId": 9, "contractId": MNQ, "creationTimestamp": at("11:25"), "status": 1}
    order |= {"type": 1, "side": 0, "size": 1, "limitPrice": 20900.0}
    events = [
        {
            "at": at("10:59"),
            "type": "GatewayQuote",
            "contractId": MNQ,
            "data": {"lastPrice": 20700.0},
        },  # -600.00
        account("11:00", False),
        account("11:20", True),
        {"at": at("11:25"), "type": "GatewayUserOrder", "data": order},
    ]
    loss = {"daily_realized_loss": {"enabled": True, "limit": -500.0, "include_unrealized": False}}
    lines = run(tmp_path, events, **loss)
    assert brief(lines) == [
        (at("11:00"), "lockout", "RULE-010", None),
        (at("11:00"), "cancel_all", "RULE-010", None),
        (at("11:00"), "close_all", "RULE-010", None),
        (at("11:00"), "lockout", "RULE-003", None),  # the daemon's close lost 600.00
        (at("11:00"), "cancel_all", "RULE-003", None),
        (at("11:00"), "close_all", "RULE-003", None),
        (at("11:20"), "unlock", "RULE-010", "broker"),
        (at("11:25"), "cancel_order", "RULE-003", None),
        (at("17:00"), "reset", None, None),
        (at("17:00"), "unlock", "RULE-003", "reset"),
    ]
    assert lines[0]["reason"] == "broker disabled trading"
    assert lines[0]["scope"] == "account" and "until" not in lines[0]  # no expiry


def test_rule_010_3_the_reset_keeps_the_broker_lock(tmp_path: Path) -> None:
    lines = run(tmp_path, [account("16:50", False)], end="17:30")
    assert [(a, r) for _, a, r, _ in brief(lines)] == [
        ("lockout", "RULE-010"),
        ("cancel_all", "RULE-010"),
        ("close_all", "RULE-010"),
        ("reset", None),
    ]


def test_rule_010_4_a_missed_event_is_enforced_by_the_poll(tmp_path: Path) -> None:
    events = [account("11:00", False, missed=True), account("11:20", True, missed=True)]
    lines = run(tmp_path, events, end="11:30")
    assert brief(lines) == [
        (at("11:00:30"), "lockout", "RULE-010", None),
        (at("11:00:30"), "cancel_all", "RULE-010", None),
        (at("11:00:30"), "close_all", "RULE-010", None),
        (at("11:20:30"), "unlock", "RULE-010", "broker"),
    ]


def test_cantrade_flapping_locks_and_unlocks_each_time(tmp_path: Path) -> None:
    events = [
        account("11:00", False),
        account("11:00:05", True),
        account("11:00:10", False),
        account("11:00:15", True),
    ]
    lines = run(tmp_path, events, end="11:01")
    assert [(t, a) for t, a, _, _ in brief(lines)] == [
        (at("11:00"), "lockout"),
        (at("11:00"), "cancel_all"),
        (at("11:00"), "close_all"),
        (at("11:00:05"), "unlock"),
        (at("11:00:10"), "lockout"),
        (at("11:00:10"), "cancel_all"),
        (at("11:00:10"), "close_all"),
        (at("11:00:15"), "unlock"),
    ]


def test_a_restart_keeps_the_lock_and_releases_it_if_cantrade_came_back_meanwhile(tmp_path: Path) -> None:
    events = [
        account("11:00", False),
        {"at": at("11:10"), "type": "Restart"},  # still false: kept, not re-printed
        account("11:15", True, missed=True),  # comes back while the hub is down (no poll before the restart)
        {"at": at("11:15"), "type": "Restart"},
    ]
    lines = run(tmp_path, events, end="11:16")
    assert brief(lines) == [
        (at("11:00"), "lockout", "RULE-010", None),
        (at("11:00"), "cancel_all", "RULE-010", None),
        (at("11:00"), "close_all", "RULE-010", None),
        (at("11:15"), "unlock", "RULE-010", "broker"),  # the restart's account search says canTrade true
    ]
