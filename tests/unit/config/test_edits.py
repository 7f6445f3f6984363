"""apply_edits / diff_edits / write_config_files: the trader's files stay the trader's (SPEC §4.7, §6)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from config_testkit import EXAMPLES

from risk_manager.config.edits import (
    EditError,
    apply_edits,
    diff_edits,
    file_sha,
    plain_data,
    unified_diff,
    write_config_files,
)
from risk_manager.control.protocol import Edit

FILES = ("accounts.yaml", "risk_config.yaml", "holidays.yaml")
RISK = "risk_config.yaml"


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {name: (EXAMPLES / name).read_text(encoding="utf-8") for name in FILES}


def edit(file: str, *path: str | int, value: Any = None, delete: bool = False) -> Edit:
    return Edit(file=file, path=list(path), value=value, delete=delete)  # type: ignore[arg-type]


def changed_lines(old: str, new: str) -> list[tuple[str, str]]:
    """(old line, new line) pairs that differ, for edits that keep the line count."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    assert len(old_lines) == len(new_lines)
    return [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]


@pytest.mark.parametrize(
    ("change", "before", "after"),
    [
        pytest.param(
            edit(RISK, "rules", "max_contracts", "limit", value=8),
            "    limit: 5                      # 1..1000",
            "    limit: 8                      # 1..1000",
            id="int-keeps-comment",
        ),
        pytest.param(
            edit(RISK, "rules", "daily_realized_loss", "limit", value=-600.0),
            "    limit: -500.0                 # -1000000..-1",
            "    limit: -600.0                 # -1000000..-1",
            id="money",
        ),
        pytest.param(
            edit(RISK, "general", "daily_reset", "time", value="18:00"),
            '  daily_reset: {time: "17:00", timezone: America/New_York}   # the trading day ends here, '
            "every day",
            '  daily_reset: {time: "18:00", timezone: America/New_York}   # the trading day ends here, '
            "every day",
            id="flow-mapping-and-quotes-kept",
        ),
        pytest.param(
            edit(RISK, "rules", "symbol_blocks", "blocked_symbols", value=["RTY"]),
            "    blocked_symbols: [RTY, M2K]",
            "    blocked_symbols: [RTY]",
            id="flow-list-stays-flow",
        ),
        pytest.param(
            edit(RISK, "rules", "max_contracts_per_instrument", "default_limit", value=None),
            None,
            None,
            id="null-stays-null",
        ),
        pytest.param(
            edit(RISK, "rules", "trade_frequency_limit", "limits", "per_minute", value=None),
            "    limits: {per_minute: 3, per_hour: 10, per_session: 40}        # 1..1000 | null; "
            "minute <= hour <= session",
            "    limits: {per_minute: null, per_hour: 10, per_session: 40}     # 1..1000 | null; "
            "minute <= hour <= session",
            id="null-written-as-null",
        ),
        pytest.param(
            edit(RISK, "rules", "cooldown_after_loss", "tiers", 0, "duration", value="10m"),
            "      - {loss_amount: -100.0, duration: 5m}",
            "      - {loss_amount: -100.0, duration: 10m}",
            id="list-index",
        ),
        pytest.param(
            edit("holidays.yaml", "early_closes", 0, "close_time", value="12:00"),
            '  - {date: 2025-11-28, close_time: "13:00", name: Day after Thanksgiving}',
            '  - {date: 2025-11-28, close_time: "12:00", name: Day after Thanksgiving}',
            id="holiday-time",
        ),
    ],
)
def test_apply_edits_changes_one_line_and_keeps_its_comment(
    texts: dict[str, str], change: Edit, before: str | None, after: str | None
) -> None:
    result = apply_edits(texts, [change])
    expected = [] if before is None else [(before, after)]
    assert changed_lines(texts[change.file], result[change.file]) == expected
    untouched = [name for name in FILES if name != change.file]
    assert all(result[name] == texts[name] for name in untouched)


def rule_span(lines: list[str], key: str) -> tuple[int, int, int]:
    """(first header comment line, key line, last line of the block) of a rule in risk_config."""
    start = lines.index(f"  {key}:")
    header = start
    while lines[header - 1].startswith("  #"):
        header -= 1
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    return header, start, end - 1


RULES = [
    "max_contracts",
    "max_contracts_per_instrument",
    "daily_realized_loss",
    "daily_unrealized_loss",
    "max_unrealized_profit",
    "trade_frequency_limit",
    "cooldown_after_loss",
    "no_stop_loss_grace",
    "session_block_outside",
    "auth_loss_guard",
    "symbol_blocks",
    "trade_management",
    "daily_realized_profit",
]


@pytest.mark.parametrize("key", RULES)
def test_deleting_a_rule_removes_its_header_and_keeps_every_other_comment(
    texts: dict[str, str], key: str
) -> None:
    # ruamel keeps the *next* rule's header comment on the deleted block's last line; it must survive.
    lines = texts[RISK].splitlines()
    header, _, end = rule_span(lines, key)
    blank_before = [*lines[: header - 1], *lines[end + 1 :]] if not lines[header - 1].strip() else None
    blank_after = [*lines[:header], *lines[end + 2 :]] if end + 1 < len(lines) else None
    result = apply_edits(texts, [edit(RISK, "rules", key, delete=True)])[RISK].splitlines()
    assert result in [blank_before, blank_after]


def test_setting_a_whole_block_keeps_the_next_rules_header(texts: dict[str, str]) -> None:
    block = {"enabled": True, "limit": 3, "count_type": "net"}
    result = apply_edits(texts, [edit(RISK, "rules", "max_contracts", value=block)])[RISK]
    assert "    limit: 3\n    count_type: net\n\n  # RULE-002:" in result
    assert result.count("# RULE-") == texts[RISK].count("# RULE-")


def test_missing_mappings_are_created_above_the_next_header(texts: dict[str, str]) -> None:
    change = edit("accounts.yaml", "accounts", 0, "overrides", "rules", "max_contracts", "limit", value=2)
    result = apply_edits(texts, [change])["accounts.yaml"]
    expected = (
        "    enabled: true\n    overrides:\n      rules:\n        max_contracts:\n          limit: 2\n"
        "  - id: 2\n"
    )
    assert expected in result


def test_appending_an_account_keeps_the_comment_of_the_one_before(texts: dict[str, str]) -> None:
    change = edit("accounts.yaml", "accounts", 2, value={"id": 3, "label": "New"})
    result = apply_edits(texts, [change])["accounts.yaml"]
    assert result.endswith("(relative to this directory; not both)\n  - id: 3\n    label: New\n")


def test_a_new_list_item_looks_like_its_siblings(texts: dict[str, str]) -> None:
    change = edit("holidays.yaml", "early_closes", 2, value={"date": "2026-12-24", "close_time": "13:00"})
    result = apply_edits(texts, [change])["holidays.yaml"]
    assert result.endswith('  - {date: 2026-12-24, close_time: "13:00"}\n')


def test_a_file_that_does_not_exist_starts_as_version_1() -> None:
    change = edit("holidays.yaml", "holidays", value=[{"date": "2026-12-25", "name": "Christmas"}])
    result = apply_edits({}, [change])
    assert plain_data(result["holidays.yaml"]) == {
        "version": 1,
        "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
    }


def test_deleting_what_is_absent_changes_nothing(texts: dict[str, str]) -> None:
    result = apply_edits(texts, [edit(RISK, "rules", "nothing_here", "limit", delete=True)])
    assert result == texts


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param(
            edit(RISK, "rules", "max_contracts", "limit", "x", value=1),
            "risk_config.yaml: rules.max_contracts.limit.x: rules.max_contracts.limit is a value (5), "
            "not a mapping or list: cannot hold 'x'",
            id="through-a-scalar",
        ),
        pytest.param(
            edit(RISK, "rules", "cooldown_after_loss", "tiers", 7, "duration", value="1m"),
            "risk_config.yaml: rules.cooldown_after_loss.tiers[7]: list index 7 out of range "
            "(the list has 3 items)",
            id="index-out-of-range",
        ),
        pytest.param(
            edit(RISK, "rules", "cooldown_after_loss", "tiers", "first", value=1),
            "risk_config.yaml: rules.cooldown_after_loss.tiers.first: rules.cooldown_after_loss.tiers "
            "is a list: use an item index (got 'first')",
            id="key-into-a-list",
        ),
        pytest.param(
            edit(RISK, value=1),
            "risk_config.yaml: an edit needs a key path (the whole file cannot be set)",
            id="empty",
        ),
    ],
)
def test_an_impossible_path_is_a_clear_error(texts: dict[str, str], change: Edit, problem: str) -> None:
    with pytest.raises(EditError) as info:
        apply_edits(texts, [change])
    assert [str(p) for p in info.value.problems] == [problem]


def test_a_file_that_is_not_yaml_names_its_line() -> None:
    with pytest.raises(EditError) as info:
        apply_edits({RISK: "version: 1\nrules: [\n"}, [edit(RISK, "rules", value={})])
    assert [str(p) for p in info.value.problems] == [
        "risk_config.yaml:3:1: YAML syntax error: expected the node content, but found '<stream end>'"
    ]


# --------------------------------------------------------------------------- diff_edits


@pytest.mark.parametrize(
    ("file", "old", "new", "edits"),
    [
        pytest.param(
            RISK, "a: 1\nb: {c: 2}\n", "a: 1\nb: {c: 3}\n", [edit(RISK, "b", "c", value=3)], id="leaf"
        ),
        pytest.param(RISK, "a: 1\nb: 2\n", "a: 1\n", [edit(RISK, "b", delete=True)], id="deleted-key"),
        pytest.param(RISK, "a: 1\n", "a: 1\nb: {c: 2}\n", [edit(RISK, "b", value={"c": 2})], id="new-block"),
        pytest.param(
            RISK, "l: [1, 2]\n", "l: [1, 3]\n", [edit(RISK, "l", value=[1, 3])], id="list-is-a-leaf"
        ),
        pytest.param(RISK, "a: 5\n", "a: 5.0\n", [], id="same-number"),
        pytest.param(RISK, "a: 1\n", "a: true\n", [edit(RISK, "a", value=True)], id="bool-is-not-int"),
        pytest.param(RISK, "a: 1  # one\n", "# new\na: 1\n", [], id="comments-are-not-data"),
        pytest.param(
            "holidays.yaml",
            None,
            "version: 1\nholidays: []\n",
            [edit("holidays.yaml", "version", value=1), edit("holidays.yaml", "holidays", value=[])],
            id="new-file",
        ),
    ],
)
def test_diff_edits(file: str, old: str | None, new: str, edits: list[Edit]) -> None:
    before = {} if old is None else {file: old}
    assert diff_edits(before, {file: new}) == edits


def test_diff_edits_then_apply_edits_gives_the_new_files(texts: dict[str, str]) -> None:
    changed = {
        RISK: texts[RISK]
        .replace("limit: 5  ", "limit: 7  ")
        .replace("[RTY, M2K]", "[RTY]")
        .replace("    include_unrealized: true\n    message", "    message"),
        "accounts.yaml": texts["accounts.yaml"].replace("    label: Simulator 1\n", ""),
    }
    edits = diff_edits(texts, changed)
    assert len(edits) == 4
    result = apply_edits(texts, edits)
    for name, text in changed.items():
        assert plain_data(result[name]) == plain_data(text)
    assert diff_edits(texts, {**texts}) == []


def test_unified_diff_and_sha(texts: dict[str, str]) -> None:
    new = apply_edits(texts, [edit(RISK, "rules", "max_contracts", "limit", value=6)])
    diff = unified_diff(texts, new)
    assert diff.startswith("--- a/risk_config.yaml\n+++ b/risk_config.yaml\n")
    assert (
        "-    limit: 5                      # 1..1000\n+    limit: 6                      # 1..1000\n" in diff
    )
    assert unified_diff(texts, texts) == ""
    assert file_sha("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --------------------------------------------------------------------------- writing


def test_write_keeps_a_backup_and_the_mode(tmp_path: Path) -> None:
    path = tmp_path / RISK
    path.write_text("old\n", encoding="utf-8")
    os.chmod(path, 0o640)
    written = write_config_files(tmp_path, {RISK: "new\n", "holidays.yaml": "version: 1\n"})
    assert written == [RISK, "holidays.yaml"]
    assert path.read_text(encoding="utf-8") == "new\n"
    assert (tmp_path / "risk_config.yaml.bak").read_text(encoding="utf-8") == "old\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "holidays.yaml").stat().st_mode) == 0o644
    assert not (tmp_path / "holidays.yaml.bak").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holidays.yaml", RISK, "risk_config.yaml.bak"]


def test_an_unchanged_file_is_not_rewritten(tmp_path: Path) -> None:
    (tmp_path / RISK).write_text("same\n", encoding="utf-8")
    assert write_config_files(tmp_path, {RISK: "same\n"}) == []
    assert not (tmp_path / "risk_config.yaml.bak").exists()


def test_a_failed_replace_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / RISK
    path.write_text("old\n", encoding="utf-8")
    real_replace = os.replace

    def failing(src: str, dst: str | Path) -> None:
        if Path(dst) == path:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError):
        write_config_files(tmp_path, {RISK: "new\n"})
    assert path.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [RISK, "risk_config.yaml.bak"]
