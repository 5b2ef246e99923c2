"""The client matrix's fixtures: one test body runs against `emulate()` and `serve()`, sync and
async, inside `block_network()`.

Tests assert what myna controls: the text or tool call the client hands back, the request the
emulator saw, the status it answered. An error is accepted as whatever exception the client
raises (its class and message are the client's business); the test then checks the status the
emulator answered with.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from myna.emulators import emulate, serve
from myna.exceptions import MynaError
from myna.testing import block_network

# litellm downloads its price list on import unless told to use the bundled copy
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@dataclass
class Endpoint:
    """A running emulator and where a client reaches it: `url` is the loopback server's base
    URL under ``serve()``, None under ``emulate()`` (the client keeps its default host)."""

    server: Any
    url: str | None

    @property
    def requests(self) -> list[Any]:
        return self.server.requests


@pytest.fixture(params=["emulate", "serve"])
def transport(request: pytest.FixtureRequest) -> str:
    """In-process interception, then a real HTTP server on loopback."""
    return request.param


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """The client's sync API, then its async one."""
    return request.param


@pytest.fixture
def endpoint(transport: str) -> Any:
    """``with endpoint("openai", [...]) as at:``: the emulator for this test's transport,
    inside `block_network()`, so that any request to a real host fails the test."""

    @contextlib.contextmanager
    def start(provider: str, script: Sequence[Any], **options: Any) -> Iterator[Endpoint]:
        with block_network(where="the client matrix"):
            if transport == "emulate":
                with emulate(provider, script, **options) as server:
                    yield Endpoint(server, None)
            else:
                with serve(provider, script, **options) as server:
                    yield Endpoint(server, server.base_url)

    return start


class Caught:
    """What `client_error` caught: ``.value`` is the client's exception."""

    value: BaseException


@contextlib.contextmanager
def _client_error() -> Iterator[Caught]:
    caught = Caught()
    try:
        yield caught
    except (AssertionError, MynaError):
        # a failed assertion or one of myna's own errors (a script error, a request not
        # emulated) is not the client's report of the scripted fault
        raise
    except Exception as error:
        caught.value = error
    else:
        pytest.fail("the client raised nothing: the scripted fault did not reach the caller")


@pytest.fixture
def client_error() -> Any:
    """``with client_error():``: the block must raise, whatever exception class the client
    chooses for a scripted fault; myna's errors and failed assertions are not accepted, and
    `NetworkBlockedError` (a BaseException) always propagates."""
    return _client_error


@pytest.fixture
def weather_tool() -> dict[str, Any]:
    """An OpenAI-format tool, which every client here accepts."""
    return {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
