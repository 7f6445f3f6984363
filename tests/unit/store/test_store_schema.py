"""Migrations: a new file gets every table, re-opening changes nothing, failures roll back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from risk_manager.store import SCHEMA_VERSION, Store, StoreError
from risk_manager.store.schema import MIGRATIONS, current_version, migrate, split_statements

TABLES = {"meta", "lockouts", "daily_pnl", "trade_history", "enforcement_log", "timers", "event_journal"}


def _names(path: Path, kind: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,)).fetchall()
    return {name for (name,) in rows if not name.startswith("sqlite_")}


def test_open_when_new_file_then_creates_dirs_tables_and_schema_version(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION) == str(len(MIGRATIONS))
    assert _names(db_path, "table") == TABLES
    assert {"lockouts_one_active", "event_journal_ts", "trade_history_account_day"} <= _names(
        db_path, "index"
    )


def test_open_uses_wal_mode(db_path: Path) -> None:
    Store.open(db_path).close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_reopen_is_idempotent_and_keeps_data(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.set_meta("version", "0.1.0")
    with Store.open(db_path) as store:
        assert store.get_meta("version") == "0.1.0"
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION)


def test_migrate_runs_only_the_new_migrations(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    assert migrate(conn, MIGRATIONS) == 1
    assert migrate(conn, [*MIGRATIONS, "CREATE TABLE extra (x INTEGER);"]) == 2
    assert current_version(conn) == 2
    conn.execute("INSERT INTO extra VALUES (1)")  # migration 2 ran once, its table exists
    conn.close()


def test_migrate_when_a_script_fails_then_rolls_back_to_the_previous_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    migrate(conn, MIGRATIONS)
    broken = [*MIGRATIONS, "CREATE TABLE extra (x INTEGER);\nCREATE TABLE extra (y INTEGER);"]
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        migrate(conn, broken)
    assert current_version(conn) == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'extra'").fetchone() is None
    conn.close()


def test_open_when_schema_is_newer_than_the_code_then_store_error(db_path: Path) -> None:
    Store.open(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema_version 99 is newer"):
        Store.open(db_path)


def test_split_statements_keeps_semicolons_inside_strings_and_comments() -> None:
    script = "-- one; two\nCREATE TABLE a (x TEXT DEFAULT 'p;q');\nINSERT INTO a VALUES ('r;s');\n"
    assert [s.splitlines()[-1] for s in split_statements(script)] == [
        "CREATE TABLE a (x TEXT DEFAULT 'p;q');",
        "INSERT INTO a VALUES ('r;s');",
    ]


def test_split_statements_when_script_ends_mid_statement_then_value_error() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        list(split_statements("CREATE TABLE a (x TEXT); CREATE TABLE b (y 'unterminated"))
