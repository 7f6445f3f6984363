"""Schema: numbered, forward-only migrations (SPEC §5).

``MIGRATIONS[n - 1]`` brings ``schema_version`` n - 1 to n. A released migration is
never edited: a change is a new script appended to the tuple. All pending migrations
run in one ``BEGIN IMMEDIATE`` transaction, so a failure leaves the file as it was.

Column types matter: money columns are TEXT so SQLite never turns "0.10" into a float.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE lockouts (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL,
    rule_id     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('hard', 'cooldown', 'session', 'broker')),
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    cleared_at  TEXT,
    cleared_by  TEXT CHECK (cleared_by IN ('expiry', 'reset', 'session', 'broker', 'admin')),
    CHECK ((cleared_at IS NULL) = (cleared_by IS NULL))
);
-- SPEC §5: at most one active lock per (account, rule, scope); a duplicate fails loudly.
CREATE UNIQUE INDEX lockouts_one_active ON lockouts (account_id, rule_id, scope)
    WHERE cleared_at IS NULL;

CREATE TABLE daily_pnl (
    account_id      INTEGER NOT NULL,
    trading_date    TEXT NOT NULL,
    realized_gross  TEXT NOT NULL,
    fees            TEXT NOT NULL,
    realized_net    TEXT NOT NULL,
    unrealized      TEXT NOT NULL,
    trade_count     INTEGER NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (account_id, trading_date)
);

CREATE TABLE trade_history (
    fill_id       INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL,
    order_id      INTEGER NOT NULL,
    contract_id   TEXT NOT NULL,
    symbol        TEXT NOT NULL,
    side          INTEGER NOT NULL CHECK (side IN (0, 1)),
    size          INTEGER NOT NULL,
    price         TEXT NOT NULL,
    pnl           TEXT,
    fees          TEXT NOT NULL,
    voided        INTEGER NOT NULL CHECK (voided IN (0, 1)),
    is_entry      INTEGER NOT NULL CHECK (is_entry IN (0, 1)),
    daemon_order  INTEGER NOT NULL CHECK (daemon_order IN (0, 1)),
    executed_at   TEXT NOT NULL,
    trading_date  TEXT NOT NULL
);
CREATE INDEX trade_history_account_day ON trade_history (account_id, trading_date);
CREATE INDEX trade_history_executed_at ON trade_history (executed_at);

CREATE TABLE enforcement_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ts           TEXT NOT NULL,
    account_id   INTEGER,
    rule_id      TEXT,
    action       TEXT NOT NULL,
    contract_id  TEXT,
    quantity     INTEGER,
    reason       TEXT NOT NULL,
    result       TEXT NOT NULL CHECK (result IN ('OK', 'FAILED', 'SUPERSEDED', 'SKIPPED')),
    error        TEXT,
    latency_ms   REAL
);
CREATE INDEX enforcement_log_ts ON enforcement_log (ts);
CREATE INDEX enforcement_log_account ON enforcement_log (account_id, id);
CREATE INDEX enforcement_log_rule ON enforcement_log (rule_id, id);

CREATE TABLE timers (
    name        TEXT PRIMARY KEY,
    account_id  INTEGER,
    kind        TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    payload     TEXT NOT NULL
);

-- AUTOINCREMENT: seq never goes back, even after prune empties the table.
CREATE TABLE event_journal (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    ts          TEXT NOT NULL,
    account_id  INTEGER,
    type        TEXT NOT NULL,
    raw         TEXT,
    payload     TEXT NOT NULL
);
CREATE INDEX event_journal_ts ON event_journal (ts);
"""

#: Every migration ever released, oldest first; the schema version is its length.
MIGRATIONS: tuple[str, ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(Exception):
    """The file was migrated by a newer Risk Manager; this one must not touch it."""


def current_version(conn: sqlite3.Connection) -> int:
    """The file's schema_version; 0 for a new file (no meta table yet)."""
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    if has_meta is None:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return 0 if row is None else int(row[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Bring the file to ``len(migrations)`` in one transaction; return the version reached.

    ``conn`` must be in autocommit mode (``isolation_level=None``). The version is read
    again under the write lock, so two processes opening a new file migrate it once.
    Raises SchemaTooNew, or the sqlite3 error of a failed script (after rolling back).
    """
    target = len(migrations)
    if current_version(conn) == target:
        return target
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = current_version(conn)
        if version > target:
            raise SchemaTooNew(f"schema_version {version} is newer than this Risk Manager knows ({target})")
        for number in range(version + 1, target + 1):
            _run_script(conn, migrations[number - 1])
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(number),)
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return target


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run each statement inside the open transaction.

    ``executescript`` would COMMIT first (Python 3.11), breaking the all-or-nothing promise.
    """
    for statement in split_statements(script):
        conn.execute(statement)


def split_statements(script: str) -> Iterator[str]:
    """Cut a script into single statements, honouring quotes, comments and trigger bodies."""
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            pending = ""
            if _has_sql(statement):
                yield statement
    if _has_sql(pending[:-1]):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending.strip()[:60]!r}")


def _has_sql(text: str) -> bool:
    """True when ``text`` holds more than whitespace, ``--`` comments and semicolons."""
    lines = (line.split("--", 1)[0] for line in text.splitlines())
    return any(line.strip(" \t;") for line in lines)


__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SchemaTooNew", "current_version", "migrate", "split_statements"]
