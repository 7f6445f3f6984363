"""plan_change, pending_config.yaml and apply_pending: loosening waits for the reset (SPEC §4.7, issue 6)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from risk_manager.config import load_config_set
from risk_manager.config.change_plan import Plan, plan_change
from risk_manager.config.edits import apply_edits, plain_data, write_config_files
from risk_manager.config.pending import (
    PENDING_FILE,
    PendingConfig,
    PendingRefused,
    apply_pending,
    pending_status,
    pending_view,
)
from risk_manager.config.problems import ConfigError
from risk_manager.control.protocol import Edit

R, A = "risk_config.yaml", "accounts.yaml"
FILES = ("accounts.yaml", "risk_config.yaml", "holidays.yaml")
NOON = dt.datetime(2025, 11, 4, 17, 0, tzinfo=dt.UTC)
RESET = dt.datetime(2025, 11, 4, 22, 0, tzinfo=dt.UTC)


def rule(*path: str | int, value: Any = None, delete: bool = False) -> Edit:
    return Edit(file=R, path=["rules", *path], value=value, delete=delete)


def snapshot(config_dir: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(config_dir.iterdir())}


def value(config_dir: Path, file: str, *path: str | int, texts: dict[str, str] | None = None) -> Any:
    data = plain_data(texts[file] if texts else (config_dir / file).read_text(encoding="utf-8"))
    for part in path:
        data = data[part]
    return data


LIMIT = ("rules", "max_contracts", "limit")
LOSS = ("rules", "daily_realized_loss", "limit")
PER_HOUR = ("rules", "trade_frequency_limit", "limits", "per_hour")


def write_now(config_dir: Path, plan: Plan) -> None:
    """What the daemon does with a plan: write the files, keep the pending part."""
    write_config_files(config_dir, plan.now_texts)
    if plan.pending_edits:
        PendingConfig.add(config_dir, plan.pending_edits, plan.pending, NOON, RESET, "more room today")


# --------------------------------------------------------------------------- plan_change


def test_mixed_edits_split_into_now_and_pending(config_dir: Path) -> None:
    before = snapshot(config_dir)
    loosen = rule("max_contracts", "limit", value=8)
    tighten = rule("daily_realized_loss", "limit", value=-400.0)
    plan = plan_change(config_dir, [loosen, tighten], override=False, env={})
    assert snapshot(config_dir) == before  # planning writes nothing
    assert [c.text for c in plan.applied] == ["rules.daily_realized_loss.limit -500.0 -> -400.0 (tighter)"]
    assert [c.text for c in plan.pending] == ["rules.max_contracts.limit 5 -> 8 (looser)"]
    assert plan.pending_edits == [loosen]
    assert (
        value(config_dir, R, *LIMIT, texts=plan.now_texts),
        value(config_dir, R, *LOSS, texts=plan.now_texts),
    ) == (
        5,
        -400.0,
    )
    assert "+    limit: -400.0" in plan.diff and "limit: 8" not in plan.diff
    assert "+    limit: 8 " in plan.pending_diff


def test_override_applies_everything_now(config_dir: Path) -> None:
    plan = plan_change(config_dir, [rule("max_contracts", "limit", value=8)], override=True, env={})
    assert (plan.pending_edits, [c.direction for c in plan.applied]) == ([], ["loosen"])
    assert value(config_dir, R, *LIMIT, texts=plan.now_texts) == 8


def test_an_invalid_edit_writes_nothing_and_names_file_and_line(config_dir: Path) -> None:
    before = snapshot(config_dir)
    with pytest.raises(ConfigError) as info:
        plan_change(config_dir, [rule("max_contracts", "limit", value=0)], override=False, env={})
    assert [str(p).split("config/", 1)[1] for p in info.value.problems] == [
        "risk_config.yaml:25: rules.max_contracts.limit: must be 1..1000 (got 0), e.g. 5"
    ]
    assert snapshot(config_dir) == before


def test_pending_that_would_be_invalid_after_the_now_part_is_refused(config_dir: Path) -> None:
    # Alone each is valid; together per_hour 20 > per_session 15 breaks the frequency order.
    edits = [
        rule("trade_frequency_limit", "limits", "per_hour", value=20),  # looser: waits
        rule("trade_frequency_limit", "limits", "per_session", value=15),  # tighter: now
    ]
    with pytest.raises(ConfigError) as info:
        plan_change(config_dir, edits, override=False, env={})
    assert [p.key for p in info.value.problems] == ["rules.trade_frequency_limit.limits.per_session"]
    assert "must be >= per_hour (20) (got 15)" in str(info.value)


@pytest.mark.parametrize(
    ("edits", "now", "after_reset", "pending"),
    [
        pytest.param([8, 3], 3, 3, 0, id="tighter-last-wins-now"),
        pytest.param([3, 8], 5, 8, 1, id="looser-last-waits-for-the-reset"),
        pytest.param([4, 3], 3, 3, 0, id="two-tightenings"),
    ],
)
def test_conflicting_edits_apply_in_order(
    config_dir: Path, edits: list[int], now: int, after_reset: int, pending: int
) -> None:
    plan = plan_change(
        config_dir, [rule("max_contracts", "limit", value=v) for v in edits], override=False, env={}
    )
    assert value(config_dir, R, *LIMIT, texts=plan.now_texts) == now
    assert value(config_dir, R, *LIMIT, texts=apply_edits(plan.now_texts, plan.pending_edits)) == after_reset
    assert len(plan.pending_edits) == pending


def test_a_tightening_inside_a_pending_block_applies_now_and_again_at_the_reset(config_dir: Path) -> None:
    block = {"enabled": True, "limit": 10, "count_type": "net"}
    edits = [rule("max_contracts", value=block), rule("max_contracts", "limit", value=4)]
    plan = plan_change(config_dir, edits, override=False, env={})
    assert value(config_dir, R, *LIMIT, texts=plan.now_texts) == 4
    after = apply_edits(plan.now_texts, plan.pending_edits)
    assert value(config_dir, R, "rules", "max_contracts", texts=after) == {**block, "limit": 4}


def test_an_edit_valid_only_after_an_earlier_one_still_applies_now(config_dir: Path) -> None:
    # per_hour 2 alone is below per_minute 3 (invalid); after per_minute 1 it tightens.
    edits = [
        rule("trade_frequency_limit", "limits", "per_minute", value=1),
        rule("trade_frequency_limit", "limits", "per_hour", value=2),
    ]
    plan = plan_change(config_dir, edits, override=False, env={})
    assert (plan.pending_edits, {c.direction for c in plan.applied}) == ([], {"tighten"})


def test_two_deletions_of_the_first_account_delete_two(config_dir: Path) -> None:
    three = {"id": 3, "label": "Third"}
    write_config_files(
        config_dir, apply_edits(snapshot(config_dir), [Edit(file=A, path=["accounts", 2], value=three)])
    )
    drop_first = Edit(file=A, path=["accounts", 0], delete=True)
    plan = plan_change(config_dir, [drop_first, drop_first], override=True, env={})
    assert [entry["id"] for entry in value(config_dir, A, "accounts", texts=plan.now_texts)] == [3]


# --------------------------------------------------------------------------- pending


def test_pending_survives_a_reload_of_the_file(config_dir: Path) -> None:
    plan = plan_change(config_dir, [rule("max_contracts", "limit", value=8)], override=False, env={})
    write_now(config_dir, plan)
    again = PendingConfig.load(config_dir)
    assert again.edits == plan.pending_edits
    assert [(c.text, c.direction) for c in again.changes] == [
        ("rules.max_contracts.limit 5 -> 8 (looser)", "loosen")
    ]
    assert (again.apply_at, again.requests[0].requested_at, again.requests[0].reason) == (
        RESET,
        NOON,
        "more room today",
    )
    assert pending_view(config_dir).apply_at == RESET
    assert pending_status(again) == {
        "apply_at": RESET.isoformat(),
        "changes": [{"text": "rules.max_contracts.limit 5 -> 8 (looser)", "direction": "loosen"}],
        "problems": [],
    }


def test_a_second_request_waits_after_the_first(config_dir: Path) -> None:
    for limit in (8, 9):
        write_now(
            config_dir,
            plan_change(config_dir, [rule("max_contracts", "limit", value=limit)], override=False, env={}),
        )
    pending = PendingConfig.load(config_dir)
    assert [edit.value for edit in pending.edits] == [8, 9]
    apply_pending(config_dir, RESET, env={})
    assert value(config_dir, R, *LIMIT) == 9


def test_apply_pending_at_the_reset(config_dir: Path) -> None:
    edits = [rule("max_contracts", "limit", value=8), rule("daily_realized_loss", "limit", value=-400.0)]
    write_now(config_dir, plan_change(config_dir, edits, override=False, env={}))
    assert (value(config_dir, R, *LIMIT), value(config_dir, R, *LOSS)) == (5, -400.0)
    plan = apply_pending(config_dir, RESET, env={})
    assert plan is not None
    assert [c.text for c in plan.applied] == ["rules.max_contracts.limit 5 -> 8 (looser)"]
    assert (value(config_dir, R, *LIMIT), value(config_dir, R, *LOSS)) == (8, -400.0)
    assert not (config_dir / PENDING_FILE).exists()
    assert load_config_set(config_dir, env={}).risk.rules.max_contracts is not None
    assert apply_pending(config_dir, RESET, env={}) is None  # nothing left


def test_the_comments_survive_the_round_trip_through_pending(config_dir: Path) -> None:
    write_now(
        config_dir, plan_change(config_dir, [rule("max_contracts", "limit", value=8)], override=False, env={})
    )
    apply_pending(config_dir, RESET, env={})
    assert "    limit: 8                      # 1..1000\n" in (config_dir / R).read_text(encoding="utf-8")


def test_a_pending_change_that_became_invalid_stays_pending_with_its_problems(config_dir: Path) -> None:
    write_now(config_dir, plan_change(config_dir, [rule(*PER_HOUR[1:], value=20)], override=False, env={}))
    # Meanwhile the trader tightens per_session to 15 (valid with per_hour 10).
    write_now(
        config_dir,
        plan_change(
            config_dir,
            [rule("trade_frequency_limit", "limits", "per_session", value=15)],
            override=False,
            env={},
        ),
    )
    before = snapshot(config_dir)
    with pytest.raises(PendingRefused) as info:
        apply_pending(config_dir, RESET, env={})
    assert [p.key for p in info.value.problems] == ["rules.trade_frequency_limit.limits.per_session"]
    kept = PendingConfig.load(config_dir)
    assert [edit.value for edit in kept.edits] == [20]
    assert kept.refused_at == RESET
    assert len(kept.problems) == 1 and "must be >= per_hour (20) (got 15)" in kept.problems[0]
    assert value(config_dir, R, *PER_HOUR) == 10
    assert {name: text for name, text in snapshot(config_dir).items() if name != PENDING_FILE} == {
        name: text for name, text in before.items() if name != PENDING_FILE
    }


def test_a_pending_edit_whose_path_is_gone_stays_pending(config_dir: Path) -> None:
    edit = Edit(
        file=A, path=["accounts", 1, "overrides", "rules", "daily_realized_loss", "limit"], value=-450.0
    )
    write_now(config_dir, plan_change(config_dir, [edit], override=False, env={}))
    write_config_files(
        config_dir, apply_edits(snapshot(config_dir), [Edit(file=A, path=["accounts", 1], delete=True)])
    )
    with pytest.raises(PendingRefused) as info:
        apply_pending(config_dir, RESET, env={})
    assert "list index 1 out of range" in str(info.value)
    assert PendingConfig.load(config_dir).edits == [edit]


def test_clear_drops_everything(config_dir: Path) -> None:
    write_now(
        config_dir, plan_change(config_dir, [rule("max_contracts", "limit", value=8)], override=False, env={})
    )
    PendingConfig.clear(config_dir)
    assert (PendingConfig.load(config_dir).requests, pending_view(config_dir).changes) == ([], [])


def test_an_accounts_own_rules_file_is_found_while_validating(config_dir: Path) -> None:
    (config_dir / "own.yaml").write_text("version: 1\nrules:\n  max_contracts: {enabled: true, limit: 2}\n")
    accounts = (config_dir / A).read_text(encoding="utf-8")
    (config_dir / A).write_text(
        accounts.replace(
            "    label: Simulator 1\n", "    label: Simulator 1\n    risk_config_file: own.yaml\n"
        )
    )
    plan = plan_change(config_dir, [rule("max_contracts", "limit", value=3)], override=False, env={})
    assert [(c.text, c.account) for c in plan.applied] == [
        ("rules.max_contracts.limit 5 -> 3 (tighter)", None)
    ]


def test_broken_files_on_disk_are_fixed_only_with_override(config_dir: Path) -> None:
    text = (config_dir / R).read_text(encoding="utf-8")
    (config_dir / R).write_text(text.replace("limit: 5  ", "limit: 0  "))
    fix = rule("max_contracts", "limit", value=5)
    with pytest.raises(ConfigError) as info:
        plan_change(config_dir, [fix], override=False, env={})  # nothing in force to compare with: it waits
    assert "rules.max_contracts.limit: must be 1..1000 (got 0)" in str(info.value)
    plan = plan_change(config_dir, [fix], override=True, env={})
    assert (plan.pending_edits, value(config_dir, R, *LIMIT, texts=plan.now_texts)) == ([], 5)
