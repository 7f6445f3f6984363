"""The daemon's JSON log lines and secret redaction."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from risk_manager.daemon.logs import mask, register_secrets, setup_logging


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_one_json_object_per_line_with_extras_and_no_secret(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "risk_manager.log"
    setup_logging("INFO", log_file, max_bytes=1 << 20, backups=2, stream=False)
    register_secrets(["sk-live-0123456789abcdef"])
    log = logging.getLogger("risk_manager.test")
    log.info("login with %s", "sk-live-0123456789abcdef", extra={"account": 7})
    log.warning("plain")
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = log_file.read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["msg"] == "login with ****" and first["account"] == 7 and first["level"] == "INFO"
    assert first["ts"].endswith("Z") and second["msg"] == "plain"
    assert "0123456789abcdef" not in log_file.read_text()


def test_mask_keeps_only_the_last_four() -> None:
    assert mask("abcdefghijkl") == "****ijkl"
    assert mask("short") == "****"
    assert mask(None) == ""
