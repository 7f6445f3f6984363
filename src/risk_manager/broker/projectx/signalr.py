"""The SignalR JSON hub protocol, as TopstepX's hubs speak it (PROJECTX.md §4.2).

Shared by our client and by the gateway simulator, so the two frame messages the same
way. Each message is a JSON object followed by the record separator 0x1E; one text
frame may carry several messages, and a message may be split across frames.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

RECORD_SEPARATOR = "\x1e"
HANDSHAKE_REQUEST: dict[str, Any] = {"protocol": "json", "version": 1}


class MessageType(IntEnum):
    INVOCATION = 1
    STREAM_ITEM = 2
    COMPLETION = 3
    STREAM_INVOCATION = 4
    CANCEL_INVOCATION = 5
    PING = 6
    CLOSE = 7


class ProtocolError(ValueError):
    """A frame that is not the SignalR JSON protocol."""


def encode(message: dict[str, Any]) -> str:
    """One message, framed."""
    return json.dumps(message, separators=(",", ":")) + RECORD_SEPARATOR


def invocation(target: str, *arguments: Any, invocation_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": MessageType.INVOCATION, "target": target, "arguments": list(arguments)}
    if invocation_id is not None:
        message["invocationId"] = invocation_id
    return message


def completion(invocation_id: str, *, result: Any = None, error: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": MessageType.COMPLETION, "invocationId": invocation_id}
    if error is not None:
        message["error"] = error
    elif result is not None:
        message["result"] = result
    return message


PING: dict[str, Any] = {"type": MessageType.PING}


def close(error: str | None = None, *, allow_reconnect: bool = True) -> dict[str, Any]:
    message: dict[str, Any] = {"type": MessageType.CLOSE, "allowReconnect": allow_reconnect}
    if error is not None:
        message["error"] = error
    return message


class Decoder:
    """Splits incoming text into messages, keeping a partial tail for the next frame."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[dict[str, Any]]:
        """The complete messages in ``text`` (plus what was buffered); raises ProtocolError."""
        self._buffer += text
        *complete, self._buffer = self._buffer.split(RECORD_SEPARATOR)
        messages: list[dict[str, Any]] = []
        for raw in complete:
            if not raw:
                continue
            try:
                message = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ProtocolError(f"not JSON: {raw[:80]!r}") from exc
            except RecursionError:  # nesting past the interpreter's limit: not a message we could use
                raise ProtocolError(f"JSON nested too deeply: {raw[:80]!r}") from None
            if not isinstance(message, dict):
                raise ProtocolError(f"not a JSON object: {raw[:80]!r}")
            messages.append(message)
        return messages


__all__ = [
    "HANDSHAKE_REQUEST",
    "PING",
    "RECORD_SEPARATOR",
    "Decoder",
    "MessageType",
    "ProtocolError",
    "close",
    "completion",
    "encode",
    "invocation",
]
