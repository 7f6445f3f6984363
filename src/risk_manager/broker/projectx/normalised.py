"""The journal's form of a domain event: snake_case JSON, and back.

The journal keeps the gateway's raw payload beside this normalised form; a restart
rebuilds the ledger from the normalised form alone, so ``event_from_normalised``
must return an event equal to the one journaled. Field names are the domain's, never
the gateway's. Encoding: Decimal -> string (exact, no float noise), datetime -> ISO-8601
UTC with ``Z``, enums -> their int, nested domain objects -> objects.

Example: ``normalised(FillReceived(...))`` ->
``{"at": "2026-03-10T14:00:01Z", "fill": {"id": 5001, "price": "21000.25", "side": 0, ...}}``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any

from risk_manager.broker.projectx.wire import WireError
from risk_manager.domain import (
    AccountInfo,
    AccountUpdated,
    Evaluate,
    Event,
    Fill,
    FillReceived,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdated,
    Position,
    PositionUpdated,
    Quote,
    QuoteReceived,
    Tick,
    to_decimal,
)

_EVENT_CLASSES: tuple[type[Any], ...] = (
    AccountUpdated,
    OrderUpdated,
    PositionUpdated,
    FillReceived,
    QuoteReceived,
    Tick,
    Evaluate,
)
_EVENTS: dict[str, type[Any]] = {cls.__name__: cls for cls in _EVENT_CLASSES}
_OBJECTS: tuple[type[Any], ...] = (AccountInfo, Order, Position, Fill, Quote)

# ---------------------------------------------------------------------------------------
# Encoding (every journaled event: kept to a dict lookup per field)
# ---------------------------------------------------------------------------------------


def _iso_z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


#: Field names of every domain class the journal can hold, computed once.
_NAMES: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in (*_EVENT_CLASSES, *_OBJECTS)
}


def _encode_object(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _NAMES[type(value)]:
        item = getattr(value, name)
        encoder = _ENCODERS.get(type(item))
        if encoder is not None:
            out[name] = encoder(item)
        elif type(item) in _PLAIN:
            out[name] = item
        else:
            out[name] = _encode_subclass(item)
    return out


def _encode_subclass(item: Any) -> Any:
    """Slow path for subclasses (a pandas Timestamp is a datetime): encode by what they are."""
    if isinstance(item, Decimal):
        return str(item)
    if isinstance(item, datetime):
        return _iso_z(item)
    if isinstance(item, IntEnum):
        return int(item)
    raise TypeError(f"normalised: cannot encode {type(item).__name__} {item!r}")


_PLAIN = frozenset({int, str, bool, float, type(None)})
_ENCODERS: dict[type[Any], Callable[[Any], Any]] = {
    Decimal: str,
    datetime: _iso_z,
    OrderType: int,
    OrderSide: int,
    OrderStatus: int,
    **{cls: _encode_object for cls in _OBJECTS},
}


def event_type(event: Event) -> str:
    """The name the journal stores beside :func:`normalised`: the domain class name."""
    return type(event).__name__


def normalised(event: Event) -> dict[str, Any]:
    """The snake_case JSON form of a domain event (without its type: see :func:`event_type`)."""
    return _encode_object(event)


# ---------------------------------------------------------------------------------------
# Decoding (restart only)
# ---------------------------------------------------------------------------------------


def _decode_datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _optional(decoder: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else decoder(value)


def _decoder(hint: Any) -> Callable[[Any], Any]:
    """How to read one field back, from its type hint (``X | None`` accepts null)."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        return _optional(_decoder(inner))
    if hint is Decimal:
        return to_decimal
    if hint is datetime:
        return _decode_datetime
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda value: _decode_object(hint, value, hint.__name__)
    return lambda value: value


_DECODERS: dict[type[Any], dict[str, tuple[Callable[[Any], Any], bool]]] = {}


def _decoders(cls: type[Any]) -> dict[str, tuple[Callable[[Any], Any], bool]]:
    """Field name -> (decoder, required) for a domain dataclass, built on first use."""
    known = _DECODERS.get(cls)
    if known is not None:
        return known
    hints = typing.get_type_hints(cls)
    _DECODERS[cls] = {
        f.name: (
            _decoder(hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    }
    return _DECODERS[cls]


def _decode_object(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise WireError(f"{where}: expected an object, got {type(data).__name__}")
    kwargs: dict[str, Any] = {}
    for name, (decoder, required) in _decoders(cls).items():
        if name not in data:
            if required:
                raise WireError(f"{where}: field '{name}' is missing")
            continue
        try:
            kwargs[name] = decoder(data[name])
        except WireError:
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            reason = "not a decimal number" if isinstance(exc, InvalidOperation) else str(exc)
            raise WireError(f"{where}: field '{name}': {reason} (got {data[name]!r})") from None
    return cls(**kwargs)


def event_from_normalised(type: str, data: Mapping[str, Any]) -> Event:
    """The domain event journaled as ``(type, data)``; raises :class:`WireError` if it does not fit."""
    cls = _EVENTS.get(type)
    if cls is None:
        raise WireError(
            f"journal: unknown event type {type!r} (expected one of {', '.join(sorted(_EVENTS))})"
        )
    event: Event = _decode_object(cls, data, f"journal {type}")
    return event


__all__ = ["event_from_normalised", "event_type", "normalised"]
