"""The event journal: every inbound event (raw payload + normalised form) and every decision.

Appends are buffered by the store and flushed on every tick and before every lock
row, so the hot path costs no SQL. A crash loses at most the unflushed tail, which the
REST resync after restart recovers (the broker is the truth, merged by fill id).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from risk_manager.broker.projectx.normalised import event_from_normalised, normalised
from risk_manager.domain import Action, Decision, Event, QuoteReceived
from risk_manager.store import JournalRow, Store

if TYPE_CHECKING:
    from risk_manager.engine.engine import Source

DECISION = "Decision"


def journal_event(
    store: Store, event: Event, source: Source | None, now: datetime, note: dict[str, object] | None = None
) -> None:
    """Append one inbound event; ``type`` is the gateway's event name when it came from one.

    ``note`` holds the engine's own findings about the event under ``"engine"``.
    """
    kind = type(event).__name__
    account_id = None if isinstance(event, QuoteReceived) else getattr(event, "account_id", None)

    def payload() -> dict[str, Any]:  # built on the store's writer thread; events are immutable
        body: dict[str, Any] = {"event": kind, **normalised(event)}
        if note:
            body["engine"] = note
        return body

    row_type = source.type if source is not None else kind
    raw = source.raw if source is not None else None
    store.append_journal(JournalRow(None, now, account_id, row_type, raw, payload))  # type: ignore[arg-type]


def journal_decision(store: Store, decision: Decision, now: datetime) -> None:
    payload: dict[str, Any] = {
        "rule": decision.rule,
        "reason": decision.reason,
        "actions": [_action_json(a) for a in decision.actions],
        "lock": None
        if decision.lock is None
        else {
            "kind": decision.lock.kind,
            "scope": decision.lock.scope,
            "until": None if decision.lock.until is None else decision.lock.until.isoformat(),
        },
        "state": decision.state,
    }
    store.append_journal(JournalRow(None, now, decision.account_id, DECISION, None, payload))


def _action_json(action: Action) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": action.kind.value}
    for name in ("contract_id", "size", "order_id"):
        if getattr(action, name) is not None:
            data[name] = getattr(action, name)
    if action.price is not None:
        data["price"] = str(action.price)
    if action.side is not None:
        data["side"] = int(action.side)
    return data


def replay_events(store: Store, since: datetime) -> Iterator[tuple[Event, dict[str, Any]]]:
    """Today's journaled inbound events as domain events, with the engine's notes, in arrival order."""
    for row in store.journal(since=since):
        if row.type == DECISION:
            continue
        payload = dict(row.body)
        kind = payload.pop("event", None)
        note = payload.pop("engine", None)
        if not isinstance(kind, str):
            continue
        yield event_from_normalised(kind, payload), note if isinstance(note, dict) else {}


__all__ = ["DECISION", "journal_decision", "journal_event", "replay_events"]
