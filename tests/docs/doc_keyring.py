"""A keyring backend in a JSON file, for the manual's tests (SPEC §8: tests use a test keyring).

Selected with ``PYTHON_KEYRING_BACKEND=doc_keyring.FileKeyring`` and the file named by
``DOC_KEYRING_FILE``, so ``python -m keyring set`` in one process and the daemon in another
see the same secrets, as they would with the OS keyring, without touching the real one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    """Secrets as ``{"service/username": secret}`` in one JSON file."""

    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ["DOC_KEYRING_FILE"])

    def _load(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._path().write_text(json.dumps(data), encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._path().write_text(json.dumps(data), encoding="utf-8")
