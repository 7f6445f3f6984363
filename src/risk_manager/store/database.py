"""The SQLite store: one connection, one writer (SPEC §5).

Writes commit at once, because a lock row must be on disk before the broker call it
guards (SPEC §4.5). The journal is the exception: it is the hot path (every inbound
event), so :meth:`Store.append_journal` only buffers, and the buffer goes to disk on
:meth:`Store.flush` or with the next other write, in the same transaction, so the
order of events and decisions on disk is the order they happened.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

from risk_manager.store import codec
from risk_manager.store.codec import Record
from risk_manager.store.errors import StoreError, store_error
from risk_manager.store.rows import (
    ClearedBy,
    DailyPnlRow,
    EnforcementRow,
    FillRow,
    JournalRow,
    LockRow,
    TimerRow,
)
from risk_manager.store.schema import SCHEMA_VERSION, SchemaTooNew, current_version, migrate
from risk_manager.store.timefmt import to_iso

#: Rows read per query when iterating the journal: bounded memory, no long-lived cursor.
_JOURNAL_PAGE = 5000

_INSERT_JOURNAL = "INSERT INTO event_journal (ts, account_id, type, raw, payload) VALUES (?, ?, ?, ?, ?)"
_DELETE_TIMER = "DELETE FROM timers WHERE name = ?"
_UPSERT_TIMER = (
    f"INSERT INTO timers ({codec.TIMER_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
    "account_id = excluded.account_id, kind = excluded.kind, expires_at = excluded.expires_at, "
    "payload = excluded.payload"
)
_UPSERT_DAILY_PNL = (
    f"INSERT INTO daily_pnl ({codec.DAILY_PNL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (account_id, trading_date) DO UPDATE SET realized_gross = excluded.realized_gross, "
    "fees = excluded.fees, realized_net = excluded.realized_net, unrealized = excluded.unrealized, "
    "trade_count = excluded.trade_count, updated_at = excluded.updated_at"
)
_UPSERT_FILL = (
    f"INSERT INTO trade_history ({codec.FILL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (fill_id) DO UPDATE SET account_id = excluded.account_id, order_id = excluded.order_id, "
    "contract_id = excluded.contract_id, symbol = excluded.symbol, side = excluded.side, "
    "size = excluded.size, price = excluded.price, pnl = excluded.pnl, fees = excluded.fees, "
    "voided = excluded.voided, is_entry = excluded.is_entry, daemon_order = excluded.daemon_order, "
    "executed_at = excluded.executed_at, trading_date = excluded.trading_date"
)
_INSERT_ENFORCEMENT = (
    "INSERT INTO enforcement_log (ts, account_id, rule_id, action, contract_id, quantity, reason, "
    "result, error, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class Store:
    """Typed access to the Risk Manager database; build it with :meth:`Store.open`.

    Not thread-safe: use it from one thread at a time (it may move between threads).
    :meth:`flush_soon` hands buffered rows to a private writer thread; every other call
    first waits for that batch, so the order of writes is the order of calls.
    Every sqlite3 error comes out as :class:`StoreError` (or StoreLocked / StoreFull).
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool) -> None:
        """Wrap an open, migrated connection; prefer :meth:`Store.open`."""
        self._conn = conn
        self._path = path
        self._read_only = read_only
        self._closed = False
        self._journal_buffer: list[JournalRow] = []
        #: writes the caller chose to defer to the next transaction (hot-path P&L and fills)
        self._deferred: list[tuple[str, tuple[object, ...]]] = []
        #: the batch the writer thread is committing, kept so a failure gives it back
        self._writer: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None
        self._in_flight_rows: tuple[list[JournalRow], list[tuple[str, tuple[object, ...]]]] = ([], [])

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False, busy_timeout_ms: int = 5000) -> Store:
        """Open ``path``, creating and migrating it unless ``read_only``.

        ``read_only`` is for the status screen while a daemon writes: it never creates,
        migrates or writes, and fails if the file is missing or of another schema version.
        ``busy_timeout_ms`` is how long a write waits for another writer before StoreLocked.
        """
        try:
            conn = _connect_read_only(path, busy_timeout_ms) if read_only else _connect(path, busy_timeout_ms)
        except (sqlite3.Error, OSError) as exc:
            raise store_error(exc, "open", path) from exc
        except SchemaTooNew as exc:
            raise StoreError(
                f"open failed on {path}: {exc}; upgrade Risk Manager or use another --data-dir",
                operation="open",
                path=path,
            ) from exc
        return cls(conn, path, read_only=read_only)

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def read_only(self) -> bool:
        """True when opened with ``read_only=True``: every write raises StoreError."""
        return self._read_only

    def set_busy_timeout(self, busy_timeout_ms: int) -> None:
        """How long a write now waits for another process's write lock before StoreLocked.

        The engine lowers it so a foreign lock costs it a fraction of a second, never
        the 5 s default (SPEC §4.5: enforcement never waits for the store).
        """
        if busy_timeout_ms < 0:
            raise ValueError(f"busy_timeout_ms must be >= 0 (got {busy_timeout_ms})")
        with suppress(StoreError):  # a failed batch is back in the buffer; it is not our concern here
            self._wait_writer()
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        except sqlite3.Error as exc:
            raise store_error(exc, "set_busy_timeout", self._path) from exc

    def close(self) -> None:
        """Flush the journal buffer and close; closing twice is harmless.

        The connection is closed even when the flush fails (the StoreError still propagates).
        """
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._stop_writer()
            self._conn.close()

    def abandon(self) -> None:
        """Close without flushing, losing the journal buffer as a ``kill -9`` would (replay's Restart)."""
        if self._closed:
            return
        with suppress(StoreError):
            self._wait_writer()
        self._journal_buffer.clear()
        self._deferred.clear()
        self._closed = True
        self._stop_writer()
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- journal (hot path) ----------------------------------------------------------------

    def append_journal(self, row: JournalRow) -> None:
        """Buffer ``row`` (no SQL, no encoding); it reaches disk on :meth:`flush` or the next write.

        Encoding waits for the flush to keep this at well under a microsecond, so do not
        mutate ``row.raw``/``row.payload`` after appending. ``row.seq`` is ignored: the
        database numbers rows in append order. Raises ValueError for a naive ``row.ts``
        here rather than in a later flush.
        """
        if self._read_only or self._closed:
            raise self._refusal("append_journal")
        if row.ts.utcoffset() is None:
            raise ValueError(
                f"journal row {row.type}: ts {row.ts.isoformat()} is naive; pass an aware UTC datetime"
            )
        self._journal_buffer.append(row)

    @property
    def journal_backlog(self) -> int:
        """Rows appended but not yet flushed; the engine flushes when it is idle or this grows."""
        return len(self._journal_buffer) + len(self._deferred)

    def flush(self) -> None:
        """Write the buffered journal rows and deferred writes in one transaction.

        On failure the rows stay buffered, so a later flush writes them (SPEC §4.5).
        """
        if self._journal_buffer or self._deferred:
            with self._writing("flush"):
                pass
        else:
            self._wait_writer()

    def flush_soon(self) -> None:
        """Commit the buffered rows on the writer thread and return at once.

        The engine calls this on its hot path so that encoding and committing the journal
        never delays a decision. One batch is in flight at a time; a failure surfaces (as
        StoreError) on the next call that waits for it, with the batch back in the buffer.
        """
        if self._read_only or self._closed:
            raise self._refusal("flush_soon")
        self._wait_writer()
        if not (self._journal_buffer or self._deferred):
            return
        batch = (self._journal_buffer, self._deferred)
        self._journal_buffer, self._deferred = [], []
        self._in_flight_rows = batch
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-manager-store")
        self._in_flight = self._writer.submit(self._write_batch, *batch)

    def _write_batch(self, rows: list[JournalRow], deferred: list[tuple[str, tuple[object, ...]]]) -> None:
        """Writer thread: one transaction for one batch."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(_INSERT_JOURNAL, map(codec.journal_to_db, rows))
                for sql, params in deferred:
                    self._conn.execute(sql, params)
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as exc:
            raise store_error(exc, "flush", self._path) from exc

    def _wait_writer(self) -> None:
        """Let the batch in flight finish; if it failed, put its rows back first in line."""
        future, self._in_flight = self._in_flight, None
        if future is None:
            return
        try:
            future.result()
        except StoreError:
            rows, deferred = self._in_flight_rows
            self._journal_buffer[:0] = rows
            self._deferred[:0] = deferred
            raise
        finally:
            self._in_flight_rows = ([], [])

    def _stop_writer(self) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def _defer(self, operation: str, sql: str, record: tuple[object, ...]) -> None:
        if self._read_only or self._closed:
            raise self._refusal(operation)
        self._deferred.append((sql, record))

    def journal(
        self, *, since: datetime | None = None, until: datetime | None = None, account_id: int | None = None
    ) -> Iterator[JournalRow]:
        """Journal rows with ``since <= ts < until`` in seq order (flushes first).

        ``None`` = no bound / every account (an account filter skips system rows). Rows
        appended while iterating are not included; reading goes page by page, so a long
        journal costs bounded memory and writing in between is safe.
        """
        self.flush()
        last_seq = self._fetch("journal", "SELECT COALESCE(MAX(seq), 0) FROM event_journal", ())[0][0]
        clauses, params = _filters(
            ("ts >= ?", None if since is None else to_iso(since)),
            ("ts < ?", None if until is None else to_iso(until)),
            ("account_id = ?", account_id),
        )
        # Keyset pagination on seq: each page is one short query, no cursor stays open.
        sql = (
            f"SELECT {codec.JOURNAL_COLUMNS} FROM event_journal "
            f"WHERE {' AND '.join(['seq > ?', 'seq <= ?', *clauses])} ORDER BY seq LIMIT {_JOURNAL_PAGE}"
        )
        return self._journal_pages(sql, params, last_seq)

    def _journal_pages(self, sql: str, params: tuple[object, ...], last_seq: int) -> Iterator[JournalRow]:
        """Yield pages of ``sql`` (parameters: after, last_seq, *params) until one comes back short."""
        after = 0
        while True:
            records = self._fetch("journal", sql, (after, last_seq, *params))
            yield from map(codec.journal_from_db, records)
            if len(records) < _JOURNAL_PAGE:
                return
            after = records[-1][0]

    # -- lockouts --------------------------------------------------------------------------

    def insert_lockout(self, row: LockRow) -> None:
        """Commit a lock row now (before the broker call it guards).

        Raises StoreError when ``row.id`` exists or another lock of the same (account,
        rule, scope) is active: SPEC §5 allows one.
        """
        record = codec.lock_to_db(row)
        with self._writing("insert_lockout") as conn:
            conn.execute(
                f"INSERT INTO lockouts ({codec.LOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", record
            )

    def clear_lockout(self, lock_id: int, cleared_at: datetime, cleared_by: ClearedBy) -> None:
        """Mark an active lock cleared; a lock already cleared (or unknown) is left as it is.

        Idempotent so a clear repeated after a restart keeps the first time and reason.
        """
        params = (to_iso(cleared_at), cleared_by, lock_id)
        with self._writing("clear_lockout") as conn:
            conn.execute(
                "UPDATE lockouts SET cleared_at = ?, cleared_by = ? WHERE id = ? AND cleared_at IS NULL",
                params,
            )

    def active_lockouts(self, account_id: int | None = None) -> list[LockRow]:
        """Locks not yet cleared, oldest first; ``None`` = every account."""
        where, params = _where(("cleared_at IS NULL", True), ("account_id = ?", account_id))
        return self._locks("active_lockouts", where, params)

    def lockouts(self, account_id: int | None = None, since: datetime | None = None) -> list[LockRow]:
        """Lock history, active and cleared, created at or after ``since``, oldest first."""
        created = None if since is None else to_iso(since)
        where, params = _where(("account_id = ?", account_id), ("created_at >= ?", created))
        return self._locks("lockouts", where, params)

    def _locks(self, operation: str, where: str, params: tuple[object, ...]) -> list[LockRow]:
        records = self._fetch(
            operation, f"SELECT {codec.LOCK_COLUMNS} FROM lockouts{where} ORDER BY id", params
        )
        return [codec.lock_from_db(record) for record in records]

    def max_lockout_id(self) -> int:
        """Highest lock id ever stored (0 = none): the engine's book continues from it."""
        return int(self._fetch("max_lockout_id", "SELECT COALESCE(MAX(id), 0) FROM lockouts", ())[0][0])

    # -- timers ----------------------------------------------------------------------------

    def upsert_timer(self, row: TimerRow, *, defer: bool = False) -> None:
        """Create or replace the timer called ``row.name`` (``defer`` as for :meth:`upsert_daily_pnl`)."""
        record = codec.timer_to_db(row)
        if defer:
            self._defer("upsert_timer", _UPSERT_TIMER, record)
            return
        with self._writing("upsert_timer") as conn:
            conn.execute(_UPSERT_TIMER, record)

    def delete_timer(self, name: str, *, defer: bool = False) -> None:
        """Forget a timer (fired or cancelled); an unknown name is not an error."""
        if defer:
            self._defer("delete_timer", _DELETE_TIMER, (name,))
            return
        with self._writing("delete_timer") as conn:
            conn.execute(_DELETE_TIMER, (name,))

    def timers(self) -> list[TimerRow]:
        """Every timer, soonest first."""
        self._flush_deferred()
        sql = f"SELECT {codec.TIMER_COLUMNS} FROM timers ORDER BY expires_at, name"
        return [codec.timer_from_db(record) for record in self._fetch("timers", sql, ())]

    # -- daily P&L -------------------------------------------------------------------------

    def upsert_daily_pnl(self, row: DailyPnlRow, *, defer: bool = False) -> None:
        """Create or replace the (account, trading date) row.

        ``defer`` keeps it in memory until the next transaction (a flush, a lock row): the
        hot path then costs no commit, and a crash loses only what REST resync restores.
        """
        record = codec.daily_pnl_to_db(row)
        if defer:
            self._defer("upsert_daily_pnl", _UPSERT_DAILY_PNL, record)
            return
        with self._writing("upsert_daily_pnl") as conn:
            conn.execute(_UPSERT_DAILY_PNL, record)

    def daily_pnl(self, account_id: int, trading_date: date) -> DailyPnlRow | None:
        """The row of that trading day, or None when nothing was recorded."""
        self._flush_deferred()
        sql = f"SELECT {codec.DAILY_PNL_COLUMNS} FROM daily_pnl WHERE account_id = ? AND trading_date = ?"
        records = self._fetch("daily_pnl", sql, (account_id, trading_date.isoformat()))
        return codec.daily_pnl_from_db(records[0]) if records else None

    def daily_pnl_history(self, account_id: int, since: date) -> list[DailyPnlRow]:
        """Rows of trading dates on or after ``since``, oldest first."""
        self._flush_deferred()
        sql = (
            f"SELECT {codec.DAILY_PNL_COLUMNS} FROM daily_pnl WHERE account_id = ? AND trading_date >= ? "
            "ORDER BY trading_date"
        )
        records = self._fetch("daily_pnl_history", sql, (account_id, since.isoformat()))
        return [codec.daily_pnl_from_db(record) for record in records]

    # -- trade history ---------------------------------------------------------------------

    def upsert_fill(self, row: FillRow, *, defer: bool = False) -> None:
        """Store a fill by ``fill_id``; the same id again replaces it (e.g. voided late).

        ``defer`` as for :meth:`upsert_daily_pnl`.
        """
        record = codec.fill_to_db(row)
        if defer:
            self._defer("upsert_fill", _UPSERT_FILL, record)
            return
        with self._writing("upsert_fill") as conn:
            conn.execute(_UPSERT_FILL, record)

    def fills(self, account_id: int, trading_date: date) -> list[FillRow]:
        """That trading day's fills, voided ones included, in execution order."""
        self._flush_deferred()
        sql = (
            f"SELECT {codec.FILL_COLUMNS} FROM trade_history WHERE account_id = ? AND trading_date = ? "
            "ORDER BY executed_at, fill_id"
        )
        records = self._fetch("fills", sql, (account_id, trading_date.isoformat()))
        return [codec.fill_from_db(record) for record in records]

    def fill_ids(self, account_id: int, trading_date: date) -> set[int]:
        """Ids of that day's stored fills: a resync merges the broker's fills by id (SPEC §4.2)."""
        self._flush_deferred()
        sql = "SELECT fill_id FROM trade_history WHERE account_id = ? AND trading_date = ?"
        return {record[0] for record in self._fetch("fill_ids", sql, (account_id, trading_date.isoformat()))}

    # -- enforcement log -------------------------------------------------------------------

    def log_enforcement(self, row: EnforcementRow, *, defer: bool = False) -> int | None:
        """Append an enforcement row and return its new id (``row.id`` is ignored).

        ``defer`` as for :meth:`upsert_daily_pnl`; the id is then unknown (None).
        """
        record = codec.enforcement_to_db(row)
        if defer:
            self._defer("log_enforcement", _INSERT_ENFORCEMENT, record)
            return None
        with self._writing("log_enforcement") as conn:
            new_id = conn.execute(_INSERT_ENFORCEMENT, record).lastrowid
        assert new_id is not None  # an INSERT into a rowid table always sets it
        return new_id

    def enforcement_rows(
        self,
        *,
        account_id: int | None = None,
        rule_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = 50,
    ) -> list[EnforcementRow]:
        """The latest ``limit`` matching rows (None = all), newest last, as a log reads."""
        self._flush_deferred()
        where, params = _where(
            ("account_id = ?", account_id),
            ("rule_id = ?", rule_id),
            ("ts >= ?", None if since is None else to_iso(since)),
        )
        newest_first = f"SELECT {codec.ENFORCEMENT_COLUMNS} FROM enforcement_log{where} ORDER BY id DESC"
        if limit is not None:
            newest_first += f" LIMIT {int(limit)}"
        records = self._fetch("enforcement_rows", newest_first, params)
        return [codec.enforcement_from_db(record) for record in reversed(records)]

    # -- meta ------------------------------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        """Set one meta key (SPEC §5: daemon_pid, heartbeat_at, connection, snapshot, ...)."""
        self.set_meta_many({key: value})

    def set_meta_many(self, values: Mapping[str, str]) -> None:
        """Set several keys in one transaction, so a reader never sees half an update.

        Raises ValueError for ``schema_version``: only migrations may change it.
        """
        if "schema_version" in values:
            raise ValueError("schema_version is owned by the migrations; it cannot be set")
        with self._writing("set_meta") as conn:
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values.items())

    def get_meta(self, key: str) -> str | None:
        """The value of ``key``, or None when it was never set."""
        records = self._fetch("get_meta", "SELECT value FROM meta WHERE key = ?", (key,))
        return str(records[0][0]) if records else None

    def meta(self) -> dict[str, str]:
        """Every meta key and value."""
        return {str(key): str(value) for key, value in self._fetch("meta", "SELECT key, value FROM meta", ())}

    # -- maintenance -----------------------------------------------------------------------

    def prune(self, now: datetime, *, journal_days: int = 14, trade_days: int = 90) -> None:
        """Delete journal rows older than ``journal_days`` and fills older than ``trade_days``.

        Ages are measured from ``now`` on the stored UTC times. Locks, P&L, timers and the
        enforcement log are kept: they are small and are the audit trail.
        """
        if journal_days < 1 or trade_days < 1:
            raise ValueError(
                f"retention must be >= 1 day (got journal_days={journal_days}, trade_days={trade_days})"
            )
        journal_cutoff = to_iso(now - timedelta(days=journal_days))
        trade_cutoff = to_iso(now - timedelta(days=trade_days))
        with self._writing("prune") as conn:
            conn.execute("DELETE FROM event_journal WHERE ts < ?", (journal_cutoff,))
            conn.execute("DELETE FROM trade_history WHERE executed_at < ?", (trade_cutoff,))

    def backup_to(self, target: Path) -> None:
        """Copy the database to ``target`` with SQLite's online backup (safe while writing).

        The copy is switched to rollback-journal mode so it is one self-contained file.
        """
        self.flush()
        operation = f"backup to {target}"
        try:
            copy = sqlite3.connect(target)
            try:
                self._conn.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise store_error(exc, operation, self._path) from exc

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _writing(self, operation: str) -> Iterator[sqlite3.Connection]:
        """One committed write transaction, preceded by the buffered journal rows.

        The buffer is emptied only after COMMIT, so a failed write loses no journal row.
        """
        if self._read_only or self._closed:
            raise self._refusal(operation)
        self._wait_writer()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if self._journal_buffer:
                    self._conn.executemany(_INSERT_JOURNAL, map(codec.journal_to_db, self._journal_buffer))
                for sql, params in self._deferred:
                    self._conn.execute(sql, params)
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as exc:
            raise store_error(exc, operation, self._path) from exc
        self._journal_buffer.clear()
        self._deferred.clear()

    def _flush_deferred(self) -> None:
        """Reads of tables with deferred writes see them: write them first."""
        if self._deferred:
            self.flush()

    def _rollback(self) -> None:
        """Undo the open transaction; a failing ROLLBACK must not hide the error that caused it."""
        if self._conn.in_transaction:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def _fetch(self, operation: str, sql: str, params: tuple[object, ...]) -> list[Record]:
        """Run one query and return all its rows, translating sqlite3 errors."""
        self._wait_writer()
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise store_error(exc, operation, self._path) from exc

    def _refusal(self, operation: str) -> StoreError:
        """Why this store cannot write: closed, or opened read-only."""
        state = "closed" if self._closed else "opened read-only"
        return StoreError(
            f"{operation} failed on {self._path}: the store is {state}", operation=operation, path=self._path
        )


def _filters(*conditions: tuple[str, object | None]) -> tuple[list[str], tuple[object, ...]]:
    """The SQL conditions whose value is not None, and their parameters.

    A condition without a ``?`` (e.g. ``cleared_at IS NULL``) takes no parameter; pass True.
    """
    used = [(sql, value) for sql, value in conditions if value is not None]
    return [sql for sql, _ in used], tuple(value for sql, value in used if "?" in sql)


def _where(*conditions: tuple[str, object | None]) -> tuple[str, tuple[object, ...]]:
    """`` WHERE a AND b`` (or nothing) from :func:`_filters`."""
    clauses, params = _filters(*conditions)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _connect(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open (creating) the file in WAL mode and migrate it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _raw_connection(str(path), busy_timeout_ms, uri=False)
    try:
        # WAL lets the status screen read while the daemon writes; NORMAL is durable across
        # process crashes (only an OS crash may lose the last commits), and much faster.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _connect_read_only(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open an existing, fully migrated file with ``mode=ro``: SQLite itself refuses writes."""
    if not path.is_file():
        raise sqlite3.OperationalError("no such database file (has the daemon run with this --data-dir?)")
    conn = _raw_connection(path.resolve().as_uri() + "?mode=ro", busy_timeout_ms, uri=True)
    try:
        current_version(conn)
    except sqlite3.OperationalError as exc:
        conn.close()
        if "readonly" not in str(exc):
            raise
        conn = _without_writing(path, busy_timeout_ms)
    try:
        version = current_version(conn)
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"schema_version {version} is newer than this Risk Manager knows ({SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION:
            raise sqlite3.OperationalError(
                f"schema_version {version} is older than {SCHEMA_VERSION}; run the daemon once to migrate it"
            )
    except BaseException:
        conn.close()
        raise
    return conn


def _without_writing(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """For a reader that may not write beside the database (the trader's account under a service):
    SQLite cannot create the WAL index there, which it needs even to read.

    With no WAL file the daemon is down and the file is complete: read it as immutable. A WAL
    left by a crash holds the last commits: replay a private copy (:func:`_private_copy`).
    """
    if not path.with_name(path.name + "-wal").exists():
        return _raw_connection(path.resolve().as_uri() + "?mode=ro&immutable=1", busy_timeout_ms, uri=True)
    return _private_copy(path, busy_timeout_ms)


def _private_copy(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """The database as a crashed daemon left it (file + WAL), for a reader that may not write there.

    SQLite must replay a WAL left behind before anyone can read it, which takes write access
    the trader's account does not have. So the file and its WAL are copied somewhere private,
    replayed there, and read from memory: the locks written just before the crash are seen.
    """
    with tempfile.TemporaryDirectory(prefix="risk-status-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        source = _raw_connection(str(copy), busy_timeout_ms, uri=False)
        memory = _raw_connection(":memory:", busy_timeout_ms, uri=False)
        try:
            source.backup(memory)
        finally:
            source.close()
    return memory


def _raw_connection(database: str, busy_timeout_ms: int, *, uri: bool) -> sqlite3.Connection:
    """Autocommit mode (``isolation_level=None``): the store issues BEGIN/COMMIT itself."""
    conn = sqlite3.connect(
        database, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False, uri=uri
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return conn


__all__ = ["Store"]
