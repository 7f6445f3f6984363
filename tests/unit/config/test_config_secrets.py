"""API keys kept outside accounts.yaml: the keyring, else a 0600 secrets.yaml."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from risk_manager.config.secrets import SECRETS_FILE, load_api_key, store_api_key


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_the_keyring_is_used_when_it_works(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    assert store_api_key(tmp_path, "trader", "sk-123456789") == "keyring"
    assert load_api_key(tmp_path, "trader") == "sk-123456789"
    assert not (tmp_path / SECRETS_FILE).exists()


def test_without_a_keyring_the_key_goes_to_an_owner_only_file(tmp_path: Path) -> None:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        where = store_api_key(tmp_path, "trader", "sk-abcdef123")
        store_api_key(tmp_path, "other", "sk-zzz999999")
        assert load_api_key(tmp_path, "trader") == "sk-abcdef123"
        assert load_api_key(tmp_path, "nobody") is None
    finally:
        keyring.set_keyring(previous)
    assert where == str(tmp_path / SECRETS_FILE)
    if os.name == "posix":
        assert stat.S_IMODE((tmp_path / SECRETS_FILE).stat().st_mode) == 0o600
