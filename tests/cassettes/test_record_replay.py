"""Record through real sockets (loopback emulator), replay offline, get identical results.

Covers our five providers and the official openai / anthropic SDKs (which sit on httpx2),
sync and async, for invoke, stream, tool calls and errors (a 429 and a stream cut mid-way).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from myna import init_chat_model
from myna.cassettes import cassette, load_cassette
from myna.fakes import fault, tool_call


def get_weather(city: str) -> str:
    """Get the weather for a city."""
    return "sunny"


PROVIDERS = {
    "openai": ("openai:gpt-4.1-mini", "/v1", {}),
    "openai_responses": ("openai:gpt-4.1-mini", "/v1", {"use_responses_api": True}),
    "anthropic": ("anthropic:claude-haiku-4-5", "/v1", {}),
    "google_genai": ("google_genai:gemini-2.5-flash", "", {}),
    "ollama": ("ollama:llama3.1", "", {}),
}
SCRIPT = [
    "Hello from the emulator",
    "Streaming is fun to test",
    tool_call("get_weather", city="Paris"),
    fault.rate_limit(),
    fault.disconnect(after_chunks=2),
    "This reply is cut short by a drop",
]


def _norm(value: Any) -> Any:
    """Drop client-minted run ids (Ollama has no message ids on the wire)."""
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_norm(v) for v in value)
    if hasattr(value, "model_copy") and str(getattr(value, "id", "")).startswith("run-"):
        return value.model_copy(update={"id": None})
    return value


def _error(exc: BaseException) -> tuple[Any, ...]:
    return (type(exc).__name__, str(exc), _norm(getattr(exc, "partial", None)))


def run_sync(model: Any) -> list[Any]:
    out: list[Any] = [model.invoke("Hi"), list(model.stream("Stream please"))]
    out.append(model.bind_tools([get_weather]).invoke("Weather in Paris?"))
    try:
        model.invoke("This one is rate limited")
    except Exception as exc:
        out.append(_error(exc))
    try:
        list(model.stream("This one is cut"))
    except Exception as exc:
        out.append(_error(exc))
    return _norm(out)


async def run_async(model: Any) -> list[Any]:
    out: list[Any] = [await model.ainvoke("Hi"), [c async for c in model.astream("Stream please")]]
    out.append(await model.bind_tools([get_weather]).ainvoke("Weather in Paris?"))
    try:
        await model.ainvoke("This one is rate limited")
    except Exception as exc:
        out.append(_error(exc))
    try:
        [c async for c in model.astream("This one is cut")]
    except Exception as exc:
        out.append(_error(exc))
    return _norm(out)


def _check_recording(recorded: list[Any], path: Path) -> None:
    assert [type(r).__name__ for r in recorded[:3]] == ["AIMessage", "list", "AIMessage"]
    assert recorded[2].tool_calls[0]["name"] == "get_weather"
    assert recorded[3][0] == "RateLimitError"
    assert recorded[4][0] == "StreamInterruptedError"
    interactions = load_cassette(path)["interactions"]
    assert len(interactions) == 5
    assert interactions[3]["response"]["status"] == 429
    cut = interactions[4]["response"]
    assert cut["error"]["type"] == "RemoteProtocolError"
    text = path.read_text()
    assert "test-key" not in text


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_provider_sync_record_then_replay_offline(provider, tmp_path, loopback, request):
    spec, suffix, extra = PROVIDERS[provider]
    path = tmp_path / f"{provider}.yaml"
    server = loopback(SCRIPT)
    model = init_chat_model(
        spec, base_url=server.base_url + suffix, api_key="test-key", max_retries=0, **extra
    )
    with cassette(path, mode="once"):
        recorded = run_sync(model)
    _check_recording(recorded, path)

    attempts = request.getfixturevalue("offline")
    with cassette(path, mode="none") as replay:
        replayed = run_sync(model)
    assert replayed == recorded
    assert replay.all_played and attempts == []


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_provider_async_record_then_replay_offline(provider, tmp_path, loopback, request):
    spec, suffix, extra = PROVIDERS[provider]
    path = tmp_path / f"{provider}.yaml"
    server = loopback(SCRIPT)
    model = init_chat_model(
        spec, base_url=server.base_url + suffix, api_key="test-key", max_retries=0, **extra
    )
    async with cassette(path, mode="once"):
        recorded = await run_async(model)
    _check_recording(recorded, path)

    attempts = request.getfixturevalue("offline")
    async with cassette(path, mode="none") as replay:
        replayed = await run_async(model)
    assert replayed == recorded
    assert replay.all_played and attempts == []


def test_a_committed_cassette_replays_in_sync_and_async(offline):
    """A cassette file from the repository replays with no server at all."""
    path = Path(__file__).parent / "data" / "anthropic_stream.yaml"
    model = init_chat_model(
        "anthropic:claude-haiku-4-5", base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=0
    )
    with cassette(path, mode="none"):
        chunks = list(model.stream("Hi"))
    assert "".join(c.text for c in chunks) == "Hello there"
    assert len(chunks) >= 3
    assert offline == []


async def test_a_committed_cassette_replays_async(offline):
    path = Path(__file__).parent / "data" / "anthropic_stream.yaml"
    model = init_chat_model(
        "anthropic:claude-haiku-4-5", base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=0
    )
    async with cassette(path, mode="none"):
        chunks = [c async for c in model.astream("Hi")]
    assert "".join(c.text for c in chunks) == "Hello there"


# ---------------------------------------------------------------- streams stay streams


def test_replayed_stream_arrives_as_one_chunk_per_event(tmp_path, loopback, request):
    server = loopback(["one two three four five"])
    path = tmp_path / "s.yaml"
    body = {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    url = server.base_url + "/v1/chat/completions"
    headers = {"authorization": "Bearer test"}
    with cassette(path, mode="once"), httpx.Client() as client:
        with client.stream("POST", url, json=body, headers=headers) as response:
            live = b"".join(response.iter_raw())
    events = load_cassette(path)["interactions"][0]["response"]["body"]["sse"]
    assert len(events) >= 7 and events[-1] == {"data": "[DONE]"}

    request.getfixturevalue("offline")
    with cassette(path, mode="none"), httpx.Client() as client:
        with client.stream("POST", url, json=body, headers=headers) as response:
            chunks = list(response.iter_raw())
    assert len(chunks) == len(events)  # not one block
    assert all(c.endswith(b"\n\n") for c in chunks)
    assert b"".join(chunks).replace(b" ", b"") == live.replace(b" ", b"")


async def test_async_replayed_stream_arrives_in_chunks(tmp_path, loopback):
    server = loopback(["alpha beta gamma"])
    path = tmp_path / "s.yaml"
    body = {"model": "llama3.1", "messages": [{"role": "user", "content": "hi"}]}
    url = server.base_url + "/api/chat"
    async with cassette(path, mode="once"), httpx.AsyncClient() as client:
        async with client.stream("POST", url, json=body) as response:
            live = [c async for c in response.aiter_raw()]
    lines = load_cassette(path)["interactions"][0]["response"]["body"]["ndjson"]
    assert len(lines) >= 4
    async with cassette(path, mode="none"), httpx.AsyncClient() as client:
        async with client.stream("POST", url, json=body) as response:
            chunks = [c async for c in response.aiter_raw()]
    assert len(chunks) == len(lines)
    assert b"".join(chunks).replace(b" ", b"") == b"".join(live).replace(b" ", b"")


def test_recording_tees_the_stream_without_buffering(tmp_path, loopback):
    """The first event reaches the caller while the server is still sending the rest."""
    server = loopback(["a b c d e f g h"], event_delay=0.05)
    url = server.base_url + "/v1/chat/completions"
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    import time

    with cassette(tmp_path / "t.yaml", mode="once", timing=True), httpx.Client() as client:
        start = time.monotonic()
        with client.stream("POST", url, json=body, headers={"authorization": "Bearer t"}) as r:
            parts = r.iter_raw()
            first = next(parts)
            first_at = time.monotonic() - start
            rest = list(parts)
            total = time.monotonic() - start
    assert first.startswith(b"data:") and rest
    assert first_at < total / 2
    timing = load_cassette(tmp_path / "t.yaml")["interactions"][0]["response"]["timing"]
    assert timing == sorted(timing) and timing[-1] - timing[0] >= 0.2


def test_timing_paces_the_replay_only_when_asked(tmp_path):
    import time

    path = tmp_path / "paced.yaml"
    path.write_text(
        (Path(__file__).parent / "data" / "anthropic_stream.yaml")
        .read_text()
        .replace(
            "    body:\n      sse:",
            "    timing: [0.0, 0.03, 0.06, 0.09, 0.12, 0.15, 0.18, 0.21]\n    body:\n      sse:",
        )
    )
    model = init_chat_model(
        "anthropic:claude-haiku-4-5", base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=0
    )
    with cassette(path, mode="none"):  # warm up: imports and the first load are not pacing
        list(model.stream("Hi"))
    start = time.monotonic()
    with cassette(path, mode="none"):
        list(model.stream("Hi"))
    fast = time.monotonic() - start
    start = time.monotonic()
    with cassette(path, mode="none", timing=True):
        list(model.stream("Hi"))
    slow = time.monotonic() - start
    # pacing adds the recorded 0.21 s; compare the difference, not absolute times, so a slow
    # machine does not fail the test
    assert slow >= 0.2
    assert slow - fast >= 0.12


# ---------------------------------------------------------------- the official SDKs (httpx2)


def _openai_calls(client: Any) -> list[Any]:
    out: list[Any] = []
    msgs = [{"role": "user", "content": "Hi"}]
    out.append(client.chat.completions.create(model="gpt-4.1-mini", messages=msgs).model_dump())
    stream = client.chat.completions.create(model="gpt-4.1-mini", messages=msgs, stream=True)
    out.append([chunk.model_dump() for chunk in stream])
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    out.append(
        client.chat.completions.create(
            model="gpt-4.1-mini", messages=msgs, tools=tools
        ).model_dump()
    )
    try:
        client.chat.completions.create(model="gpt-4.1-mini", messages=msgs)
    except Exception as exc:
        out.append((type(exc).__name__, exc.status_code, str(exc)))
    return out


async def _aopenai_calls(client: Any) -> list[Any]:
    out: list[Any] = []
    msgs = [{"role": "user", "content": "Hi"}]
    out.append(
        (await client.chat.completions.create(model="gpt-4.1-mini", messages=msgs)).model_dump()
    )
    stream = await client.chat.completions.create(model="gpt-4.1-mini", messages=msgs, stream=True)
    out.append([chunk.model_dump() async for chunk in stream])
    try:
        await client.chat.completions.create(model="gpt-4.1-mini", messages=msgs)
    except Exception as exc:
        out.append((type(exc).__name__, exc.status_code, str(exc)))
    return out


def test_openai_sdk_sync(tmp_path, loopback, request):
    openai = pytest.importorskip("openai")
    server = loopback(
        [
            "Hello SDK",
            "Streamed SDK reply",
            tool_call("get_weather", city="Oslo"),
            fault.rate_limit(),
        ]
    )
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0)
    path = tmp_path / "openai_sdk.yaml"
    with cassette(path, mode="once"):
        recorded = _openai_calls(client)
    assert recorded[0]["choices"][0]["message"]["content"] == "Hello SDK"
    assert len(recorded[1]) > 3
    assert (
        recorded[2]["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    )
    assert recorded[3][:2] == ("RateLimitError", 429)
    request.getfixturevalue("offline")
    with cassette(path, mode="none"):
        assert _openai_calls(client) == recorded


async def test_openai_sdk_async(tmp_path, loopback, request):
    openai = pytest.importorskip("openai")
    server = loopback(["Hello async SDK", "Streamed async reply", fault.rate_limit()])
    client = openai.AsyncOpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0)
    path = tmp_path / "openai_sdk_async.yaml"
    async with cassette(path, mode="once"):
        recorded = await _aopenai_calls(client)
    assert recorded[2][:2] == ("RateLimitError", 429)
    request.getfixturevalue("offline")
    async with cassette(path, mode="none"):
        assert await _aopenai_calls(client) == recorded


def _anthropic_calls(client: Any) -> list[Any]:
    msgs = [{"role": "user", "content": "Hi"}]
    out: list[Any] = [
        client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=msgs).model_dump()
    ]
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=msgs) as stream:
        out.append([event.model_dump() for event in stream])
    try:
        client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=msgs)
    except Exception as exc:
        out.append((type(exc).__name__, exc.status_code, str(exc)))
    return out


async def _aanthropic_calls(client: Any) -> list[Any]:
    msgs = [{"role": "user", "content": "Hi"}]
    first = await client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=msgs)
    out: list[Any] = [first.model_dump()]
    async with client.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=msgs) as s:
        out.append([event.model_dump() async for event in s])
    try:
        await client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=msgs)
    except Exception as exc:
        out.append((type(exc).__name__, exc.status_code, str(exc)))
    return out


def test_anthropic_sdk_sync(tmp_path, loopback, request):
    anthropic = pytest.importorskip("anthropic")
    server = loopback(["Hello Claude SDK", "Streamed Claude reply", fault.overloaded()])
    client = anthropic.Anthropic(base_url=server.base_url, api_key="test", max_retries=0)
    path = tmp_path / "anthropic_sdk.yaml"
    with cassette(path, mode="once"):
        recorded = _anthropic_calls(client)
    assert recorded[0]["content"][0]["text"] == "Hello Claude SDK"
    assert recorded[2][0] in ("OverloadedError", "InternalServerError", "APIStatusError")
    request.getfixturevalue("offline")
    with cassette(path, mode="none"):
        assert _anthropic_calls(client) == recorded


async def test_anthropic_sdk_async(tmp_path, loopback, request):
    anthropic = pytest.importorskip("anthropic")
    server = loopback(["Hello async Claude", "Streamed async Claude", fault.rate_limit()])
    client = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="test", max_retries=0)
    path = tmp_path / "anthropic_sdk_async.yaml"
    async with cassette(path, mode="once"):
        recorded = await _aanthropic_calls(client)
    assert recorded[2][:2] == ("RateLimitError", 429)
    request.getfixturevalue("offline")
    async with cassette(path, mode="none"):
        assert await _aanthropic_calls(client) == recorded
