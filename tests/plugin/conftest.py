"""Shared set-up for the plugin's pytester tests (see `inner_pytest_defaults` in
tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _inner_defaults(inner_pytest_defaults: None) -> None:
    """Every plugin test gets the inner-run defaults."""
