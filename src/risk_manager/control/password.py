"""The admin password (SPEC §6): a bcrypt hash, cost 12, in ``<config_dir>/admin_password.hash``.

Shared by ``risk-admin init`` (the first password, written locally) and the daemon's control
API (which verifies every admin action and changes the password). The file holds one line,
the bcrypt hash; it is written 0600 and atomically (temp file + rename), so a crash never
leaves a half-written hash that would lock the admin out.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import bcrypt

from risk_manager.control.protocol import MIN_PASSWORD

HASH_FILE = "admin_password.hash"
COST = 12
#: bcrypt reads at most 72 bytes of its input (bcrypt >= 5 raises beyond that)
BCRYPT_MAX_BYTES = 72


def hash_path(config_dir: Path) -> Path:
    """Where the hash lives: ``<config_dir>/admin_password.hash``."""
    return config_dir / HASH_FILE


def _secret(password: str) -> bytes:
    """The bytes given to bcrypt.

    bcrypt ignores everything past 72 bytes (and bcrypt 5 refuses such input), so two long
    passphrases sharing their first 72 bytes would be the same password. A longer one is
    first reduced to base64(sha256(utf-8)) (44 bytes, no NUL byte, which bcrypt also stops
    at), keeping every character significant. Shorter ones go in as they are, so the hash
    stays a plain bcrypt hash any tool can check.
    """
    raw = password.encode("utf-8")
    if len(raw) <= BCRYPT_MAX_BYTES:
        return raw
    return base64.b64encode(hashlib.sha256(raw).digest())


def has_password(config_dir: Path) -> bool:
    """True when a password was set (the hash file exists and is not empty)."""
    path = hash_path(config_dir)
    return path.is_file() and path.stat().st_size > 0


def set_password(config_dir: Path, password: str) -> Path:
    """Hash ``password`` (bcrypt, cost 12) into the hash file, 0600, atomically; returns its path."""
    digest = bcrypt.hashpw(_secret(password), bcrypt.gensalt(rounds=COST))
    config_dir.mkdir(parents=True, exist_ok=True)
    path = hash_path(config_dir)
    temp = path.with_name(f".{HASH_FILE}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(digest + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def verify_password(config_dir: Path, password: str) -> bool:
    """Whether ``password`` matches the stored hash; False when none is set or the file is damaged.

    bcrypt.checkpw compares in constant time, so the reply time tells nothing about the hash.
    """
    path = hash_path(config_dir)
    try:
        stored = path.read_bytes().strip()
    except OSError:
        return False
    try:
        return bcrypt.checkpw(_secret(password), stored)
    except ValueError:  # not a bcrypt hash (damaged or hand-edited file)
        return False


def validate_new_password(password: str, again: str) -> str | None:
    """Why a new password is refused (``None``: accepted): at least 8 characters, typed twice alike."""
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters (got {len(password)})"
    if password != again:
        return "the two passwords differ"
    return None


__all__ = [
    "COST",
    "HASH_FILE",
    "has_password",
    "hash_path",
    "set_password",
    "validate_new_password",
    "verify_password",
]
