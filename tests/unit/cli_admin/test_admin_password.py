"""The admin password file (SPEC §6): bcrypt cost 12, 0600, atomic, long passphrases intact."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from risk_manager.control.password import (
    has_password,
    hash_path,
    set_password,
    validate_new_password,
    verify_password,
)


def test_set_then_verify_accepts_only_the_same_password(tmp_path: Path) -> None:
    assert not has_password(tmp_path)
    set_password(tmp_path, "correct horse")
    assert has_password(tmp_path)
    assert verify_password(tmp_path, "correct horse")
    assert not verify_password(tmp_path, "correct hors")
    assert not verify_password(tmp_path, "")


def test_hash_is_bcrypt_cost_12_and_never_the_password(tmp_path: Path) -> None:
    set_password(tmp_path, "correct horse")
    text = hash_path(tmp_path).read_text()
    assert text.startswith("$2b$12$")
    assert "correct horse" not in text


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_hash_file_is_owner_only(tmp_path: Path) -> None:
    path = set_password(tmp_path, "correct horse")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_changing_the_password_replaces_the_file_and_leaves_no_temp(tmp_path: Path) -> None:
    set_password(tmp_path, "first password")
    set_password(tmp_path, "second password")
    assert verify_password(tmp_path, "second password")
    assert not verify_password(tmp_path, "first password")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["admin_password.hash"]


def test_long_passphrases_differing_after_72_bytes_are_different_passwords(tmp_path: Path) -> None:
    common = "x" * 80
    set_password(tmp_path, common + "-one")
    assert verify_password(tmp_path, common + "-one")
    assert not verify_password(tmp_path, common + "-two")
    assert not verify_password(tmp_path, common)


def test_multibyte_password_over_72_bytes(tmp_path: Path) -> None:
    password = "é" * 40  # 80 bytes in UTF-8, 40 characters
    set_password(tmp_path, password)
    assert verify_password(tmp_path, password)
    assert not verify_password(tmp_path, "é" * 39 + "e")


def test_missing_or_damaged_hash_verifies_nothing(tmp_path: Path) -> None:
    assert not verify_password(tmp_path, "anything at all")
    hash_path(tmp_path).write_text("not a bcrypt hash\n")
    assert not verify_password(tmp_path, "not a bcrypt hash")


def test_empty_hash_file_is_no_password(tmp_path: Path) -> None:
    hash_path(tmp_path).write_text("")
    assert not has_password(tmp_path)


@pytest.mark.parametrize(
    ("password", "again", "error"),
    [
        pytest.param("longenough", "longenough", None, id="ok"),
        pytest.param("12345678", "12345678", None, id="exactly-8"),
        pytest.param("1234567", "1234567", "at least 8 characters (got 7)", id="short"),
        pytest.param("longenough", "longenougH", "the two passwords differ", id="differ"),
    ],
)
def test_validate_new_password(password: str, again: str, error: str | None) -> None:
    result = validate_new_password(password, again)
    if error is None:
        assert result is None
    else:
        assert result is not None and error in result
