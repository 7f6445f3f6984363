"""Hypothesis profiles for the whole suite.

``ci`` (chosen when the ``CI`` environment variable is set): few examples, derandomized,
so CI is quick and repeatable; ``dev`` (the default): hypothesis's usual search;
``thorough`` (``HYPOTHESIS_PROFILE=thorough``): many examples, for a long local run.
Tests that pin ``max_examples`` themselves keep their own number.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
