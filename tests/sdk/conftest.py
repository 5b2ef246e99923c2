"""Helpers for the official-SDK tests: one body drives the sync and the async client.

These tests check what myna controls (what the emulator sent, recorded and cut) and leave the
SDKs free in what they control: which exception class wraps a dropped connection or a timeout,
its message, private attributes. `sdk_error` accepts any exception the SDK raises for a
scripted fault, and the test then asserts on what the emulator did.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from myna.exceptions import MynaError


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """The SDK's sync client, then its async one."""
    return request.param


async def _call(result: Any) -> Any:
    if inspect.isawaitable(result):
        return await result
    return result


async def _drain(stream: Any, into: list[Any]) -> list[Any]:
    stream = await _call(stream)
    if hasattr(stream, "__aiter__"):
        async for item in stream:
            into.append(item)
    else:
        for item in stream:
            into.append(item)
    return into


async def _collect(stream: Any) -> list[Any]:
    return await _drain(stream, [])


@pytest.fixture
def call() -> Any:
    """``await call(client.x.create(...))``: the value of a sync or an async SDK call."""
    return _call


@pytest.fixture
def collect() -> Any:
    """``await collect(stream)``: every item of a sync or async SDK stream."""
    return _collect


@pytest.fixture
def drain() -> Any:
    """``await drain(stream, into)``: append each item of a sync or async SDK stream to `into`
    as it arrives, so the items received before a failure are still there afterwards."""
    return _drain


class Caught:
    """What `sdk_error` caught: ``.value`` is the SDK's exception."""

    value: BaseException


@contextlib.contextmanager
def _sdk_error() -> Iterator[Caught]:
    caught = Caught()
    try:
        yield caught
    except (AssertionError, MynaError):
        # a failed assertion, a request the emulator blocked, a script error: not the SDK's
        # report of a scripted fault, so the test must fail
        raise
    except Exception as error:
        caught.value = error
    else:
        pytest.fail("the SDK raised nothing: the scripted fault did not reach the caller")


@pytest.fixture
def sdk_error() -> Any:
    """``with sdk_error() as caught:``: the block must raise, with whatever exception class
    the SDK chooses for a scripted fault (its wrapper, or the transport's own error); only
    assertion errors and myna's errors are not accepted."""
    return _sdk_error
