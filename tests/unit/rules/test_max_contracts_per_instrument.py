"""RULE-002 Max Contracts per Instrument: the Given/When/Then of SPEC §3 and the edges."""

from __future__ import annotations

import pytest

from factories import ES, MES, MNQ, NOON, position_event, state
from risk_manager.config.risk import MaxContractsPerInstrumentConfig
from risk_manager.domain import Decision, Evaluate, PositionUpdated
from risk_manager.rules import max_contracts_per_instrument as rule

MNQ_M26 = "CON.F.US.MNQ.M26"
RTY = "CON.F.US.RTY.H26"
CL = "CON.F.US.CLE.Z25"


def config(
    limits: dict[str, int] | None = None,
    default_limit: int | None = None,
    unknown_symbol_action: str = "block",
    enforcement: str = "reduce_to_limit",
) -> MaxContractsPerInstrumentConfig:
    return MaxContractsPerInstrumentConfig.model_validate(
        {
            "enabled": True,
            "limits": {"MNQ": 4, "ES": 1} if limits is None else limits,
            "default_limit": default_limit,
            "unknown_symbol_action": unknown_symbol_action,
            "enforcement": enforcement,
        }
    )


def cuts(decisions: list[Decision]) -> list[tuple[str, str | None, int | None]]:
    return [(a.kind.value, a.contract_id, a.size) for d in decisions for a in d.actions]


@pytest.mark.parametrize(
    ("held", "event", "settings", "expected", "reasons"),
    [
        pytest.param(
            [(MNQ, 5)], (MNQ, 5), {}, [("reduce", MNQ, 1)], ["MNQ contracts 5 > 4"], id="RULE-002.1"
        ),
        pytest.param(
            [(MNQ, -5)], (MNQ, -5), {}, [("reduce", MNQ, 1)], ["MNQ contracts 5 > 4"], id="RULE-002.1-short"
        ),
        pytest.param(
            [(RTY, 1)], (RTY, 1), {}, [("close", RTY, 1)], ["RTY unlisted (limit 0)"], id="RULE-002.2"
        ),
        pytest.param(
            [(RTY, 3)],
            (RTY, 3),
            {"default_limit": 2},
            [("reduce", RTY, 1)],
            ["RTY contracts 3 > 2 (default_limit)"],
            id="RULE-002.3",
        ),
        pytest.param(
            [(MNQ, 3), (ES, 2)],
            (ES, 2),
            {"enforcement": "close_all"},
            [("close", ES, 2)],
            ["ES contracts 2 > 1"],
            id="RULE-002.4",
        ),
        pytest.param([(MNQ, 4)], (MNQ, 4), {}, [], [], id="exactly-at-limit"),
        pytest.param([(MNQ, -4)], (MNQ, -4), {}, [], [], id="short-exactly-at-limit"),
        pytest.param(
            [(MNQ, 7)], (MNQ, 7), {}, [("reduce", MNQ, 3)], ["MNQ contracts 7 > 4"], id="three-over"
        ),
        pytest.param(
            [(MNQ, -6)], (MNQ, -6), {}, [("reduce", MNQ, 2)], ["MNQ contracts 6 > 4"], id="reversed-to-short"
        ),
        pytest.param([(RTY, 9)], (RTY, 9), {"unknown_symbol_action": "allow"}, [], [], id="unlisted-allowed"),
        pytest.param(
            [(RTY, 2)],
            (RTY, 2),
            {"default_limit": 2, "unknown_symbol_action": "block"},
            [],
            [],
            id="default-limit-wins-over-block",
        ),
        pytest.param(
            [(MNQ, 5)],
            (MNQ, 5),
            {"default_limit": 10},
            [("reduce", MNQ, 1)],
            ["MNQ contracts 5 > 4"],
            id="listed-limit-wins-over-default",
        ),
        pytest.param(
            [(RTY, 1)],
            (RTY, 1),
            {"limits": {"RTY": 0}, "unknown_symbol_action": "allow"},
            [("close", RTY, 1)],
            ["RTY contracts 1 > 0"],
            id="listed-zero-never-hold",
        ),
        pytest.param(
            [(MNQ, 5)],
            (MNQ, 5),
            {"limits": {"mnq": 4}},
            [("reduce", MNQ, 1)],
            ["MNQ contracts 5 > 4"],
            id="config-symbol-case-insensitive",
        ),
        pytest.param(
            [(ES, 2)], (ES, 2), {}, [("reduce", ES, 1)], ["ES contracts 2 > 1"], id="alias-EP-is-ES"
        ),
        pytest.param([(CL, 1)], (CL, 1), {"limits": {"CL": 1}}, [], [], id="alias-CLE-is-CL-at-limit"),
        pytest.param(
            [(MNQ, 2), (MNQ_M26, 3)],
            (MNQ_M26, 3),
            {},
            [("reduce", MNQ_M26, 1)],
            ["MNQ contracts 5 > 4"],
            id="roll-months-add-up-trigger-first",
        ),
        pytest.param(
            [(MNQ, 1), (MNQ_M26, 5)],
            (MNQ, 1),
            {},
            [("close", MNQ, 1), ("reduce", MNQ_M26, 1)],
            ["MNQ contracts 6 > 4"],
            id="roll-months-trigger-then-largest",
        ),
        pytest.param(
            [(MNQ, 3), (MNQ_M26, -3)],
            (MNQ_M26, -3),
            {},
            [("reduce", MNQ_M26, 2)],
            ["MNQ contracts 6 > 4"],
            id="roll-months-long-and-short-do-not-net",
        ),
        pytest.param(
            [(MNQ, 3), (MNQ_M26, 2)],
            (MNQ_M26, 2),
            {"enforcement": "close_all"},
            [("close", MNQ_M26, 2), ("close", MNQ, 3)],
            ["MNQ contracts 5 > 4"],
            id="close-all-one-close-per-contract-of-the-symbol",
        ),
        pytest.param([(MNQ, 4), (MES, 9)], (MNQ, 4), {}, [], [], id="other-symbols-do-not-count"),
        pytest.param(
            [(MNQ, 6), (ES, 1)], (ES, 1), {}, [], [], id="position-event-checks-its-own-symbol-only"
        ),
        pytest.param([(MNQ, 4)], (MNQ_M26, 0), {}, [], [], id="a-closed-roll-month"),
    ],
)
def test_max_contracts_per_instrument(held, event, settings, expected, reasons) -> None:
    st = state(*[(cid, size, "100") for cid, size in held])  # no marks: counts need none
    decisions = rule.evaluate(config(**settings), st, position_event(*event), NOON)
    assert cuts(decisions) == expected
    assert [d.reason for d in decisions] == reasons
    assert all(d.lock is None and d.rule == "RULE-002" for d in decisions)


def test_startup_checks_every_symbol() -> None:
    """SPEC §4.2: pre-existing positions count; one decision per symbol over its limit."""
    st = state((MNQ, 6, "21000"), (RTY, 1, "2000"), (ES, 1, "6000"), (MES, 3, "6000"))
    decisions = rule.evaluate(config(), st, Evaluate(NOON, st.account_id, "startup"), NOON)
    assert [(d.reason, cuts([d])) for d in decisions] == [
        ("MES unlisted (limit 0)", [("close", MES, 3)]),
        ("MNQ contracts 6 > 4", [("reduce", MNQ, 2)]),
        ("RTY unlisted (limit 0)", [("close", RTY, 1)]),
    ]


def test_startup_cuts_largest_roll_month_first() -> None:
    st = state((MNQ, 2, "21000"), (MNQ_M26, 4, "21100"))
    decisions = rule.evaluate(config(), st, Evaluate(NOON, st.account_id, "reload"), NOON)
    assert cuts(decisions) == [("reduce", MNQ_M26, 2)]


def test_decision_state_carries_the_figures() -> None:
    st = state((RTY, 3, "2000"))
    [decision] = rule.evaluate(config(default_limit=2), st, position_event(RTY, 3), NOON)
    assert decision.state == {"symbol": "RTY", "held": "3", "limit": "2", "limit_from": "default_limit"}
    [blocked] = rule.evaluate(config(), st, position_event(RTY, 3), NOON)
    assert blocked.state["limit_from"] == "unlisted"
    assert blocked.state["limit"] == "0"


def test_triggers_are_position_changes_and_evaluations() -> None:
    assert rule.triggers(config()) == {PositionUpdated, Evaluate}
