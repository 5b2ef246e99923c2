"""litellm's `acompletion` (an aiohttp transport on every route) under `emulate()`, in a
cassette and under `block_network`, for its OpenAI and Anthropic routes.

litellm is not in the dev extra (about 250 MB with its 21 new packages, 5-9 s to import): it
runs here, in the client environment that has it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

import myna._aiohttp_hook as hook
from myna.cassettes import cassette
from myna.emulators import emulate
from myna.fakes import fault, tool_call
from myna.testing import NetworkBlockedError, block_network

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-list download

import litellm

ROUTES = {
    "openai": ("openai/gpt-4.1-mini", "sk-test"),
    "anthropic": ("anthropic/claude-haiku-4-5", "sk-ant-test"),
}
HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(params=sorted(ROUTES))
def route(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def via_aiohttp(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs myna answered over an aiohttp connection."""
    urls: list[str] = []
    original = hook._virtual_connection

    def spy(connector: Any, req: Any, *args: Any) -> Any:
        urls.append(str(req.url))
        return original(connector, req, *args)

    monkeypatch.setattr(hook, "_virtual_connection", spy)
    return urls


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError(f"test: no network ({address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


async def texts(stream: Any) -> str:
    return "".join([chunk.choices[0].delta.content or "" async for chunk in stream])


async def test_plain_and_stream(route, via_aiohttp, connects):
    model, key = ROUTES[route]
    with emulate(route, ["Hello from the emulator", "one two three"]) as server:
        plain = await litellm.acompletion(model=model, messages=HI, api_key=key)
        streamed = await texts(
            await litellm.acompletion(model=model, messages=HI, api_key=key, stream=True)
        )
    assert plain.choices[0].message.content == "Hello from the emulator"
    assert streamed == "one two three"
    assert [r.stream for r in server.requests] == [False, True]
    assert len(via_aiohttp) == 2 and connects == []


async def test_tool_call_and_error(route, via_aiohttp, connects):
    model, key = ROUTES[route]
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    with emulate(route, [tool_call("get_weather", city="Oslo"), fault.rate_limit()]) as server:
        first = await litellm.acompletion(model=model, messages=HI, api_key=key, tools=tools)
        with pytest.raises(Exception) as caught:
            await litellm.acompletion(model=model, messages=HI, api_key=key, max_retries=0)
    (call,) = first.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and '"Oslo"' in call.function.arguments
    assert getattr(caught.value, "status_code", None) == 429
    assert [r.status for r in server.requests] == [200, 429]
    assert len(via_aiohttp) == 2 and connects == []


async def test_cassette_replays_a_stream_offline(route, tmp_path: Path, connects):
    model, key = ROUTES[route]
    path = tmp_path / f"{route}.yaml"
    with emulate(route, ["a b c"]), cassette(path, mode="all"):
        live = await texts(
            await litellm.acompletion(model=model, messages=HI, api_key=key, stream=True)
        )
    with cassette(path, mode="none") as replay:
        replayed = await texts(
            await litellm.acompletion(model=model, messages=HI, api_key=key, stream=True)
        )
    assert replayed == live == "a b c"
    assert replay.play_counts == [1] and connects == []


async def test_block_network(route):
    model, key = ROUTES[route]
    with block_network(), pytest.raises(NetworkBlockedError):
        await litellm.acompletion(model=model, messages=HI, api_key=key)
