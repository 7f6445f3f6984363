"""Where the API key lives when accounts.yaml leaves it empty (SPEC §8 Decision).

The OS keyring when a backend works for the account running the daemon (Windows
Credential Manager, macOS Keychain, Secret Service), else ``<config_dir>/secrets.yaml``
readable by its owner only (0600). ``PROJECT_X_API_KEY`` and a non-empty ``api_key`` in
accounts.yaml come first (the config loader applies them).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import yaml

log = logging.getLogger("risk_manager.config")

SERVICE = "risk-manager"
SECRETS_FILE = "secrets.yaml"


def _keyring_usable() -> bool:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    return not isinstance(keyring.get_keyring(), fail.Keyring)


def load_api_key(config_dir: Path, username: str) -> str | None:
    """The stored API key for ``username``: keyring first, then secrets.yaml; None if neither has one."""
    if _keyring_usable():
        import keyring
        import keyring.errors

        try:
            secret = keyring.get_password(SERVICE, username)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring unavailable (%s); trying %s", type(exc).__name__, SECRETS_FILE)
        else:
            if secret:
                return secret
    path = config_dir / SECRETS_FILE
    if not path.is_file():
        return None
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by others: chmod 600 it", path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    keys = data.get("api_keys", {}) if isinstance(data, dict) else {}
    value = keys.get(username) if isinstance(keys, dict) else None
    return str(value) if value else None


def store_api_key(config_dir: Path, username: str, api_key: str) -> str:
    """Keep ``api_key`` for ``username``; returns where ("keyring" or the secrets file path)."""
    if _keyring_usable():
        import keyring

        keyring.set_password(SERVICE, username, api_key)
        return "keyring"
    path = config_dir / SECRETS_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    keys = dict((data or {}).get("api_keys", {}))
    keys[username] = api_key
    config_dir.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"version": 1, "api_keys": keys}, handle)
    os.replace(temp, path)
    return str(path)


__all__ = ["SECRETS_FILE", "SERVICE", "load_api_key", "store_api_key"]
