"""Helpers for the official-SDK tests: one body drives the sync and the async client."""

from __future__ import annotations

import inspect
from typing import Any

import pytest


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """The SDK's sync client, then its async one."""
    return request.param


async def _call(result: Any) -> Any:
    if inspect.isawaitable(result):
        return await result
    return result


async def _collect(stream: Any) -> list[Any]:
    stream = await _call(stream)
    if hasattr(stream, "__aiter__"):
        return [item async for item in stream]
    return list(stream)


@pytest.fixture
def call() -> Any:
    """``await call(client.x.create(...))``: the value of a sync or an async SDK call."""
    return _call


@pytest.fixture
def collect() -> Any:
    """``await collect(stream)``: every item of a sync or async SDK stream."""
    return _collect
