"""Pydantic errors translated into short messages that say what is allowed (SPEC §8).

Pydantic reports ``Input should be less than or equal to -1``; the operator needs
``must be -1000000..-1 (got 500.0), e.g. -500.0``. A pydantic error only knows the
bound it broke, so the translator looks the field up in the model (by the error's
location) to find both bounds, the choices of a Literal, an example and, for an unknown
key, the keys that are allowed.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from risk_manager.config.fields import ISSUES_ERROR, Issue, show
from risk_manager.config.problems import KeyPath

#: Pydantic's marker in the location of a dict key (rather than its value).
_DICT_KEY = "[key]"


@dataclass
class FieldFacts:
    """What the model says about the value at one location: type, bounds, choices, example."""

    annotation: Any = None
    metadata: list[Any] = field(default_factory=list)
    example: object = None
    keys: tuple[str, ...] = ()
    """Allowed keys when the location is a model (for unknown-key messages)."""

    @property
    def is_secret(self) -> bool:
        """Secrets never appear in messages, not even as ``(got ...)``."""
        return self.annotation is SecretStr

    def bound(self, kind: type[Any]) -> Any:
        """The value of the first Ge/Gt/Le/Lt/MinLen/MaxLen of that kind, else ``None``."""
        for item in self.metadata:
            if isinstance(item, kind):
                return getattr(item, _BOUND_ATTRS[kind])
        return None


_BOUND_ATTRS: dict[type[Any], str] = {
    annotated_types.Ge: "ge",
    annotated_types.Gt: "gt",
    annotated_types.Le: "le",
    annotated_types.Lt: "lt",
    annotated_types.MinLen: "min_length",
    annotated_types.MaxLen: "max_length",
}


def _unwrap(annotation: Any) -> tuple[Any, list[Any], object]:
    """Strip ``Annotated`` and ``X | None``; collect constraint metadata and the first example."""
    metadata: list[Any] = []
    example: object = None
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extras = get_args(annotation)
            for extra in extras:
                if isinstance(extra, FieldInfo):
                    metadata.extend(extra.metadata)
                    example = example if example is not None or not extra.examples else extra.examples[0]
                else:
                    metadata.append(extra)
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation, metadata, example
            annotation = members[0]
        else:
            return annotation, metadata, example


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def find_field(model: type[BaseModel], loc: Sequence[str | int]) -> FieldFacts | None:
    """Walk a model's annotations along an error location; ``None`` if the path leaves the schema."""
    facts = FieldFacts(annotation=model, keys=tuple(model.model_fields))
    for part in loc:
        annotation, _, _ = _unwrap(facts.annotation)
        origin = get_origin(annotation)
        if _is_model(annotation):
            info = annotation.model_fields.get(part) if isinstance(part, str) else None
            if info is None:
                return None
            facts = FieldFacts(
                info.annotation, list(info.metadata), info.examples[0] if info.examples else None
            )
        elif origin is dict and isinstance(part, str):
            facts = FieldFacts(get_args(annotation)[1])
        elif origin is list and isinstance(part, int):
            facts = FieldFacts(get_args(annotation)[0])
        else:
            return None
        inner, metadata, example = _unwrap(facts.annotation)
        facts.annotation = inner
        facts.metadata.extend(metadata)
        facts.example = facts.example if facts.example is not None else example
        facts.keys = tuple(inner.model_fields) if _is_model(inner) else ()
    return facts


def _type_name(annotation: Any) -> str:
    """The kind of value expected, as an operator would say it."""
    names: dict[Any, str] = {
        bool: "true or false",
        int: "an integer",
        Decimal: "a number",
        float: "a number",
        str: "text",
        SecretStr: "text",
        time: "a time HH:MM",
        date: "a date YYYY-MM-DD",
        timedelta: "a duration (seconds or <n>s, <n>m, <n>h)",
    }
    if annotation in names:
        return str(names[annotation])
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(str(choice) for choice in get_args(annotation))
    if origin is list:
        return "a list"
    if origin is dict or _is_model(annotation):
        return "a mapping"
    return "a value"


def describe_range(facts: FieldFacts) -> str:
    """``1..1000``, ``< 0``, ``> 0``, ``>= 1``... from the field's bounds ("" if it has none)."""
    ge, gt = facts.bound(annotated_types.Ge), facts.bound(annotated_types.Gt)
    le, lt = facts.bound(annotated_types.Le), facts.bound(annotated_types.Lt)
    if ge is not None and le is not None:
        return f"{ge}..{le}"
    lower = f">= {ge}" if ge is not None else f"> {gt}" if gt is not None else ""
    upper = f"<= {le}" if le is not None else f"< {lt}" if lt is not None else ""
    return " and ".join(part for part in (lower, upper) if part)


def _expected(facts: FieldFacts | None) -> str:
    """``an integer 1..1000, e.g. 5``: what a missing key should hold."""
    if facts is None:
        return ""
    text = _type_name(facts.annotation)
    limits = describe_range(facts)
    text += f" {limits}" if limits else ""
    return text + _example(facts)


def _example(facts: FieldFacts | None) -> str:
    return f", e.g. {facts.example}" if facts is not None and facts.example is not None else ""


def _got(error: ErrorDetails, facts: FieldFacts | None) -> str:
    if facts is not None and facts.is_secret:
        return ""
    return f" (got {show(error['input'])})"


def _must_be(error: ErrorDetails, facts: FieldFacts | None, kind: str | None) -> str:
    """``must be <type> <range> (got x), e.g. y``: the common shape of type and range errors.

    ``kind`` is the expected type for a type error; ``None`` for a range error, where the
    type was right and only the range is worth saying.
    """
    if facts is None:
        return f"must be {kind or 'in range'}{_got(error, None)}"
    type_name = _type_name(facts.annotation) if kind is not None else ""
    expected = " ".join(part for part in (type_name, describe_range(facts)) if part)
    return f"must be {expected or kind or 'in range'}{_got(error, facts)}{_example(facts)}"


def _range(error: ErrorDetails, facts: FieldFacts | None) -> str:
    if facts is not None and describe_range(facts):
        return _must_be(error, facts, None)
    ctx = error.get("ctx", {})
    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    bound = next((f"{symbols[key]} {value}" for key, value in ctx.items() if key in symbols), "in range")
    return f"must be {bound}{_got(error, facts)}"


def _length(error: ErrorDetails, facts: FieldFacts | None) -> str:
    low = facts.bound(annotated_types.MinLen) if facts is not None else None
    high = facts.bound(annotated_types.MaxLen) if facts is not None else None
    ctx = error.get("ctx", {})
    if low is not None and high is not None:
        allowed = f"{low}..{high}"
    elif high is not None or "max_length" in ctx:
        allowed = f"at most {high if high is not None else ctx['max_length']}"
    else:
        allowed = f"at least {low if low is not None else ctx.get('min_length', 1)}"
    singular = allowed.endswith(" 1")
    if isinstance(error["input"], str):
        noun = "character" if singular else "characters"
    else:
        noun = "entry" if singular else "entries"
    actual = ctx.get("actual_length", len(error["input"]) if hasattr(error["input"], "__len__") else "?")
    return f"must have {allowed} {noun} (got {actual})"


def _unknown_key(error: ErrorDetails, parent: FieldFacts | None) -> str:
    allowed = parent.keys if parent is not None else ()
    if not allowed:
        return "unknown key"
    loc = error["loc"]
    key = str(loc[-1]) if loc else ""
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key{hint}; allowed: {', '.join(allowed)}"


def _value_error(error: ErrorDetails, facts: FieldFacts | None) -> str:
    # Our validators write the whole message (it may start with a symbol: keep its case).
    return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _mapping(error: ErrorDetails, facts: FieldFacts | None) -> str:
    keys = f" with keys {', '.join(facts.keys)}" if facts is not None and facts.keys else ""
    return f"must be a mapping{keys} (got {show(error['input'])})"


_Translate = Callable[[ErrorDetails, "FieldFacts | None"], str]

_MESSAGES: dict[str, _Translate] = {
    "bool_type": lambda e, f: f"must be true or false{_got(e, f)}",
    "bool_parsing": lambda e, f: f"must be true or false{_got(e, f)}",
    "int_type": lambda e, f: _must_be(e, f, "an integer"),
    "int_parsing": lambda e, f: _must_be(e, f, "an integer"),
    "int_from_float": lambda e, f: _must_be(e, f, "an integer"),
    "float_type": lambda e, f: _must_be(e, f, "a number"),
    "float_parsing": lambda e, f: _must_be(e, f, "a number"),
    "decimal_type": lambda e, f: _must_be(e, f, "a number"),
    "rm_number": lambda e, f: _must_be(e, f, "a number"),
    "string_type": lambda e, f: f"must be text{_got(e, f)}",
    "list_type": lambda e, f: f"must be a list{_got(e, f)}",
    "dict_type": _mapping,
    "model_type": _mapping,
    "model_attributes_type": _mapping,
    "literal_error": lambda e, f: f"must be one of {_choices(e, f)}{_got(e, f)}",
    "less_than": _range,
    "less_than_equal": _range,
    "greater_than": _range,
    "greater_than_equal": _range,
    "too_short": _length,
    "too_long": _length,
    "string_too_short": _length,
    "string_too_long": _length,
    "string_pattern_mismatch": lambda e, f: f"must match {e.get('ctx', {}).get('pattern', '?')}{_got(e, f)}",
    "value_error": _value_error,
    "assertion_error": _value_error,
    "frozen_instance": lambda e, f: "cannot be changed",
}


def _choices(error: ErrorDetails, facts: FieldFacts | None) -> str:
    if facts is not None and get_origin(facts.annotation) is Literal:
        return ", ".join(str(choice) for choice in get_args(facts.annotation))
    return str(error.get("ctx", {}).get("expected", "?")).replace("'", "")


def translate(error: ErrorDetails, model: type[BaseModel]) -> list[Issue]:
    """One pydantic error as ``(key path, message)`` issues relative to ``model``'s input.

    A model validator's bundle (``fields.fail``) becomes one issue per key; a dict key
    error points at the key itself. Unknown error types keep pydantic's own text.
    """
    loc: KeyPath = tuple(error["loc"])
    kind = error["type"]
    if kind == ISSUES_ERROR:
        issues: tuple[Issue, ...] = error.get("ctx", {})["issues"]
        return [(loc + tuple(sub), message) for sub, message in issues]
    if loc and loc[-1] == _DICT_KEY:
        return [(loc[:-1], f"invalid key: {error['msg']}")]
    if kind == "missing":
        expected = _expected(find_field(model, loc))
        return [(loc, f"required: {expected}" if expected else "required")]
    if kind == "extra_forbidden":
        return [(loc, _unknown_key(error, find_field(model, loc[:-1])))]
    facts = find_field(model, loc)
    translator = _MESSAGES.get(kind)
    if translator is not None:
        return [(loc, translator(error, facts))]
    if kind.startswith("rm_"):
        return [(loc, error["msg"])]
    return [(loc, f"{error['msg'][:1].lower()}{error['msg'][1:]}{_got(error, facts)}")]


__all__ = ["FieldFacts", "describe_range", "find_field", "translate"]
