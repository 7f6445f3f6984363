"""Fixtures for the broker tests."""

from __future__ import annotations

import pytest
from broker_payloads import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
