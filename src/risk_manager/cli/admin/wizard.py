"""The rule wizard's questions (SPEC §6): each key with its value, type, range and default.

Every answer is checked at once against the rule's pydantic model: the whole block is
validated with the answer in place and only the problems at that key are shown (later
keys may still be missing), so a bad value is re-asked right away, not after the last
question. Cross-key checks (breakeven offset < trigger, per_minute <= per_hour) surface
at the later of the two keys. Sub-blocks (``trade_management.breakeven``) are asked key
by key; an absent optional one is offered first.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import types
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

import typer
import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from risk_manager.cli.admin.edits import EditError, PathPart, parse_value
from risk_manager.config.fields import format_duration
from risk_manager.config.messages import describe_range, find_field, translate

Prompt = Callable[[str, str], str]
"""Asks one question with a default (the current value) and returns the answer text."""


def _typer_prompt(question: str, default: str) -> str:
    return str(typer.prompt(question, default=default, show_default=bool(default)))


def plain(value: Any) -> Any:
    """A model value as the YAML files spell it: Decimal -> number, 5 min -> "5m", 17:00 -> "17:00"."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump(exclude_unset=False))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def yaml_text(value: Any) -> str:
    """One line of YAML flow style: what the admin would type to give this value."""
    text = yaml.safe_dump(plain(value), default_flow_style=True, width=math.inf, allow_unicode=True)
    return text.strip().removesuffix("...").strip()


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0], True
    return annotation, False


def sub_model(annotation: Any) -> type[BaseModel] | None:
    inner, _ = _unwrap_optional(annotation)
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


_TYPE_NAMES: dict[Any, str] = {
    bool: "true/false",
    int: "integer",
    Decimal: "number",
    float: "number",
    str: "text",
    dt.time: "time HH:MM",
    dt.date: "date YYYY-MM-DD",
    dt.timedelta: "duration (seconds, or 30s, 5m, 1h)",
}


def type_text(annotation: Any) -> str:
    """``integer``, ``one of gross, net``, ``mapping``...: what kind of value a key takes."""
    inner, optional = _unwrap_optional(annotation)
    origin = get_origin(inner)
    if inner in _TYPE_NAMES:
        text = _TYPE_NAMES[inner]
    elif origin is Literal:
        text = "one of " + ", ".join(str(choice) for choice in get_args(inner))
    elif origin is list:
        text = "list, e.g. [A, B]"
    elif origin is dict:
        text = "mapping, e.g. {KEY: value}"
    else:
        text = "value"
    return f"{text} or null" if optional else text


def default_text(info: FieldInfo) -> str:
    """The default as YAML, or ``required``."""
    if info.default_factory is not None:
        return yaml_text(info.default_factory())  # type: ignore[call-arg]
    if info.default is PydanticUndefined:
        return "required"
    return yaml_text(info.default)


@dataclass(frozen=True)
class KeyFacts:
    """What the wizard shows before asking one key."""

    path: tuple[PathPart, ...]
    type: str
    range: str
    default: str

    def line(self, current: str) -> str:
        limits = f" {self.range}" if self.range else ""
        dotted = ".".join(str(part) for part in self.path)
        return f"{dotted}: {self.type}{limits}; default {self.default}; now {current}"


def key_facts(model: type[BaseModel], path: tuple[PathPart, ...], info: FieldInfo) -> KeyFacts:
    facts = find_field(model, list(path))
    limits = describe_range(facts) if facts is not None else ""
    return KeyFacts(path, type_text(info.annotation), limits, default_text(info))


def problems_at(model: type[BaseModel], data: dict[str, Any], path: tuple[PathPart, ...]) -> list[str]:
    """Problems the block has at ``path`` (or below it), in the config loader's words."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        found: list[str] = []
        for error in exc.errors():
            for loc, message in translate(error, model):
                if tuple(loc[: len(path)]) == path and message not in found:
                    found.append(message)
        return found
    return []


def _get(data: dict[str, Any], path: tuple[PathPart, ...]) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _has(data: dict[str, Any], path: tuple[PathPart, ...]) -> bool:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _put(data: dict[str, Any], path: tuple[PathPart, ...], value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


class Wizard:
    """Asks every key of one rule block; ``answers`` is the block as the admin left it."""

    def __init__(self, model: type[BaseModel], current: dict[str, Any] | None, ask: Prompt = _typer_prompt):
        self.model = model
        self.answers: dict[str, Any] = copy.deepcopy(current) if current else {}
        self.ask = ask

    def run(self) -> dict[str, Any]:
        """The whole block; just ``enabled: false`` kept as is when the admin disables the rule."""
        enabled = self.answers.get("enabled")
        now = "absent (disabled)" if enabled is None else yaml_text(enabled)
        typer.echo(f"enabled: true/false; now {now}")
        self.answers["enabled"] = self._ask_bool("enabled", bool(enabled))
        if self.answers["enabled"]:
            self._ask_model(self.model, ())
        return self.answers

    def _ask_model(self, model: type[BaseModel], prefix: tuple[PathPart, ...]) -> None:
        for name, info in model.model_fields.items():
            path = (*prefix, name)
            if path == ("enabled",):
                continue
            sub = sub_model(info.annotation)
            if sub is None:
                self._ask_key(path, info)
            elif _has(self.answers, path) and _get(self.answers, path) is not None:
                self._ask_model(sub, path)
            elif self._offer(path, info):
                _put(self.answers, path, {})
                self._ask_model(sub, path)

    def _offer(self, path: tuple[PathPart, ...], info: FieldInfo) -> bool:
        """An absent sub-block: set it up now? (a required one always is)."""
        if info.is_required():
            return True
        dotted = ".".join(str(part) for part in path)
        return self._ask_bool(f"set up {dotted} (absent now)", False)

    def _ask_key(self, path: tuple[PathPart, ...], info: FieldInfo) -> None:
        facts = key_facts(self.model, path, info)
        present = _has(self.answers, path)
        current = yaml_text(_get(self.answers, path)) if present else ""
        typer.echo(facts.line(current if present else f"absent (default {facts.default})"))
        while True:
            answer = self.ask(".".join(str(part) for part in path), current)
            if answer == "" and not present:
                if facts.default != "required":
                    return  # left absent: the model's default applies
                typer.echo("  required: give a value", err=True)
                continue
            try:
                value = parse_value(answer)
            except EditError as exc:
                typer.echo(f"  {exc}", err=True)
                continue
            trial = copy.deepcopy(self.answers)
            _put(trial, path, value)
            problems = problems_at(self.model, trial, path)
            if not problems:
                _put(self.answers, path, value)
                return
            for problem in problems:
                typer.echo(f"  {'.'.join(str(part) for part in path)}: {problem}", err=True)

    def _ask_bool(self, question: str, default: bool) -> bool:
        while True:
            answer = self.ask(f"{question} (true/false)", yaml_text(default)).strip().lower()
            if answer in ("true", "yes", "y"):
                return True
            if answer in ("false", "no", "n"):
                return False
            typer.echo("  answer true or false", err=True)


__all__ = [
    "KeyFacts",
    "Prompt",
    "Wizard",
    "default_text",
    "key_facts",
    "plain",
    "sub_model",
    "type_text",
    "yaml_text",
]
