"""Helpers for the config tests: parse YAML text as the loader would, and write config dirs.

A uniquely named module (not conftest) so test modules can import it without clashing
with other packages' conftest files.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from pydantic import BaseModel

from risk_manager.config import ConfigError, parse_model, parse_yaml

M = TypeVar("M", bound=BaseModel)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "config"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
RISK_PATH = "config/risk_config.yaml"

MINIMAL_ACCOUNTS = """\
version: 1
gateway:
  firm: simulator
  username: demo
  api_key: demo
accounts:
  - id: 1
"""

MINIMAL_RISK = """\
version: 1
rules:
  daily_realized_loss: {enabled: true, limit: -500.0}
"""


def parse(model: type[M], text: str, path: str = RISK_PATH, env: dict[str, str] | None = None) -> M:
    """Validate YAML text as ``model`` the way files are (our YAML reader, then parse_model)."""
    doc = parse_yaml(textwrap.dedent(text), path, env={} if env is None else env)
    if doc.problems:
        raise ConfigError(doc.problems)
    return parse_model(model, doc.data, doc.lines, doc.path)


def problems(call: Callable[[], object]) -> list[str]:
    """The problem lines a call raises (fails the test if it does not raise ConfigError)."""
    with pytest.raises(ConfigError) as info:
        call()
    return [str(problem) for problem in info.value.problems]


def write_config(
    directory: Path,
    accounts: str | None = MINIMAL_ACCOUNTS,
    risk: str | None = MINIMAL_RISK,
    holidays: str | None = None,
    **others: str | None,
) -> Path:
    """A config dir with the given file texts (``None`` = file absent); extra files by name."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {"accounts.yaml": accounts, "risk_config.yaml": risk, "holidays.yaml": holidays}
    files.update({name.replace("__", "."): text for name, text in others.items()})
    for name, text in files.items():
        if text is not None:
            (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return directory
