"""Shared test settings: hypothesis runs without deadlines (CI machines are shared and slow)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "myna",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("ci", parent=settings.get_profile("myna"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "myna")
