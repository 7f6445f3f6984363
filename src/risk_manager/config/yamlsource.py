"""YAML that remembers where every key was written, for ``file:line: key: message`` errors.

PyYAML's ``safe_load`` forgets positions, silently keeps the last of two duplicate keys
and follows YAML 1.1, where ``yes``/``no``/``on``/``off`` are booleans and ``17:00`` is
the integer 1020. So we only *compose* the document (nodes keep their marks) with a
YAML 1.2 core-schema resolver (booleans are ``true``/``false`` only; dates and times
stay text for the models to parse), then build plain dicts and lists ourselves,
recording each key's line, reporting duplicate keys and expanding ``${VAR}`` and
``${VAR:-default}`` in strings (SPEC §8).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from risk_manager.config.messages import translate
from risk_manager.config.problems import ConfigError, ConfigProblem, KeyPath, format_key

M = TypeVar("M", bound=BaseModel)

#: Line (1-based) of every key and list item, by key path from the document root.
LineMap = Mapping[KeyPath, int]

_TAG = "tag:yaml.org,2002:"
_MAX_NODES = 100_000


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema: no yes/no/on/off booleans, no sexagesimal ints, no implicit dates."""


_Resolver.add_implicit_resolver(
    f"{_TAG}bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(f"{_TAG}null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver(
    f"{_TAG}int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Resolver.add_implicit_resolver(
    f"{_TAG}float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


class _Composer(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Resolver
):
    """PyYAML's parsing pipeline up to nodes, with our resolver."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VARIABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:(:-)(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file: plain data, the line of every key, and what was wrong with it.

    ``path`` is the file as shown in problems (relative to the cwd where possible).
    ``problems`` is empty for a document from ``load_yaml``, which raises instead.
    """

    path: str
    data: object
    lines: LineMap
    problems: tuple[ConfigProblem, ...] = field(default=())

    def line_of(self, key: KeyPath) -> int | None:
        """Line of a key, or of its nearest ancestor that was written (``None``: nothing was)."""
        return line_for(self.lines, key)

    def parse(self, model: type[M], prefix: KeyPath = (), *, context: dict[str, Any] | None = None) -> M:
        """Validate the subtree at ``prefix`` as ``model``; see ``parse_model``."""
        return parse_model(model, subtree(self.data, prefix), self.lines, self.path, prefix, context=context)


class _Builder:
    """Turns composed nodes into dicts/lists/scalars, collecting lines and problems."""

    def __init__(self, path: str, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[ConfigProblem] = []
        self._active: set[int] = set()
        self._count = 0

    def problem(self, key: KeyPath, line: int, message: str) -> None:
        self.problems.append(ConfigProblem(self.path, line, format_key(key), message))

    def build(self, node: Node, key: KeyPath) -> object:
        self.lines.setdefault(key, node.start_mark.line + 1)
        self._count += 1
        if self._count > _MAX_NODES or id(node) in self._active:
            # Aliases can nest exponentially ("billion laughs") or refer to themselves.
            raise _TooLarge(key, node.start_mark.line + 1)
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, key)
            if isinstance(node, SequenceNode):
                return self._sequence(node, key)
            return self._scalar(node, key)
        finally:
            self._active.discard(id(node))

    def _mapping(self, node: MappingNode, key: KeyPath) -> dict[str, object]:
        self._check_tag(node, f"{_TAG}map", key)
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.problem(key, line, "keys must be plain text, not a list or mapping")
                continue
            name = str(key_node.value)
            child = (*key, name)
            if name in result:
                self.problem(child, line, f"duplicate key (first at line {self.lines[child]})")
                continue
            self.lines[child] = line
            result[name] = self.build(value_node, child)
        return result

    def _sequence(self, node: SequenceNode, key: KeyPath) -> list[object]:
        self._check_tag(node, f"{_TAG}seq", key)
        return [self.build(item, (*key, index)) for index, item in enumerate(node.value)]

    def _scalar(self, node: Node, key: KeyPath) -> object:
        text = str(node.value)
        tag = node.tag
        if tag == f"{_TAG}str" and "${" in text:
            # The result stays text, even if it looks like a number: a username "12345" must not
            # become an int, and `${VAR:-}` must give "" rather than null.
            text = self._interpolate(text, key, node.start_mark.line + 1)
        return self._convert(tag, text, key, node.start_mark.line + 1)

    def _convert(self, tag: str, text: str, key: KeyPath, line: int) -> object:
        if tag == f"{_TAG}str":
            return text
        if tag == f"{_TAG}null":
            return None
        if tag == f"{_TAG}bool":
            return text.lower() == "true"
        if tag not in (f"{_TAG}int", f"{_TAG}float"):
            self.problem(key, line, f"unsupported tag {_short_tag(tag)}")
            return None
        try:
            if tag == f"{_TAG}int":
                return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
            return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
        except ValueError:
            self.problem(key, line, f"not a valid {_short_tag(tag)} value: {text!r}")
            return None

    def _check_tag(self, node: Node, expected: str, key: KeyPath) -> None:
        if node.tag != expected:
            self.problem(key, node.start_mark.line + 1, f"unsupported tag {_short_tag(node.tag)}")

    def _interpolate(self, text: str, key: KeyPath, line: int) -> str:
        """Expand ``${VAR}`` / ``${VAR:-default}`` (default when unset or empty, as in a shell)."""

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            inner = match.group(1)
            parsed = _VARIABLE.match(inner) if inner is not None else None
            if parsed is None:
                self.problem(key, line, f"malformed {match.group(0)!r}; use ${{VAR}} or ${{VAR:-default}}")
                return ""
            name, has_default, default = parsed.groups()
            value = self.env.get(name)
            if value is not None and (value or not has_default):
                return value
            if has_default:
                return str(default)
            self.problem(key, line, f"environment variable {name} is not set (use ${{{name}:-default}})")
            return ""

        return _REFERENCE.sub(replace, text)


class _TooLarge(Exception):
    """The document expands beyond what a config file needs (or refers to itself)."""

    def __init__(self, key: KeyPath, line: int) -> None:
        super().__init__(key, line)
        self.key = key
        self.line = line


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _syntax_problem(path: str, text: str, exc: yaml.YAMLError) -> ConfigProblem:
    """The one-line syntax error of SPEC §8, with 1-based line and column."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        detail = str(exc.problem or "invalid YAML")
        if exc.context:
            where = f" at line {exc.context_mark.line + 1}" if exc.context_mark is not None else ""
            detail += f" ({exc.context}{where})"
        return ConfigProblem.syntax(path, mark.line + 1, mark.column + 1, detail)
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        return ConfigProblem.syntax(path, line, col, f"{exc.reason} (character #x{exc.character:04x})")
    return ConfigProblem.syntax(path, 1, 1, str(exc))


def _compose(text: str) -> Node | None:
    composer = _Composer(text)  # the reader already rejects control characters here
    try:
        node: Node | None = composer.get_single_node()
    except RecursionError:  # PyYAML composes recursively: say where the nesting got too deep
        raise yaml.MarkedYAMLError(problem="nested too deeply", problem_mark=composer.get_mark()) from None
    finally:
        composer.dispose()
    return node


def parse_yaml(text: str, path: str, env: Mapping[str, str] | None = None) -> YamlDoc:
    """Parse YAML text without raising: problems (syntax, duplicates, env) are in ``doc.problems``.

    An empty document has ``data`` ``None``. After a syntax error ``data`` is ``None`` and
    the only problem is the syntax error.
    """
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        return YamlDoc(path, None, {}, (_syntax_problem(path, text, exc),))
    if node is None:
        return YamlDoc(path, None, {})
    builder = _Builder(path, os.environ if env is None else env)
    try:
        data = builder.build(node, ())
    except _TooLarge as exc:
        message = "document too large or refers to itself (check anchors and aliases)"
        return YamlDoc(path, None, {}, (ConfigProblem(path, exc.line, format_key(exc.key), message),))
    return YamlDoc(path, data, builder.lines, tuple(builder.problems))


def read_yaml(path: Path, display: str | None = None, env: Mapping[str, str] | None = None) -> YamlDoc:
    """Read and parse a file without raising; an unreadable file is a problem of the document."""
    shown = display if display is not None else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return YamlDoc(shown, None, {}, (ConfigProblem(shown, None, "", "file not found"),))
    except UnicodeDecodeError as exc:
        return YamlDoc(shown, None, {}, (ConfigProblem(shown, None, "", f"not UTF-8 text ({exc.reason})"),))
    except OSError as exc:
        return YamlDoc(shown, None, {}, (ConfigProblem(shown, None, "", f"cannot read: {exc.strerror}"),))
    return parse_yaml(text, shown, env)


def load_yaml(path: Path, display: str | None = None, env: Mapping[str, str] | None = None) -> YamlDoc:
    """Read a YAML file keeping each key's line; raises ConfigError with every problem found.

    ``display`` is the path shown in problems (default ``str(path)``); ``env`` replaces
    ``os.environ`` for ``${VAR}`` expansion (tests, the control API).
    """
    doc = read_yaml(path, display, env)
    if doc.problems:
        raise ConfigError(doc.problems)
    return doc


def line_for(lines: LineMap, key: KeyPath) -> int | None:
    """Line of ``key``, else of its nearest written ancestor (a missing key points at its parent)."""
    for end in range(len(key), -1, -1):
        line = lines.get(key[:end])
        if line is not None:
            return line
    return None


def sub_lines(lines: LineMap, prefix: KeyPath) -> dict[KeyPath, int]:
    """The line map of the subtree at ``prefix``, with paths relative to it."""
    size = len(prefix)
    return {key[size:]: line for key, line in lines.items() if key[:size] == prefix}


def subtree(data: object, prefix: KeyPath) -> object:
    """The value at ``prefix`` (``None`` if any step is missing or of the wrong kind)."""
    for part in prefix:
        if isinstance(part, str) and isinstance(data, dict):
            data = data.get(part)
        elif isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def validation_problems(
    exc: ValidationError, model: type[BaseModel], lines: LineMap, path: str, prefix: KeyPath = ()
) -> list[ConfigProblem]:
    """Every error of a validation as a ConfigProblem at its key and line, in file order."""
    problems: list[ConfigProblem] = []
    for error in exc.errors():
        for loc, message in translate(error, model):
            full = (*prefix, *loc)
            problem = ConfigProblem(path, line_for(lines, full), format_key(full), message)
            if problem not in problems:
                problems.append(problem)
    return sorted(problems, key=lambda p: p.line if p.line is not None else 0)


def parse_model(
    model: type[M],
    data: object,
    lines: LineMap | YamlDoc,
    path: str,
    prefix: KeyPath = (),
    *,
    context: dict[str, Any] | None = None,
) -> M:
    """Validate ``data`` (the subtree of a document at ``prefix``) as ``model``.

    ``lines`` is the whole document's line map (or the document) and ``prefix`` the
    subtree's place in it, so a scenario file can validate its ``rules`` section with
    ``prefix=("rules",)`` and get ``rules.max_contracts.limit`` at the right line.
    ``context`` reaches the model validators (the accounts model needs ``config_dir``).
    Raises ConfigError with every problem.
    """
    line_map = lines.lines if isinstance(lines, YamlDoc) else lines
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, model, line_map, path, prefix)) from None


__all__ = [
    "LineMap",
    "YamlDoc",
    "line_for",
    "load_yaml",
    "parse_model",
    "parse_yaml",
    "read_yaml",
    "sub_lines",
    "subtree",
    "validation_problems",
]
