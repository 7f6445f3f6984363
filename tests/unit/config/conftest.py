"""Fixtures for the config tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from config_testkit import EXAMPLES


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of examples/config in a temp dir, for tests that edit one file of a valid set."""
    target = tmp_path / "config"
    shutil.copytree(EXAMPLES, target)
    return target
