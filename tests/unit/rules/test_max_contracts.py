"""RULE-001 Max Contracts: the Given/When/Then of SPEC §3 and the edges."""

from __future__ import annotations

import pytest

from factories import ES, MES, MNQ, NOON, position_event, state
from risk_manager.config.risk import MaxContractsConfig
from risk_manager.domain import ActionKind, Evaluate
from risk_manager.rules import max_contracts


def config(
    limit: int = 5, count_type: str = "gross", enforcement: str = "reduce_to_limit"
) -> MaxContractsConfig:
    return MaxContractsConfig.model_validate(
        {"enabled": True, "limit": limit, "count_type": count_type, "enforcement": enforcement}
    )


def cuts(decisions: list) -> list[tuple[str, str | None, int | None]]:
    return [(a.kind.value, a.contract_id, a.size) for d in decisions for a in d.actions]


@pytest.mark.parametrize(
    ("held", "event", "count_type", "expected"),
    [
        pytest.param([(MNQ, 4, "1"), (ES, 2, "1")], (MNQ, 4), "gross", [("reduce", MNQ, 1)], id="RULE-001.1"),
        pytest.param(
            [(MNQ, 5, "1"), (MES, -3, "1")], (MES, -3), "gross", [("close", MES, 3)], id="RULE-001.2"
        ),
        pytest.param([(MNQ, 5, "1")], (MES, 0), "net", [], id="RULE-001.3-hedge-closed-net-5-ok"),
        pytest.param([(MNQ, 6, "1")], (MNQ, 6), "net", [("reduce", MNQ, 1)], id="RULE-001.3-net-6"),
        pytest.param([(MNQ, 5, "1")], (MNQ, 5), "gross", [], id="exactly-at-limit"),
        pytest.param([(MNQ, -6, "1")], (MNQ, -6), "gross", [("reduce", MNQ, 1)], id="short-one-over"),
        pytest.param([(MNQ, 5, "1"), (ES, -3, "1")], (ES, -3), "net", [], id="net-hedged-below-limit"),
        pytest.param(
            [(MNQ, 5, "1"), (ES, 3, "1"), (MES, -1, "1")],
            (MNQ, 5),
            "net",
            [("reduce", MNQ, 2)],
            id="net-cuts-only-net-sign",
        ),
        pytest.param(
            [(MNQ, 2, "1"), (ES, 3, "1"), (MES, 3, "1")],
            (MNQ, 2),
            "gross",
            [("close", MNQ, 2), ("reduce", ES, 1)],
            id="trigger-first-then-largest-tie-by-id",
        ),
    ],
)
def test_max_contracts(held, event, count_type, expected) -> None:
    st = state(*held)
    decisions = max_contracts.evaluate(config(count_type=count_type), st, position_event(*event), NOON)
    assert cuts(decisions) == expected
    assert all(d.lock is None for d in decisions)


def test_reason_carries_the_numbers() -> None:
    st = state((MNQ, 7, "1"))
    [decision] = max_contracts.evaluate(config(), st, position_event(MNQ, 7), NOON)
    assert decision.rule == "RULE-001"
    assert decision.reason == "gross contracts 7 > 5"


def test_close_all_enforcement_closes_everything_without_lock() -> None:
    st = state((MNQ, 4, "1"), (ES, 2, "1"))
    [decision] = max_contracts.evaluate(config(enforcement="close_all"), st, position_event(ES, 2), NOON)
    assert [a.kind for a in decision.actions] == [ActionKind.CLOSE_ALL]
    assert decision.lock is None


def test_startup_evaluation_cuts_pre_existing_positions() -> None:
    """SPEC §4.2: limit 5, start with MNQ +8 -> sell 3."""
    st = state((MNQ, 8, "1"))
    decisions = max_contracts.evaluate(config(), st, Evaluate(NOON, st.account_id, "startup"), NOON)
    assert cuts(decisions) == [("reduce", MNQ, 3)]


def test_triggers_are_position_changes_and_evaluations() -> None:
    from risk_manager.domain import PositionUpdated

    assert max_contracts.triggers(config()) == {PositionUpdated, Evaluate}
