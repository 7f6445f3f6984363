"""Row <-> SQL tuple conversions, one pair per table, in column order of ``schema.py``.

Kept apart from the SQL so each conversion is a small pure function: Decimal as
``str`` (exact), datetimes as fixed-width UTC text, dates as ``YYYY-MM-DD``,
booleans as 0/1, JSON compact with ``default=str``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import orjson

from risk_manager.domain.decisions import LockKind
from risk_manager.domain.trading import OrderSide
from risk_manager.store.rows import (
    ClearedBy,
    DailyPnlRow,
    EnforcementResult,
    EnforcementRow,
    FillRow,
    JournalRow,
    LockRow,
    TimerRow,
)
from risk_manager.store.timefmt import from_iso, to_iso

#: A row as sqlite3 returns it or takes it.
Record = tuple[Any, ...]

LOCK_COLUMNS = "id, account_id, rule_id, scope, kind, reason, created_at, expires_at, cleared_at, cleared_by"
TIMER_COLUMNS = "name, account_id, kind, expires_at, payload"
DAILY_PNL_COLUMNS = (
    "account_id, trading_date, realized_gross, fees, realized_net, unrealized, trade_count, updated_at"
)
FILL_COLUMNS = (
    "fill_id, account_id, order_id, contract_id, symbol, side, size, price, pnl, fees, voided, "
    "is_entry, daemon_order, executed_at, trading_date"
)
ENFORCEMENT_COLUMNS = (
    "id, ts, account_id, rule_id, action, contract_id, quantity, reason, result, error, latency_ms"
)
JOURNAL_COLUMNS = "seq, ts, account_id, type, raw, payload"


_OPTIONS = orjson.OPT_NON_STR_KEYS


def dump_json(value: Any) -> str:
    """Compact JSON; what JSON can't encode natively (Decimal) becomes ``str(value)``.

    orjson, because encoding the journal is most of a flush's cost (benchmarks/engine_throughput.py).
    """
    return orjson.dumps(value, default=str, option=_OPTIONS).decode()


def _opt_iso(value: Any) -> str | None:
    return None if value is None else to_iso(value)


def _opt_from_iso(text: str | None) -> datetime | None:
    return None if text is None else from_iso(text)


def _opt_decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def lock_to_db(row: LockRow) -> Record:
    return (
        row.id, row.account_id, row.rule_id, row.scope, row.kind, row.reason,
        to_iso(row.created_at), _opt_iso(row.expires_at), _opt_iso(row.cleared_at), row.cleared_by,
    )  # fmt: skip


def lock_from_db(rec: Record) -> LockRow:
    return LockRow(
        id=rec[0],
        account_id=rec[1],
        rule_id=rec[2],
        scope=rec[3],
        kind=cast(LockKind, rec[4]),
        reason=rec[5],
        created_at=from_iso(rec[6]),
        expires_at=_opt_from_iso(rec[7]),
        cleared_at=_opt_from_iso(rec[8]),
        cleared_by=cast(ClearedBy | None, rec[9]),
    )


def timer_to_db(row: TimerRow) -> Record:
    return (row.name, row.account_id, row.kind, to_iso(row.expires_at), dump_json(row.payload))


def timer_from_db(rec: Record) -> TimerRow:
    return TimerRow(
        name=rec[0], account_id=rec[1], kind=rec[2], expires_at=from_iso(rec[3]), payload=json.loads(rec[4])
    )


def daily_pnl_to_db(row: DailyPnlRow) -> Record:
    return (
        row.account_id, row.trading_date.isoformat(), str(row.realized_gross), str(row.fees),
        str(row.realized_net), str(row.unrealized), row.trade_count, to_iso(row.updated_at),
    )  # fmt: skip


def daily_pnl_from_db(rec: Record) -> DailyPnlRow:
    return DailyPnlRow(
        account_id=rec[0],
        trading_date=date.fromisoformat(rec[1]),
        realized_gross=Decimal(rec[2]),
        fees=Decimal(rec[3]),
        realized_net=Decimal(rec[4]),
        unrealized=Decimal(rec[5]),
        trade_count=rec[6],
        updated_at=from_iso(rec[7]),
    )


def fill_to_db(row: FillRow) -> Record:
    return (
        row.fill_id, row.account_id, row.order_id, row.contract_id, row.symbol, int(row.side), row.size,
        str(row.price), None if row.pnl is None else str(row.pnl), str(row.fees), int(row.voided),
        int(row.is_entry), int(row.daemon_order), to_iso(row.executed_at), row.trading_date.isoformat(),
    )  # fmt: skip


def fill_from_db(rec: Record) -> FillRow:
    return FillRow(
        fill_id=rec[0],
        account_id=rec[1],
        order_id=rec[2],
        contract_id=rec[3],
        symbol=rec[4],
        side=OrderSide(rec[5]),
        size=rec[6],
        price=Decimal(rec[7]),
        pnl=_opt_decimal(rec[8]),
        fees=Decimal(rec[9]),
        voided=bool(rec[10]),
        is_entry=bool(rec[11]),
        daemon_order=bool(rec[12]),
        executed_at=from_iso(rec[13]),
        trading_date=date.fromisoformat(rec[14]),
    )


def enforcement_to_db(row: EnforcementRow) -> Record:
    """Without ``id``: the database assigns it."""
    return (
        to_iso(row.ts), row.account_id, row.rule_id, row.action, row.contract_id, row.quantity,
        row.reason, row.result, row.error, row.latency_ms,
    )  # fmt: skip


def enforcement_from_db(rec: Record) -> EnforcementRow:
    return EnforcementRow(
        id=rec[0],
        ts=from_iso(rec[1]),
        account_id=rec[2],
        rule_id=rec[3],
        action=rec[4],
        contract_id=rec[5],
        quantity=rec[6],
        reason=rec[7],
        result=cast(EnforcementResult, rec[8]),
        error=rec[9],
        latency_ms=rec[10],
    )


def journal_to_db(row: JournalRow) -> Record:
    """Without ``seq``: the database assigns it in insert order.

    Never raises for content: a payload JSON can't encode even with ``default=str``
    (a cycle, a tuple key) is journaled as an ``unencodable`` record instead, because
    a bad journal row must not stop the lock row written in the same transaction.
    """
    try:
        raw = None if row.raw is None else dump_json(row.raw)
        payload = dump_json(row.body)
    except (TypeError, ValueError) as exc:
        raw = None
        payload = dump_json({"unencodable": str(exc), "repr": repr(row.payload)[:2000]})
    return (to_iso(row.ts), row.account_id, row.type, raw, payload)


def journal_from_db(rec: Record) -> JournalRow:
    return JournalRow(
        seq=rec[0],
        ts=from_iso(rec[1]),
        account_id=rec[2],
        type=rec[3],
        raw=None if rec[4] is None else json.loads(rec[4]),
        payload=json.loads(rec[5]),
    )


__all__ = [
    "DAILY_PNL_COLUMNS",
    "ENFORCEMENT_COLUMNS",
    "FILL_COLUMNS",
    "JOURNAL_COLUMNS",
    "LOCK_COLUMNS",
    "TIMER_COLUMNS",
    "Record",
    "daily_pnl_from_db",
    "daily_pnl_to_db",
    "dump_json",
    "enforcement_from_db",
    "enforcement_to_db",
    "fill_from_db",
    "fill_to_db",
    "journal_from_db",
    "journal_to_db",
    "lock_from_db",
    "lock_to_db",
    "timer_from_db",
    "timer_to_db",
]
