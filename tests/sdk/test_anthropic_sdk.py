"""The official `anthropic` SDK (on httpx2) against `emulate("anthropic")`: messages.create,
messages.stream, tools and errors, sync and async."""

from __future__ import annotations

import functools

import anthropic
import pytest

from myna.emulators import emulate
from myna.fakes import fault, tool_call
from myna.messages import AIMessage

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
MODEL = "claude-haiku-4-5"


@functools.cache
def client_for(mode: str) -> anthropic.Anthropic | anthropic.AsyncAnthropic:
    """One client per mode for the module: each SDK client builds an SSL context (~80 ms)."""
    cls = anthropic.Anthropic if mode == "sync" else anthropic.AsyncAnthropic
    return cls(api_key="sk-ant-test", max_retries=0)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def test_create_plain(mode, call):
    with emulate("anthropic", ["Hello from the emulator."]) as server:
        message = await call(
            client_for(mode).messages.create(
                model=MODEL, max_tokens=256, system="Be brief.", messages=user("Hi")
            )
        )

    assert message.content[0].type == "text"
    assert message.content[0].text == "Hello from the emulator."
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    (request,) = server.requests
    # this SDK generation sends the key as a bearer token; older ones use x-api-key
    sent_key = request.headers.get("x-api-key") or request.headers["authorization"]
    assert sent_key.removeprefix("Bearer ") == "sk-ant-test"
    assert request.headers["anthropic-version"]
    assert [m.type for m in request.messages] == ["system", "human"]
    assert request.params["max_tokens"] == 256


async def test_stream_helper(mode):
    with emulate("anthropic", ["one two three"]) as server:
        client = client_for(mode)
        if mode == "sync":
            with client.messages.stream(model=MODEL, max_tokens=64, messages=user("Count")) as s:
                texts = list(s.text_stream)
                final = s.get_final_message()
        else:
            async with client.messages.stream(
                model=MODEL, max_tokens=64, messages=user("Count")
            ) as s:
                texts = [t async for t in s.text_stream]
                final = await s.get_final_message()

    assert texts == ["one ", "two ", "three"]
    assert final.content[0].text == "one two three"
    assert final.usage.output_tokens > 0
    assert server.requests[0].stream is True


async def test_raw_stream_events(mode, collect):
    with emulate("anthropic", ["a b"]):
        events = await collect(
            client_for(mode).messages.create(
                model=MODEL, max_tokens=64, messages=user("Hi"), stream=True
            )
        )
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert [e.delta.text for e in events if e.type == "content_block_delta"] == ["a ", "b"]


async def test_tool_use_round_trip(mode, call):
    with emulate("anthropic", [tool_call("get_weather", city="Paris"), "Sunny."]) as server:
        client = client_for(mode)
        first = await call(
            client.messages.create(
                model=MODEL, max_tokens=256, messages=user("Weather?"), tools=[WEATHER_TOOL]
            )
        )
        (use,) = [b for b in first.content if b.type == "tool_use"]
        assert first.stop_reason == "tool_use"
        assert (use.name, use.input) == ("get_weather", {"city": "Paris"})
        history = [
            *user("Weather?"),
            {
                "role": "assistant",
                "content": [b.model_dump(exclude_none=True) for b in first.content],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}],
            },
        ]
        final = await call(
            client.messages.create(
                model=MODEL, max_tokens=256, messages=history, tools=[WEATHER_TOOL]
            )
        )

    assert final.content[0].text == "Sunny."
    assert server.requests[0].params["tools"][0]["name"] == "get_weather"
    result = server.requests[1].messages[-1]
    assert (result.type, result.tool_call_id, result.text) == ("tool", use.id, "sunny")


async def test_streamed_tool_input(mode):
    with emulate("anthropic", [tool_call("get_weather", city="Oslo")]):
        client = client_for(mode)
        kwargs = {
            "model": MODEL,
            "max_tokens": 64,
            "messages": user("Weather?"),
            "tools": [WEATHER_TOOL],
        }
        if mode == "sync":
            with client.messages.stream(**kwargs) as s:
                final = s.get_final_message()
        else:
            async with client.messages.stream(**kwargs) as s:
                final = await s.get_final_message()
    assert final.content[-1].input == {"city": "Oslo"}


async def test_thinking_blocks(mode, call):
    reply = AIMessage(
        [
            {"type": "reasoning", "reasoning": "Greet back.", "extras": {"signature": "sig-9"}},
            {"type": "text", "text": "Hello!"},
        ]
    )
    with emulate("anthropic", [reply]):
        message = await call(
            client_for(mode).messages.create(
                model=MODEL,
                max_tokens=2048,
                thinking={"type": "enabled", "budget_tokens": 1024},
                messages=user("Hi"),
            )
        )
    thinking, text = message.content
    assert (thinking.type, thinking.thinking, thinking.signature) == (
        "thinking",
        "Greet back.",
        "sig-9",
    )
    assert text.text == "Hello!"


@pytest.mark.parametrize(
    ("scripted", "status", "error_type"),
    [
        (fault.rate_limit(retry_after=5), 429, "rate_limit_error"),
        (fault.overloaded(), 529, "overloaded_error"),
        (fault.server_error(), 500, "api_error"),
    ],
    ids=["rate_limit", "overloaded", "server_error"],
)
async def test_status_errors(mode, call, scripted, status, error_type):
    # myna controls the status, headers and body on the wire; which APIStatusError subclass
    # the SDK maps a status to is the SDK's choice
    with emulate("anthropic", [scripted]) as server:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await call(
                client_for(mode).messages.create(model=MODEL, max_tokens=64, messages=user("Hi"))
            )

    assert [r.status for r in server.requests] == [status]
    assert caught.value.status_code == status
    body = caught.value.response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    if status == 429:
        assert caught.value.response.headers["retry-after"] == "5"


@pytest.mark.parametrize(
    "scripted", [fault.timeout(), fault.disconnect()], ids=["timeout", "disconnect"]
)
async def test_transport_errors(mode, call, sdk_error, scripted):
    # the emulator answers nothing (a read timeout, a dropped connection); how the SDK
    # reports that is its own choice
    with emulate("anthropic", [scripted]) as server:
        with sdk_error():
            await call(
                client_for(mode).messages.create(model=MODEL, max_tokens=64, messages=user("Hi"))
            )

    # max_retries=0: the one request reached the emulator, which sent no reply to it
    (request,) = server.requests
    assert request.reply is None


async def test_a_request_the_api_rejects(mode, call):
    with emulate("anthropic", []):
        with pytest.raises(anthropic.APIStatusError) as caught:
            await call(client_for(mode).messages.create(model=MODEL, max_tokens=64, messages=[]))
    assert caught.value.status_code == 400
    assert caught.value.response.json()["error"]["type"] == "invalid_request_error"


async def test_stream_cut_mid_way(mode, sdk_error):
    # the emulator sends one chunk, then drops the connection; the SDK may report that with
    # the transport's error or its own wrapper (anthropic 2.17: APIConnectionError)
    with emulate("anthropic", [fault.disconnect(after_chunks=1), "one two three"]) as server:
        client = client_for(mode)
        texts: list[str] = []
        with sdk_error():
            if mode == "sync":
                with client.messages.stream(model=MODEL, max_tokens=64, messages=user("Hi")) as s:
                    for text in s.text_stream:
                        texts.append(text)
            else:
                async with client.messages.stream(
                    model=MODEL, max_tokens=64, messages=user("Hi")
                ) as s:
                    async for text in s.text_stream:
                        texts.append(text)

    assert texts == ["one "]
    (request,) = server.requests
    assert request.stream is True and request.status == 200
    assert request.reply.text == "one two three"
