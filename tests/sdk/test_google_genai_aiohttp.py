"""google-genai's async client on aiohttp (its transport whenever aiohttp is installed): under
`emulate()`, in a cassette (recorded, then replayed in ``none`` mode), and under
`block_network`; every test proves aiohttp carried the requests and no socket was opened."""

from __future__ import annotations

import functools
import socket
from pathlib import Path
from typing import Any

import pytest

import myna._aiohttp_hook as hook
from myna.cassettes import cassette, load_cassette
from myna.emulators import emulate
from myna.fakes import fault, tool_call
from myna.testing import NetworkBlockedError, block_network

pytest.importorskip("aiohttp")
genai = pytest.importorskip("google.genai")
types = pytest.importorskip("google.genai.types")
errors = pytest.importorskip("google.genai.errors")

MODEL = "gemini-2.5-flash"


@functools.cache
def client() -> Any:
    return genai.Client(
        api_key="g-test-key",
        http_options=types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1)),
    )


@pytest.fixture
def via_aiohttp(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs myna answered over an aiohttp connection (its in-memory connections)."""
    urls: list[str] = []
    original = hook._virtual_connection

    def spy(connector: Any, req: Any, *args: Any) -> Any:
        urls.append(str(req.url))
        return original(connector, req, *args)

    monkeypatch.setattr(hook, "_virtual_connection", spy)
    return urls


@pytest.fixture
def connects(offline: list[Any]) -> list[Any]:
    """Every socket connection attempted (each is refused)."""
    return offline


async def stream_texts(contents: str = "Count") -> list[str | None]:
    chunks = await client().aio.models.generate_content_stream(model=MODEL, contents=contents)
    return [chunk.text async for chunk in chunks]


async def test_generate_content(via_aiohttp, connects):
    with emulate("google_genai", ["Hello over aiohttp."]) as server:
        response = await client().aio.models.generate_content(model=MODEL, contents="Hi")
    assert response.text == "Hello over aiohttp."
    (request,) = server.requests
    assert request.headers["x-goog-api-key"] == "g-test-key"
    assert via_aiohttp == [request.url]
    assert connects == []


async def test_generate_content_stream(via_aiohttp, connects):
    with emulate("google_genai", ["one two three"]) as server:
        texts = await stream_texts()
    assert texts == ["one ", "two ", "three"]
    assert server.requests[0].stream is True
    assert via_aiohttp == [server.requests[0].url] and connects == []


async def test_tool_call_and_error(via_aiohttp, connects):
    weather = types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name="get_weather",
                parameters_json_schema={"type": "object", "properties": {"city": {}}},
            )
        ]
    )
    config = types.GenerateContentConfig(tools=[weather])
    with emulate("google_genai", [tool_call("get_weather", city="Oslo"), fault.rate_limit()]):
        first = await client().aio.models.generate_content(
            model=MODEL, contents="Weather?", config=config
        )
        with pytest.raises(errors.APIError) as caught:
            await client().aio.models.generate_content(model=MODEL, contents="Again")
    (call,) = first.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Oslo"})
    assert caught.value.code == 429
    assert len(via_aiohttp) == 2 and connects == []


async def test_disconnect_mid_stream_keeps_the_first_chunk(via_aiohttp, sdk_error):
    texts: list[str | None] = []
    with emulate("google_genai", [fault.disconnect(after_chunks=1), "one two three"]):
        with sdk_error():
            chunks = await client().aio.models.generate_content_stream(model=MODEL, contents="C")
            async for chunk in chunks:
                texts.append(chunk.text)
    assert texts == ["one "]
    assert len(via_aiohttp) == 1


async def test_cassette_records_then_replays_offline(tmp_path: Path, via_aiohttp, connects):
    path = tmp_path / "genai.yaml"
    with emulate("google_genai", ["Recorded reply.", "a b c"]), cassette(path, mode="all"):
        plain = (await client().aio.models.generate_content(model=MODEL, contents="Hi")).text
        streamed = await stream_texts()
    text = path.read_text()
    assert "g-test-key" not in text  # the x-goog-api-key header is scrubbed on write
    interactions = load_cassette(path)["interactions"]
    assert len(interactions) == 2 and "sse" in interactions[1]["response"]["body"]
    assert via_aiohttp
    via_aiohttp.clear()

    with cassette(path, mode="none") as replay:
        assert (await client().aio.models.generate_content(model=MODEL, contents="Hi")).text == (
            plain
        )
        assert await stream_texts() == streamed == ["a ", "b ", "c"]
    assert replay.play_counts == [1, 1]
    assert len(via_aiohttp) == 2 and connects == []


async def test_block_network_stops_aiohttp_before_any_connection(monkeypatch):
    attempts: list[Any] = []
    original = socket.socket.connect

    def record(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    with block_network(), pytest.raises(NetworkBlockedError, match=r"googleapis\.com"):
        await client().aio.models.generate_content(model=MODEL, contents="Hi")
    assert attempts == []  # refused at the name lookup: no socket was connected
