"""Fuzz: hostile config files through ``load_config_set`` (SPEC §8).

Starting from the shipped example set, one file at a time is broken: its text mutated
character by character (syntax errors, tabs, stray anchors and tags), or its data
rebuilt with hostile values (wrong types, huge numbers, ``.nan``/``.inf``, odd unicode,
deep nesting, unknown keys) and dumped as YAML. Whatever the files hold, loading gives a
config set or a ConfigError whose every line is ``file:line: key: message`` (syntax:
``file:line:col: YAML syntax error: ...``), never another exception.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzzkit import NASTY_NUMBERS, NASTY_TEXT
from hypothesis import given
from hypothesis import strategies as st

from risk_manager.config import ConfigError
from risk_manager.config.loader import load_config_set

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "config"
FILES = ("accounts.yaml", "risk_config.yaml", "holidays.yaml")
#: ``path:line: key: message`` or ``path:line:col: YAML syntax error: detail`` (SPEC §8).
PROBLEM = re.compile(r"^(?P<path>[^:\n]+\.yaml):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<rest>[^\n]+)$")
#: Characters that change what YAML means, for text mutations.
YAML_CHARS = [*":{}[],&*!|>%@`#'\"-?\t\n ", "${", "${X", "}}", "&a", "*a", "!!python/object", "\\", "\x00"]
LOADED = {name: yaml.safe_load((EXAMPLES / name).read_text()) for name in FILES}


def _all_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _all_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _all_keys(inner)


KEYS = sorted({key for doc in LOADED.values() for key in _all_keys(doc)})

hostile_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NASTY_NUMBERS),
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=15),
    st.sampled_from(["17:00", "25:99", "America/Nowhere", "2026-02-30", "-500", "yes", "on", "0x1F", "1e3"]),
)
hostile_values = st.recursive(
    hostile_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def rebuilt(draw: st.DrawFn, name: str) -> str:
    """The example file's data with a few values replaced, keys dropped or added, dumped as YAML."""
    doc = _copy(LOADED[name])
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(list(_paths(doc)) or [()]))
        action = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        doc = _change(doc, path, action, draw(hostile_values), draw(st.sampled_from(KEYS)))
    return yaml.safe_dump(doc, allow_unicode=draw(st.booleans()), sort_keys=False)


@st.composite
def mutated(draw: st.DrawFn, name: str) -> str:
    """The example file's text with a few characters inserted, deleted or lines duplicated."""
    text = (EXAMPLES / name).read_text()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "line"]))
        if action == "insert":
            text = text[:at] + draw(st.sampled_from(YAML_CHARS)) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 5)) :]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                index = at % len(lines)
                lines.insert(index, lines[index])
            text = "".join(lines)
    return text


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*prefix, index)
            yield from _paths(inner, (*prefix, index))


def _change(doc: Any, path: tuple[Any, ...], action: str, value: Any, key: str) -> Any:
    if not path:
        return value if action == "replace" else doc
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "drop":
        del parent[last]
    elif isinstance(parent, dict):
        parent[key] = value
    else:
        parent.append(value)
    return doc


@contextmanager
def config_dir_with(name: str, text: str) -> Iterator[Path]:
    """A copy of the examples with ``name`` replaced by ``text``."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "config"
        shutil.copytree(EXAMPLES, target)
        (target / name).write_text(text, encoding="utf-8")
        yield target


def check_load(name: str, text: str) -> None:
    """Loading gives a set or ConfigError with every problem in SPEC §8's form, at a real line."""
    with config_dir_with(name, text) as directory:
        try:
            load_config_set(directory, env={}, cwd=directory.parent)
        except ConfigError as exc:
            assert exc.problems, "a ConfigError names at least one problem"
            for problem, line in zip(exc.problems, str(exc).splitlines(), strict=True):
                match = PROBLEM.match(line)
                assert match is not None, f"not file:line: key: message: {line!r}"
                assert match["path"].removeprefix("config/") in FILES, line
                written = (directory / match["path"].removeprefix("config/")).read_text(encoding="utf-8")
                assert 1 <= int(match["line"]) <= written.count("\n") + 2, line
                if match["col"] is None and problem.key:  # a key unless the whole document is wrong
                    assert match["rest"].startswith(f"{problem.key}: "), line


@pytest.mark.parametrize("name", FILES)
@given(data=st.data())
def test_hostile_values_give_file_line_key_problems_never_a_traceback(name: str, data: st.DataObject) -> None:
    check_load(name, data.draw(rebuilt(name)))


@pytest.mark.parametrize("name", FILES)
@given(data=st.data())
def test_mangled_yaml_text_gives_file_line_problems_never_a_traceback(name: str, data: st.DataObject) -> None:
    check_load(name, data.draw(mutated(name)))


#: Nine levels of nine aliases each: 9**9 leaves if expanded.
BILLION_LAUGHS = "\n".join(
    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)
).replace("*l0", "lol")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 5000 + "]" * 5000, id="nested-5000"),
        pytest.param("a: " + "{b: " * 300 + "1" + "}" * 300, id="nested-300"),
        pytest.param("a: &a [*a]", id="self-alias"),
        pytest.param(BILLION_LAUGHS, id="billion-laughs"),
        pytest.param("version: 1\nrules: !!python/object/apply:os.system ['true']\n", id="python-tag"),
        pytest.param("\ufeffversion: 1\n\t rules: {}\n", id="bom-and-tab"),
        pytest.param("version: 1\n" + "x: 1\n" * 3000, id="duplicate-keys-3000"),
        pytest.param("", id="empty"),
        pytest.param("--- 1\n--- 2\n", id="two-documents"),
        pytest.param("version: 99999999999999999999999999\n", id="huge-version"),
    ],
)
@pytest.mark.parametrize("name", FILES)
def test_known_nasty_documents(name: str, text: str) -> None:
    check_load(name, text)
