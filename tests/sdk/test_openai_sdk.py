"""The official `openai` SDK (on httpx2) against `emulate("openai")`: Chat Completions and
Responses, plain, streaming, tools, structured output and errors, sync and async."""

from __future__ import annotations

import functools
import json

import openai
import pytest
from pydantic import BaseModel

from myna.emulators import emulate
from myna.fakes import fault, tool_call

WEATHER_TOOL = {
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
RESPONSES_TOOL = {"type": "function", **WEATHER_TOOL["function"]}


class City(BaseModel):
    name: str
    population: int


@functools.cache
def client_for(mode: str) -> openai.OpenAI | openai.AsyncOpenAI:
    """One client per mode for the module: each SDK client builds an SSL context (~80 ms)."""
    cls = openai.OpenAI if mode == "sync" else openai.AsyncOpenAI
    return cls(api_key="sk-test", max_retries=0)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


# -- Chat Completions -------------------------------------------------------------------------------


async def test_chat_plain(mode, call):
    with emulate("openai", ["Hello from the emulator."]) as server:
        completion = await call(
            client_for(mode).chat.completions.create(model="gpt-4.1-mini", messages=user("Hi"))
        )

    choice = completion.choices[0]
    assert choice.message.content == "Hello from the emulator."
    assert choice.finish_reason == "stop"
    assert (
        completion.usage.total_tokens
        == completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    (request,) = server.requests
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.last_message.text == "Hi"
    assert request.params["model"] == "gpt-4.1-mini"


async def test_chat_streaming(mode, call, collect):
    with emulate("openai", ["one two three"]) as server:
        stream = client_for(mode).chat.completions.create(
            model="gpt-4.1-mini",
            messages=user("Count"),
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = await collect(stream)

    deltas = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert deltas == ["one ", "two ", "three"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert server.requests[0].stream is True


async def test_chat_tool_calls_round_trip(mode, call):
    script = [tool_call("get_weather", city="Paris"), "Sunny in Paris."]
    with emulate("openai", script) as server:
        client = client_for(mode)
        first = await call(
            client.chat.completions.create(
                model="gpt-4.1-mini", messages=user("Weather?"), tools=[WEATHER_TOOL]
            )
        )
        calls = first.choices[0].message.tool_calls
        assert first.choices[0].finish_reason == "tool_calls"
        assert calls[0].function.name == "get_weather"
        assert json.loads(calls[0].function.arguments) == {"city": "Paris"}
        history = [
            *user("Weather?"),
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"},
        ]
        final = await call(
            client.chat.completions.create(
                model="gpt-4.1-mini", messages=history, tools=[WEATHER_TOOL]
            )
        )

    assert final.choices[0].message.content == "Sunny in Paris."
    assert server.requests[0].params["tools"][0]["name"] == "get_weather"
    tool_message = server.requests[1].messages[-1]
    assert (tool_message.type, tool_message.text, tool_message.tool_call_id) == (
        "tool",
        "sunny",
        calls[0].id,
    )


async def test_chat_streamed_tool_call_arguments(mode, collect):
    with emulate("openai", [tool_call("get_weather", city="Paris")]):
        chunks = await collect(
            client_for(mode).chat.completions.create(
                model="gpt-4.1-mini", messages=user("Weather?"), tools=[WEATHER_TOOL], stream=True
            )
        )
    pieces = [
        tc.function.arguments
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
        for tc in c.choices[0].delta.tool_calls
        if tc.function and tc.function.arguments
    ]
    assert json.loads("".join(pieces)) == {"city": "Paris"}


async def test_chat_structured_output_with_parse(mode, call):
    with emulate("openai", [{"name": "Paris", "population": 2_100_000}]) as server:
        completion = await call(
            client_for(mode).chat.completions.parse(
                model="gpt-4.1-mini", messages=user("Biggest French city?"), response_format=City
            )
        )
    assert completion.choices[0].message.parsed == City(name="Paris", population=2_100_000)
    assert server.requests[0].params["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize(
    ("scripted", "status"),
    [
        (fault.rate_limit(retry_after=5), 429),
        (fault.server_error(), 500),
        (fault.overloaded(), 529),
    ],
    ids=["rate_limit", "server_error", "overloaded"],
)
async def test_chat_status_errors(mode, call, scripted, status):
    # myna controls the status, headers and body on the wire; which APIStatusError subclass
    # the SDK maps a status to is the SDK's choice
    with emulate("openai", [scripted]) as server:
        with pytest.raises(openai.APIStatusError) as caught:
            await call(
                client_for(mode).chat.completions.create(model="gpt-4.1-mini", messages=user("Hi"))
            )

    assert [r.status for r in server.requests] == [status]
    assert caught.value.status_code == status
    if status == 429:
        assert caught.value.response.headers["retry-after"] == "5"
        assert caught.value.response.json()["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    "scripted", [fault.timeout(), fault.disconnect()], ids=["timeout", "disconnect"]
)
async def test_chat_transport_errors(mode, call, sdk_error, scripted):
    # the emulator answers nothing (a read timeout, a dropped connection); how the SDK
    # reports that is its own choice
    with emulate("openai", [scripted]) as server:
        with sdk_error():
            await call(
                client_for(mode).chat.completions.create(model="gpt-4.1-mini", messages=user("Hi"))
            )

    # max_retries=0: the one request reached the emulator, which sent no reply to it
    (request,) = server.requests
    assert request.reply is None


async def test_chat_a_request_the_api_rejects(mode, call):
    with emulate("openai", []):
        with pytest.raises(openai.APIStatusError) as caught:
            await call(client_for(mode).chat.completions.create(model="gpt-4.1-mini", messages=[]))
    assert caught.value.status_code == 400
    error = caught.value.response.json()["error"]
    assert error["message"].startswith("Invalid 'messages': empty array.")
    assert error["type"] == "invalid_request_error"


async def test_chat_stream_cut_mid_way(mode, drain, sdk_error):
    # the emulator sends two chunks, then drops the connection; the SDK reports that with an
    # exception of its choice
    chunks: list = []
    with emulate("openai", [fault.disconnect(after_chunks=2), "one two three four"]) as server:
        with sdk_error():
            await drain(
                client_for(mode).chat.completions.create(
                    model="gpt-4.1-mini", messages=user("Count"), stream=True
                ),
                chunks,
            )

    deltas = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert deltas == ["one ", "two "]
    (request,) = server.requests
    assert request.stream is True and request.reply.text == "one two three four"


async def test_sdk_retries_are_answered_by_the_next_reply(mode, call):
    # the SDK retries a 500 after its own short backoff; the emulator answers the retry with
    # the next scripted reply
    with emulate("openai", [fault.server_error(), "second time lucky"]) as server:
        cls = openai.OpenAI if mode == "sync" else openai.AsyncOpenAI
        client = cls(api_key="k", max_retries=1)
        completion = await call(
            client.chat.completions.create(model="gpt-4.1-mini", messages=user("Hi"))
        )
    assert completion.choices[0].message.content == "second time lucky"
    assert [r.status for r in server.requests] == [500, 200]


# -- Responses --------------------------------------------------------------------------------------


async def test_responses_plain(mode, call):
    with emulate("openai", ["Hello from Responses."]) as server:
        response = await call(client_for(mode).responses.create(model="gpt-4.1-mini", input="Hi"))

    assert response.output_text == "Hello from Responses."
    assert response.status == "completed"
    assert response.usage.total_tokens > 0
    assert server.requests[0].protocol == "openai-responses"
    assert server.requests[0].last_message.text == "Hi"


async def test_responses_streaming(mode, collect):
    with emulate("openai", ["one two three"]):
        events = await collect(
            client_for(mode).responses.create(model="gpt-4.1-mini", input="Count", stream=True)
        )

    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert [e.delta for e in events if e.type == "response.output_text.delta"] == [
        "one ",
        "two ",
        "three",
    ]


async def test_responses_stream_helper(mode):
    with emulate("openai", ["a b"]):
        client = client_for(mode)
        if mode == "sync":
            with client.responses.stream(model="gpt-4.1-mini", input="Hi") as stream:
                deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
                final = stream.get_final_response()
        else:
            async with client.responses.stream(model="gpt-4.1-mini", input="Hi") as stream:
                deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
                final = await stream.get_final_response()
    assert deltas == ["a ", "b"]
    assert final.output_text == "a b"


async def test_responses_tool_calls_round_trip(mode, call):
    with emulate("openai", [tool_call("get_weather", city="Paris"), "Sunny."]) as server:
        client = client_for(mode)
        first = await call(
            client.responses.create(model="gpt-4.1-mini", input="Weather?", tools=[RESPONSES_TOOL])
        )
        (fc,) = first.output
        assert fc.type == "function_call" and fc.name == "get_weather"
        assert json.loads(fc.arguments) == {"city": "Paris"}
        final = await call(
            client.responses.create(
                model="gpt-4.1-mini",
                input=[
                    {"role": "user", "content": "Weather?"},
                    fc.model_dump(exclude_none=True),
                    {"type": "function_call_output", "call_id": fc.call_id, "output": "sunny"},
                ],
                tools=[RESPONSES_TOOL],
            )
        )

    assert final.output_text == "Sunny."
    echoed = server.requests[1].messages
    assert echoed[1].tool_calls[0]["args"] == {"city": "Paris"}
    assert (echoed[2].type, echoed[2].tool_call_id) == ("tool", fc.call_id)


async def test_responses_errors(mode, call):
    with emulate("openai", [fault.rate_limit(retry_after=2)]) as server:
        with pytest.raises(openai.APIStatusError) as caught:
            await call(client_for(mode).responses.create(model="gpt-4.1-mini", input="Hi"))
    assert [r.status for r in server.requests] == [429]
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "2"
