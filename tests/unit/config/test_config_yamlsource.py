"""YAML reading: key lines, duplicates, YAML 1.2 scalars, ${VAR} expansion, syntax errors, parse_model."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from config_testkit import problems

from risk_manager.config import (
    ConfigError,
    GeneralConfig,
    HolidaysConfig,
    RulesConfig,
    line_for,
    load_yaml,
    parse_model,
    parse_yaml,
    read_yaml,
)


def doc_of(text: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return parse_yaml(textwrap.dedent(text), "f.yaml", env={} if env is None else env)


def test_every_key_and_list_item_has_its_line() -> None:
    doc = doc_of(
        """\
        general:
          daily_reset:
            time: "17:00"
        rules:
          cooldown_after_loss:
            tiers:
              - {loss_amount: -100, duration: 5m}
              - loss_amount: -200
                duration: 15m
        """
    )
    assert doc.lines[("general",)] == 1
    assert doc.lines[("general", "daily_reset", "time")] == 3
    assert doc.lines[("rules", "cooldown_after_loss", "tiers", 0)] == 7
    assert doc.lines[("rules", "cooldown_after_loss", "tiers", 0, "duration")] == 7
    assert doc.lines[("rules", "cooldown_after_loss", "tiers", 1, "duration")] == 9


def test_a_missing_key_takes_the_line_of_its_nearest_written_ancestor() -> None:
    doc = doc_of("a:\n  b:\n    c: 1\n")
    assert line_for(doc.lines, ("a", "b", "missing", "deeper")) == 2
    assert doc.line_of(("a", "b", "c")) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a: 1\nb: 2\na: 3\n", ["f.yaml:3: a: duplicate key (first at line 1)"], id="top-level"),
        pytest.param(
            "rules:\n  max_contracts:\n    enabled: true\n    limit: 5\n    limit: 6\n",
            ["f.yaml:5: rules.max_contracts.limit: duplicate key (first at line 4)"],
            id="nested-block",
        ),
        pytest.param(
            "x:\n  - {a: 1, a: 2}\n  - {b: 1, b: 2}\n",
            [
                "f.yaml:2: x[0].a: duplicate key (first at line 2)",
                "f.yaml:3: x[1].b: duplicate key (first at line 3)",
            ],
            id="flow-in-list-all-reported",
        ),
    ],
)
def test_duplicate_keys_are_errors_at_the_repeated_line(text: str, expected: list[str]) -> None:
    assert [str(problem) for problem in doc_of(text).problems] == expected


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        pytest.param("yes", "yes", id="yes-is-text"),
        pytest.param("no", "no", id="no-is-text"),
        pytest.param("on", "on", id="on-is-text"),
        pytest.param("off", "off", id="off-is-text"),
        pytest.param("Y", "Y", id="Y-is-text"),
        pytest.param("true", True, id="true"),
        pytest.param("False", False, id="False"),
        pytest.param("17:00", "17:00", id="no-sexagesimal"),
        pytest.param("2025-12-25", "2025-12-25", id="date-stays-text"),
        pytest.param("500", 500, id="int"),
        pytest.param("-500.0", -500.0, id="float"),
        pytest.param("0x10", 16, id="hex"),
        pytest.param("'500'", "500", id="quoted-number-is-text"),
        pytest.param("~", None, id="null"),
        pytest.param("", None, id="empty-null"),
    ],
)
def test_scalars_follow_yaml_1_2_core(scalar: str, value: object) -> None:
    doc = doc_of(f"v: {scalar}\n")
    assert doc.problems == ()
    assert doc.data == {"v": value}
    assert type(doc.data["v"]) is type(value)


@pytest.mark.parametrize(
    ("text", "env", "value"),
    [
        pytest.param("v: ${USER_X}", {"USER_X": "bob"}, "bob", id="set"),
        pytest.param("v: pre-${USER_X}-post", {"USER_X": "bob"}, "pre-bob-post", id="inside-text"),
        pytest.param("v: ${USER_X:-demo}", {}, "demo", id="default-when-unset"),
        pytest.param("v: ${USER_X:-demo}", {"USER_X": ""}, "demo", id="default-when-empty"),
        pytest.param("v: ${USER_X:-demo}", {"USER_X": "bob"}, "bob", id="set-beats-default"),
        pytest.param("v: ${USER_X:-}", {}, "", id="empty-default"),
        pytest.param("v: ${USER_X}", {"USER_X": ""}, "", id="set-empty-no-default"),
        pytest.param("v: ${PORT:-8766}", {}, "8766", id="result-is-always-text"),
        pytest.param("v: ${NAME}", {"NAME": "12345"}, "12345", id="numeric-env-stays-text"),
        pytest.param("v: '${PORT:-8766}'", {}, "8766", id="quoted-stays-text"),
        pytest.param("v: 'a $${X} b'", {}, "a ${X} b", id="escaped"),
        pytest.param("v: [x, '${A}']", {"A": "1"}, ["x", "1"], id="in-list"),
    ],
)
def test_env_interpolation(text: str, env: dict[str, str], value: object) -> None:
    doc = doc_of(text, env)
    assert doc.problems == ()
    assert doc.data == {"v": value}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "gateway:\n  api_key: ${MISSING_KEY}\n",
            "f.yaml:2: gateway.api_key: environment variable MISSING_KEY is not set (use "
            "${MISSING_KEY:-default})",
            id="undefined",
        ),
        pytest.param(
            "v: ${1BAD}\n", "f.yaml:1: v: malformed '${1BAD}'; use ${VAR} or ${VAR:-default}", id="bad-name"
        ),
        pytest.param(
            "v: '${OPEN'\n", "f.yaml:1: v: malformed '${'; use ${VAR} or ${VAR:-default}", id="unclosed"
        ),
    ],
)
def test_env_interpolation_problems_name_key_and_line(text: str, expected: str) -> None:
    assert [str(problem) for problem in doc_of(text).problems] == [expected]


def test_env_is_read_from_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RM_TEST_VALUE", "from-env")
    assert parse_yaml("v: ${RM_TEST_VALUE}\n", "f.yaml").data == {"v": "from-env"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "rules:\n  max_contracts:\n  enabled: true\n limit: 5\n",
            "f.yaml:4:2: YAML syntax error: ",
            id="bad-indent",
        ),
        pytest.param(
            "a: b: c\n", "f.yaml:1:5: YAML syntax error: mapping values are not allowed here", id="mapping"
        ),
        pytest.param("a: [1, 2\n", "f.yaml:2:1: YAML syntax error: expected ',' or ']'", id="unclosed-flow"),
        pytest.param(
            "a: 1\n---\nb: 2\n", "f.yaml:2:1: YAML syntax error: but found another document", id="two-docs"
        ),
        pytest.param(
            "a: b\x07\n", "f.yaml:1:5: YAML syntax error: special characters are not allowed", id="control"
        ),
    ],
)
def test_syntax_errors_have_line_and_column(text: str, expected: str) -> None:
    doc = parse_yaml(text, "f.yaml", env={})
    assert doc.data is None
    assert len(doc.problems) == 1
    assert str(doc.problems[0]).startswith(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("a: !!binary aGVsbG8=\n", "f.yaml:1: a: unsupported tag !!binary", id="binary"),
        pytest.param("a: !!python/object:os.system x\n", "f.yaml:1: a: unsupported tag", id="python-object"),
        pytest.param(
            "a: &x [*x]\n", "f.yaml:1: a[0]: document too large or refers to itself", id="recursive-alias"
        ),
        pytest.param("? [a, b]\n: 1\n", "f.yaml:1: keys must be plain text", id="list-key"),
    ],
)
def test_unsafe_or_odd_yaml_is_a_problem_not_an_object(text: str, message: str) -> None:
    found = [str(problem) for problem in parse_yaml(text, "f.yaml", env={}).problems]
    assert len(found) == 1
    assert found[0].startswith(message)


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    doc = parse_yaml("\n".join(lines) + "\n", "f.yaml", env={})
    assert doc.data is None
    assert "document too large" in str(doc.problems[0])


def test_load_yaml_raises_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\na: 2\nb: ${NOPE_RM}\n", encoding="utf-8")
    found = problems(lambda: load_yaml(path, display="shown.yaml", env={}))
    assert found == [
        "shown.yaml:2: a: duplicate key (first at line 1)",
        "shown.yaml:3: b: environment variable NOPE_RM is not set (use ${NOPE_RM:-default})",
    ]


def test_load_yaml_returns_data_lines_and_path(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("a:\n  b: 1\n", encoding="utf-8")
    doc = load_yaml(path, env={})
    assert (doc.path, doc.data, doc.lines[("a", "b")]) == (str(path), {"a": {"b": 1}}, 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "f.yaml: file not found", id="missing"),
        pytest.param(b"a: \xff\xfe\n", "f.yaml: not UTF-8 text", id="not-utf8"),
    ],
)
def test_unreadable_files_are_problems(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "f.yaml"
    if content is not None:
        path.write_bytes(content)
    doc = read_yaml(path, display="f.yaml")
    assert str(doc.problems[0]).startswith(message)


SCENARIO = """\
start: 2026-03-10T14:00:00Z
general: {daily_reset: {time: "25:00"}}
rules:
  max_contracts: {enabled: true, limit: 0}
  symbol_blocks:
    enabled: true
    blocked: [RTY]
holidays:
  holidays:
    - {date: 2025-12-25}
    - {date: 2025-12-25}
"""


@pytest.mark.parametrize(
    ("model", "section", "expected"),
    [
        pytest.param(
            GeneralConfig,
            "general",
            [
                "s.yaml:2: general.daily_reset.time: must be a time HH:MM (00:00..23:59), e.g. 17:00 "
                "(got '25:00')"
            ],
            id="general",
        ),
        pytest.param(
            RulesConfig,
            "rules",
            [
                "s.yaml:4: rules.max_contracts.limit: must be 1..1000 (got 0), e.g. 5",
                "s.yaml:7: rules.symbol_blocks.blocked: unknown key (did you mean blocked_symbols?); "
                "allowed: enabled, blocked_symbols",
            ],
            id="rules",
        ),
        pytest.param(
            HolidaysConfig,
            "holidays",
            ["s.yaml:11: holidays.holidays[1].date: duplicate of holidays[0] (2025-12-25)"],
            id="holidays",
        ),
    ],
)
def test_parse_model_validates_a_subtree_with_the_whole_files_lines(
    model: type[GeneralConfig | RulesConfig | HolidaysConfig], section: str, expected: list[str]
) -> None:
    doc = parse_yaml(SCENARIO, "s.yaml", env={})
    data = doc.data[section]  # type: ignore[index]
    assert problems(lambda: parse_model(model, data, doc.lines, "s.yaml", (section,))) == expected
    assert problems(lambda: doc.parse(model, (section,))) == expected


def test_parse_model_returns_the_model_when_valid() -> None:
    doc = parse_yaml("holidays:\n  holidays: [{date: 2025-12-25, name: Christmas}]\n", "s.yaml", env={})
    parsed = doc.parse(HolidaysConfig, ("holidays",))
    assert parsed.holiday_dates() == {dt.date(2025, 12, 25): "Christmas"}


def test_parse_model_without_lines_still_names_the_key() -> None:
    found = problems(lambda: parse_model(RulesConfig, {"max_contracts": {"enabled": True}}, {}, "<code>"))
    assert found == ["<code>: max_contracts.limit: required: an integer 1..1000, e.g. 5"]


def test_config_error_is_raised_not_validation_error() -> None:
    with pytest.raises(ConfigError):
        parse_model(RulesConfig, [], {}, "x")
