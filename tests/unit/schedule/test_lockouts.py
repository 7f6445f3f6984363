"""The lockout book (SPEC §1 Lockout/Cooldown, §4.3 reset, §4.5 persistence, §5 lockouts table)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from risk_manager.schedule import AccountMode, Lockout, LockoutBook, LockoutInfo

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
RESET_AT = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # 17:00 EDT
ACCT, OTHER = 101, 202


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def hard(book: LockoutBook, rule: str = "RULE-003", account: int = ACCT, **kw: object) -> Lockout:
    lock = book.set_lockout(account, rule, "daily P&L -550.00 <= -500.00", RESET_AT, T0, **kw)  # type: ignore[arg-type]
    assert lock is not None
    return lock


# -- setting ---------------------------------------------------------------------------------------


def test_set_lockout_creates_an_active_lock_with_the_next_id() -> None:
    book = LockoutBook(next_id=7)
    lock = hard(book)
    assert lock == Lockout(
        7, ACCT, "RULE-003", "account", "hard", "daily P&L -550.00 <= -500.00", T0, RESET_AT
    )
    assert book.next_id == 8
    assert book.held_by(ACCT, "RULE-003") == lock
    assert book.is_locked_out(ACCT, T0)


def test_one_active_lock_per_account_rule_and_scope() -> None:
    book = LockoutBook()
    first = hard(book)
    assert book.set_lockout(ACCT, "RULE-003", "again", RESET_AT + timedelta(hours=1), at(1)) is None
    assert book.held_by(ACCT, "RULE-003") == first  # never extended or duplicated
    assert book.set_lockout(ACCT, "RULE-013", "target", RESET_AT, at(1)) is not None
    assert book.set_lockout(ACCT, "RULE-003", "rty", RESET_AT, at(1), scope="RTY") is not None
    assert book.set_lockout(OTHER, "RULE-003", "other", RESET_AT, at(1)) is not None
    assert len(book.active(ACCT)) == 3


def test_a_new_lock_may_be_set_once_the_old_one_has_expired() -> None:
    book = LockoutBook()
    old = book.set_lockout(ACCT, "RULE-009", "outside session", at(10), T0, kind="session")
    new = book.set_lockout(ACCT, "RULE-009", "outside session", at(30), at(10), kind="session")
    assert old is not None and new is not None and new.id == old.id + 1
    # The old one was cleared by expiry; the engine learns of it from check_expired_lockouts.
    assert book.check_expired_lockouts(at(10)) == [old.cleared(at(10), "expiry")]


def test_symbol_scopes_are_case_insensitive() -> None:
    book = LockoutBook()
    lock = book.set_lockout(ACCT, "RULE-009", "CL closed", at(60), T0, scope="cl", kind="session")
    assert lock is not None and lock.scope == "CL"
    assert book.held_by(ACCT, "RULE-009", scope="Cl") == lock


# -- is_locked_out ---------------------------------------------------------------------------------


def test_an_account_lock_blocks_every_symbol() -> None:
    book = LockoutBook()
    hard(book)
    assert book.is_locked_out(ACCT, T0)
    assert book.is_locked_out(ACCT, T0, symbol="MNQ")
    assert not book.is_locked_out(OTHER, T0)


def test_a_symbol_lock_blocks_only_that_symbol() -> None:
    book = LockoutBook()
    book.set_lockout(ACCT, "RULE-009", "CL closed", at(60), T0, scope="CL", kind="session")
    assert book.is_locked_out(ACCT, T0, symbol="CL")
    assert book.is_locked_out(ACCT, T0, symbol="cl")
    assert not book.is_locked_out(ACCT, T0, symbol="MNQ")
    assert not book.is_locked_out(ACCT, T0)


def test_a_lock_ends_at_its_expiry_even_before_it_is_cleared() -> None:
    book = LockoutBook()
    book.set_cooldown(ACCT, "RULE-006", "4 trades in 60s > 3", at(1), T0)
    assert book.is_locked_out(ACCT, at(seconds=59.999))
    assert not book.is_locked_out(ACCT, at(1))
    assert book.get_lockout_info(ACCT, at(1)) is None


def test_an_indefinite_lock_never_expires() -> None:
    book = LockoutBook()
    book.set_lockout(ACCT, "RULE-010", "canTrade=false", None, T0, kind="broker")
    assert book.is_locked_out(ACCT, T0 + timedelta(days=365))
    assert book.check_expired_lockouts(T0 + timedelta(days=365)) == []


# -- cooldowns: max(current end, new end) ----------------------------------------------------------


def test_rule_007_example_deeper_loss_extends_the_cooldown() -> None:
    book = LockoutBook()
    five, replaced = book.set_cooldown(ACCT, "RULE-007", "loss -150.00 <= -100.00", at(5), T0)
    assert replaced is None and five.kind == "cooldown" and five.expires_at == at(5)
    thirty, replaced = book.set_cooldown(ACCT, "RULE-007", "loss -350.00 <= -300.00", at(31), at(1))
    assert thirty.expires_at == at(31) and thirty.id == five.id + 1
    assert replaced == five.cleared(at(1), "expiry")
    assert book.held_by(ACCT, "RULE-007") == thirty
    assert book.active(ACCT) == [thirty]


def test_a_shorter_cooldown_keeps_the_longer_one() -> None:
    book = LockoutBook()
    long, _ = book.set_cooldown(ACCT, "RULE-007", "30m", at(30), T0)
    kept, replaced = book.set_cooldown(ACCT, "RULE-007", "5m", at(7), at(2))
    assert kept == long and replaced is None
    assert book.next_id == long.id + 1  # no id spent


def test_an_equal_cooldown_end_keeps_the_current_one() -> None:
    book = LockoutBook()
    first, _ = book.set_cooldown(ACCT, "RULE-006", "per minute", at(1), T0)
    assert book.set_cooldown(ACCT, "RULE-006", "per minute", at(1), at(0.5)) == (first, None)


def test_a_cooldown_after_the_previous_expired_is_fresh() -> None:
    book = LockoutBook()
    first, _ = book.set_cooldown(ACCT, "RULE-006", "per minute", at(1), T0)
    second, replaced = book.set_cooldown(ACCT, "RULE-006", "per minute", at(3), at(2))
    assert replaced is None and second.id == first.id + 1
    assert book.check_expired_lockouts(at(2)) == [first.cleared(at(1), "expiry")]


# -- info and mode ---------------------------------------------------------------------------------


def test_info_is_none_without_locks() -> None:
    book = LockoutBook()
    assert book.get_lockout_info(ACCT, T0) is None
    assert book.mode(ACCT, T0) is AccountMode.ACTIVE


def test_cooldowns_only_give_cooldown_mode_until_the_latest_end() -> None:
    book = LockoutBook()
    a, _ = book.set_cooldown(ACCT, "RULE-006", "per hour", at(30), T0)
    b, _ = book.set_cooldown(ACCT, "RULE-007", "loss", at(5), at(1))
    assert book.get_lockout_info(ACCT, at(2)) == LockoutInfo(AccountMode.COOLDOWN, at(30), (a, b), ())


def test_any_other_lock_makes_the_account_locked() -> None:
    book = LockoutBook()
    cooldown, _ = book.set_cooldown(ACCT, "RULE-007", "loss", RESET_AT + timedelta(hours=1), T0)
    lock = hard(book)
    info = book.get_lockout_info(ACCT, at(1))
    assert info is not None
    assert info.mode is AccountMode.LOCKED
    assert info.until == RESET_AT + timedelta(hours=1)  # latest expiry of the active locks
    assert info.locks == (cooldown, lock)  # creation order


def test_an_indefinite_lock_makes_until_none() -> None:
    book = LockoutBook()
    hard(book)
    book.set_lockout(ACCT, "RULE-010", "canTrade=false", None, T0, kind="broker")
    info = book.get_lockout_info(ACCT, T0)
    assert info is not None and info.mode is AccountMode.LOCKED and info.until is None


def test_symbol_locks_are_listed_separately_and_leave_the_account_active() -> None:
    book = LockoutBook()
    rty = book.set_lockout(ACCT, "RULE-009", "RTY closed", at(60), T0, scope="RTY", kind="session")
    assert rty is not None
    assert book.get_lockout_info(ACCT, T0) == LockoutInfo(AccountMode.ACTIVE, None, (), (rty,))
    lock = hard(book)
    assert book.get_lockout_info(ACCT, T0) == LockoutInfo(AccountMode.LOCKED, RESET_AT, (lock,), (rty,))


def test_info_skips_expired_locks() -> None:
    book = LockoutBook()
    book.set_cooldown(ACCT, "RULE-006", "per minute", at(1), T0)
    lock = hard(book)
    info = book.get_lockout_info(ACCT, at(2))
    assert info is not None and info.locks == (lock,)


def test_account_mode_values_are_the_status_words() -> None:
    assert [mode.value for mode in AccountMode] == ["ACTIVE", "COOLDOWN", "LOCKED"]


# -- clearing --------------------------------------------------------------------------------------


def test_clear_lockout_by_rule_returns_the_cleared_locks() -> None:
    book = LockoutBook()
    loss = hard(book)
    target = hard(book, "RULE-013")
    cleared = book.clear_lockout(ACCT, at(5), rule_id="RULE-003", by="admin")
    assert cleared == [loss.cleared(at(5), "admin")]
    assert book.active(ACCT) == [target]


def test_clear_lockout_without_filters_clears_every_lock_of_the_account_only() -> None:
    book = LockoutBook()
    a, b = hard(book), hard(book, "RULE-013")
    other = hard(book, account=OTHER)
    assert book.clear_lockout(ACCT, at(5)) == [a.cleared(at(5), "admin"), b.cleared(at(5), "admin")]
    assert not book.is_locked_out(ACCT, at(5))
    assert book.active() == [other]


def test_clear_lockout_by_scope() -> None:
    book = LockoutBook()
    account = book.set_lockout(ACCT, "RULE-009", "closed", at(60), T0, kind="session")
    cl = book.set_lockout(ACCT, "RULE-009", "CL closed", at(60), T0, scope="CL", kind="session")
    assert cl is not None
    assert book.clear_lockout(ACCT, at(1), by="session", scope="cl") == [cl.cleared(at(1), "session")]
    assert book.active(ACCT) == [account]


def test_clear_lockout_rejects_an_unknown_cleared_by() -> None:
    book = LockoutBook()
    hard(book)
    with pytest.raises(ValueError, match="cleared_by must be one of"):
        book.clear_lockout(ACCT, T0, by="manual")
    assert book.is_locked_out(ACCT, T0)


def test_clear_lockout_does_not_report_an_already_expired_lock() -> None:
    book = LockoutBook()
    cooldown, _ = book.set_cooldown(ACCT, "RULE-006", "per minute", at(1), T0)
    assert book.clear_lockout(ACCT, at(2)) == []
    assert book.check_expired_lockouts(at(2)) == [cooldown.cleared(at(1), "expiry")]


def test_check_expired_lockouts_clears_only_locks_due_in_expiry_order() -> None:
    book = LockoutBook()
    later, _ = book.set_cooldown(ACCT, "RULE-007", "loss", at(10), T0)
    sooner, _ = book.set_cooldown(OTHER, "RULE-006", "per minute", at(1), T0)
    lock = hard(book)
    assert book.check_expired_lockouts(at(0.5)) == []
    assert book.check_expired_lockouts(at(10)) == [
        sooner.cleared(at(1), "expiry"),
        later.cleared(at(10), "expiry"),
    ]
    assert book.check_expired_lockouts(at(10)) == []
    assert book.active() == [lock]


def test_daily_reset_clears_only_hard_locks() -> None:
    book = LockoutBook()
    loss, target = hard(book), hard(book, "RULE-013")
    cooldown, _ = book.set_cooldown(ACCT, "RULE-007", "loss", RESET_AT + timedelta(minutes=30), T0)
    session = book.set_lockout(ACCT, "RULE-009", "closed", RESET_AT + timedelta(hours=16), T0, kind="session")
    broker = book.set_lockout(ACCT, "RULE-010", "canTrade=false", None, T0, kind="broker")
    other = hard(book, account=OTHER)
    cleared = book.clear_on_reset(ACCT, RESET_AT)
    assert cleared == [loss.cleared(RESET_AT, "reset"), target.cleared(RESET_AT, "reset")]
    assert book.active(ACCT) == [cooldown, session, broker]
    assert book.held_by(OTHER, "RULE-003") == other


def test_next_expiry_is_the_earliest_fixed_end() -> None:
    book = LockoutBook()
    assert book.next_expiry() is None
    book.set_lockout(ACCT, "RULE-010", "canTrade=false", None, T0, kind="broker")
    assert book.next_expiry() is None
    hard(book)
    book.set_cooldown(OTHER, "RULE-006", "per minute", at(1), T0)
    assert book.next_expiry() == at(1)


# -- restore at startup ----------------------------------------------------------------------------


def stored(id: int, rule: str, expires_at: datetime | None, kind: str = "hard", **kw: object) -> Lockout:
    return Lockout(id, ACCT, rule, "account", kind, "stored", T0 - timedelta(hours=1), expires_at, **kw)  # type: ignore[arg-type]


def test_restore_loads_active_locks_and_clears_those_expired_while_down() -> None:
    book = LockoutBook()
    still = stored(4, "RULE-003", RESET_AT)
    gone = stored(9, "RULE-007", at(-10), kind="cooldown")
    broker = stored(6, "RULE-010", None, kind="broker")
    expired = book.restore([still, gone, broker], T0)
    assert expired == [gone.cleared(at(-10), "expiry")]
    assert book.active(ACCT) == [still, broker]
    assert book.is_locked_out(ACCT, T0)
    assert book.next_id == 10  # above every id seen, the expired one included


def test_restored_locks_keep_one_per_key_and_new_ids_continue() -> None:
    book = LockoutBook()
    book.restore([stored(4, "RULE-003", RESET_AT)], T0)
    assert book.set_lockout(ACCT, "RULE-003", "again", RESET_AT, T0) is None
    new = book.set_lockout(ACCT, "RULE-013", "target", RESET_AT, T0)
    assert new is not None and new.id == 5


def test_restore_ignores_cleared_rows_but_counts_their_ids() -> None:
    book = LockoutBook()
    done = stored(20, "RULE-003", RESET_AT, cleared_at=at(-5), cleared_by="admin")
    assert book.restore([done], T0) == []
    assert book.active() == []
    assert book.next_id == 21


def test_restore_never_shortens_a_lock_when_the_store_holds_two() -> None:
    book = LockoutBook()
    short = stored(1, "RULE-007", at(5), kind="cooldown")
    long = stored(2, "RULE-007", at(30), kind="cooldown")
    assert book.restore([long, short], T0) == [short.cleared(T0, "expiry")]
    assert book.held_by(ACCT, "RULE-007") == long


def test_restore_rejects_naive_times() -> None:
    naive = stored(1, "RULE-003", datetime(2026, 3, 10, 21, 0))
    with pytest.raises(ValueError, match="lock 1 expires_at must be timezone-aware"):
        LockoutBook().restore([naive], T0)


def test_a_lock_until_the_reset_is_cleared_by_the_reset_not_by_expiry() -> None:
    # RULE-003's lock lasts until the next reset; at that instant the reset clears it.
    book = LockoutBook()
    loss = hard(book)
    assert book.clear_on_reset(ACCT, RESET_AT) == [loss.cleared(RESET_AT, "reset")]
    assert book.check_expired_lockouts(RESET_AT) == []


def test_a_late_reset_records_the_lock_ending_at_its_expiry() -> None:
    book = LockoutBook()
    loss = hard(book)
    cooldown, _ = book.set_cooldown(ACCT, "RULE-006", "per minute", at(1), T0)
    late = RESET_AT + timedelta(seconds=1)
    assert book.clear_on_reset(ACCT, late) == [loss.cleared(RESET_AT, "reset")]
    assert book.check_expired_lockouts(late) == [cooldown.cleared(at(1), "expiry")]


def test_restored_symbol_scopes_are_matched_case_insensitively() -> None:
    book = LockoutBook()
    rty = Lockout(3, ACCT, "RULE-009", "rty", "session", "stored", T0, at(60))
    assert book.restore([rty], T0) == []
    assert book.is_locked_out(ACCT, T0, symbol="RTY")
    assert book.set_lockout(ACCT, "RULE-009", "again", at(60), T0, scope="RTY", kind="session") is None
