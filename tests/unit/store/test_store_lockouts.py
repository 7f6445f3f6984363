"""Lock rows: at most one active per (account, rule, scope), history kept (SPEC §5, §4.5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from risk_manager.store import LockRow, Store, StoreError

LATER = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)


def test_insert_lockout_round_trips_every_field(store: Store, make_lock: Callable[..., LockRow]) -> None:
    lock = make_lock(id=7, scope="RTY", kind="session", expires_at=None)
    store.insert_lockout(lock)
    assert store.active_lockouts() == [lock]
    assert store.max_lockout_id() == 7


def test_second_active_lock_same_account_rule_scope_fails(
    store: Store, make_lock: Callable[..., LockRow]
) -> None:
    store.insert_lockout(make_lock(id=1))
    with pytest.raises(StoreError, match=r"insert_lockout failed on .*risk_manager\.db: UNIQUE"):
        store.insert_lockout(make_lock(id=2))
    assert [lock.id for lock in store.active_lockouts()] == [1]


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"account_id": 102}, id="other-account"),
        pytest.param({"rule_id": "RULE-013"}, id="other-rule"),
        pytest.param({"scope": "MNQ"}, id="other-scope"),
    ],
)
def test_active_locks_that_differ_in_account_rule_or_scope_coexist(
    store: Store, make_lock: Callable[..., LockRow], other: dict[str, object]
) -> None:
    store.insert_lockout(make_lock(id=1))
    store.insert_lockout(make_lock(id=2, **other))
    assert [lock.id for lock in store.active_lockouts()] == [1, 2]


def test_after_clearing_a_lock_a_new_one_for_the_same_key_works(
    store: Store, make_lock: Callable[..., LockRow]
) -> None:
    store.insert_lockout(make_lock(id=1))
    store.clear_lockout(1, LATER, "reset")
    store.insert_lockout(make_lock(id=2))
    assert [lock.id for lock in store.active_lockouts()] == [2]
    history = store.lockouts()
    assert [(lock.id, lock.cleared_at, lock.cleared_by) for lock in history] == [
        (1, LATER, "reset"),
        (2, None, None),
    ]
    assert not history[0].is_active


def test_clear_lockout_twice_keeps_the_first_clear(store: Store, make_lock: Callable[..., LockRow]) -> None:
    store.insert_lockout(make_lock(id=1))
    store.clear_lockout(1, LATER, "expiry")
    store.clear_lockout(1, datetime(2026, 3, 11, tzinfo=UTC), "admin")
    assert store.lockouts()[0].cleared_by == "expiry"
    assert store.lockouts()[0].cleared_at == LATER


def test_duplicate_lock_id_fails(store: Store, make_lock: Callable[..., LockRow]) -> None:
    store.insert_lockout(make_lock(id=1))
    store.clear_lockout(1, LATER, "admin")
    with pytest.raises(StoreError, match="UNIQUE"):
        store.insert_lockout(make_lock(id=1))


def test_unknown_kind_is_refused_by_the_schema(store: Store, make_lock: Callable[..., LockRow]) -> None:
    with pytest.raises(StoreError, match="CHECK"):
        store.insert_lockout(make_lock(kind="forever"))


def test_active_lockouts_and_history_filter_by_account_and_since(
    store: Store, make_lock: Callable[..., LockRow]
) -> None:
    store.insert_lockout(make_lock(id=1, created_at=datetime(2026, 3, 9, 15, tzinfo=UTC)))
    store.insert_lockout(make_lock(id=2, account_id=102))
    store.insert_lockout(make_lock(id=3, rule_id="RULE-006", kind="cooldown"))
    store.clear_lockout(3, LATER, "expiry")
    assert [lock.id for lock in store.active_lockouts(101)] == [1]
    assert [lock.id for lock in store.lockouts(account_id=101)] == [1, 3]
    assert [lock.id for lock in store.lockouts(since=datetime(2026, 3, 10, tzinfo=UTC))] == [2, 3]


def test_max_lockout_id_is_zero_on_a_new_store(store: Store) -> None:
    assert store.max_lockout_id() == 0


def test_locks_survive_a_reopen(db_path: Path, make_lock: Callable[..., LockRow]) -> None:
    with Store.open(db_path) as store:
        store.insert_lockout(make_lock(id=4))
    with Store.open(db_path) as store:
        assert store.active_lockouts() == [make_lock(id=4)]
