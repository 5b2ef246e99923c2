"""Every provider against its emulator: the `HTTPChatModel` path end to end, sync and async.

Each test runs once per provider row of `conftest.CASES` and once per API (sync / async).
"""

from __future__ import annotations

import builtins
import time
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from myna.exceptions import (
    ConnectionError,
    DecodeError,
    MissingAPIKeyError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    TimeoutError,
)
from myna.fakes import fault, tool_call
from myna.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage, merge_chunks

TLS = httpx.create_ssl_context()
"""One SSL context for the clients tests build themselves (each would build its own)."""


def get_weather(city: str, unit: str = "celsius") -> str:
    """Current weather in a city."""
    return "sunny"


def get_time(zone: str) -> str:
    """Current time in a time zone."""
    return "12:00"


class City(BaseModel):
    name: str
    population: int


def stable(message: AIMessage) -> dict[str, Any]:
    """The parts of a reply that must not depend on how it was fetched (ids and timestamps
    are generated per response by the emulator, as by the real APIs)."""
    content = message.content
    if isinstance(content, list):
        content = [
            {k: v for k, v in block.items() if k not in ("id", "index")}
            if isinstance(block, dict)
            else block
            for block in content
        ]
    return {
        "text": message.text,
        "content": content,
        "tool_calls": message.tool_calls,
        "usage": message.usage_metadata,
        "finish_reason": message.response_metadata.get("finish_reason"),
    }


# -- plain calls --------------------------------------------------------------------------------


async def test_invoke_returns_the_scripted_reply(case, drive):
    with case.emulate(["Hello from the emulator."]) as server:
        model = case.build()
        reply = await drive.invoke(model, "Hi there")

    assert isinstance(reply, AIMessage)
    assert reply.text == "Hello from the emulator."
    assert reply.response_metadata["model_provider"] == model.provider
    assert reply.response_metadata["finish_reason"] == "stop"
    (request,) = server.requests
    assert request.status == 200
    assert request.stream is False
    assert request.last_message.text == "Hi there"
    assert request.params["model"] == model.model


async def test_invoke_sends_the_whole_conversation(case, drive):
    from myna.messages import SystemMessage

    conversation = [
        SystemMessage("Answer in one word."),
        HumanMessage("Capital of France?"),
        AIMessage("Paris."),
        HumanMessage("And of Italy?"),
    ]
    with case.emulate(["Rome."]) as server:
        reply = await drive.invoke(case.build(), conversation)

    assert reply.text == "Rome."
    received = server.requests[0].messages
    assert [(m.type, m.text) for m in received] == [
        ("system", "Answer in one word."),
        ("human", "Capital of France?"),
        ("ai", "Paris."),
        ("human", "And of Italy?"),
    ]


async def test_call_parameters_travel_to_the_server(case, drive):
    # the Responses API has no stop sequences (test_openai.py checks the error)
    stop = {} if case.id == "openai-responses" else {"stop": ["END"]}
    with case.emulate(["ok"]) as server:
        await drive.invoke(case.build(temperature=0.25), "Hi", max_tokens=77, **stop)

    params = server.requests[0].params
    assert params["temperature"] == 0.25
    assert params["max_tokens"] == 77
    assert params.get("stop") == stop.get("stop")


# -- streaming ----------------------------------------------------------------------------------


async def test_stream_yields_pieces_that_merge_to_the_invoke_reply(case, drive):
    text = "one two three four"
    with case.emulate([text]):
        invoked = await drive.invoke(case.build(), "Count")
    with case.emulate([text]) as server:
        chunks = await drive.stream(case.build(), "Count")

    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert [c.text for c in chunks if c.text] == ["one ", "two ", "three ", "four"]
    assert chunks[-1].chunk_position == "last"
    assert server.requests[0].stream is True
    assert stable(merge_chunks(chunks).to_message()) == stable(invoked)


async def test_stream_chunks_arrive_as_their_events_do(case, drive):
    delay = 0.03
    arrivals: list[float] = []
    with case.emulate(["a b c"], event_delay=delay):
        model = case.build()
        if drive.mode == "sync":
            for chunk in model.stream("Hi"):
                if chunk.text:
                    arrivals.append(time.perf_counter())
        else:
            async for chunk in model.astream("Hi"):
                if chunk.text:
                    arrivals.append(time.perf_counter())

    assert len(arrivals) == 3
    # a buffered stream hands all three over at once; streamed ones come >= 2 delays apart
    # (the bound leaves one delay of slack for a busy machine's thread scheduling)
    assert arrivals[-1] - arrivals[0] >= delay


async def test_stream_can_stop_early(case, drive):
    with case.emulate(["one two three four five"]) as server:
        model = case.build()
        if drive.mode == "sync":
            stream = model.stream("Hi")
            first = next(c for c in stream if c.text)
            stream.close()
        else:
            stream = model.astream("Hi")
            async for first in stream:
                if first.text:
                    break
            await stream.aclose()

    assert first.text == "one "
    assert len(server.requests) == 1


# -- tools --------------------------------------------------------------------------------------


async def test_tool_calls_round_trip(case, drive):
    script = [
        [tool_call("get_weather", city="Paris", unit="celsius"), tool_call("get_time", zone="CET")],
        "Sunny and noon in Paris.",
    ]
    with case.emulate(script) as server:
        model = case.build().bind_tools([get_weather, get_time])
        first = await drive.invoke(model, "Weather and time in Paris?")
        assert [(c["name"], c["args"]) for c in first.tool_calls] == [
            ("get_weather", {"city": "Paris", "unit": "celsius"}),
            ("get_time", {"zone": "CET"}),
        ]
        assert first.response_metadata["finish_reason"] == "tool_calls"
        ids = [c["id"] for c in first.tool_calls]
        assert all(ids) and len(set(ids)) == 2
        history = [
            HumanMessage("Weather and time in Paris?"),
            first,
            ToolMessage("sunny, 22 C", tool_call_id=ids[0]),
            ToolMessage("12:00", tool_call_id=ids[1]),
        ]
        final = await drive.invoke(model, history)

    assert final.text == "Sunny and noon in Paris."
    offered = server.requests[0].params["tools"]
    assert [t["name"] for t in offered] == ["get_weather", "get_time"]
    assert offered[0]["parameters"]["properties"]["city"] == {"type": "string"}
    # the second request carries the calls and their results back, as the server decodes them
    echoed = server.requests[1].messages
    assert [(c["name"], c["args"]) for c in echoed[1].tool_calls] == [
        ("get_weather", {"city": "Paris", "unit": "celsius"}),
        ("get_time", {"zone": "CET"}),
    ]
    results = [m for m in echoed if m.type == "tool"]
    assert [m.text for m in results] == ["sunny, 22 C", "12:00"]
    assert [m.tool_call_id for m in results] == [c["id"] for c in echoed[1].tool_calls]


async def test_streamed_tool_calls_merge_to_the_invoked_calls(case, drive):
    script = [["Let me check.", tool_call("get_weather", city="Paris")]]
    with case.emulate(script):
        invoked = await drive.invoke(case.build().bind_tools([get_weather]), "Weather?")
    with case.emulate(script):
        merged = await drive.merged(case.build().bind_tools([get_weather]), "Weather?")

    assert merged.tool_calls[0]["args"] == {"city": "Paris"}
    assert stable(merged) == stable(invoked)


async def test_tool_choice_reaches_the_server(case, drive):
    with case.emulate([tool_call("get_time", zone="UTC")]) as server:
        model = case.build().bind_tools([get_weather, get_time], tool_choice="get_time")
        reply = await drive.invoke(model, "Time?")

    assert reply.tool_calls[0]["name"] == "get_time"
    params = server.requests[0].params
    if case.emulated == "ollama":
        assert "tool_choice" not in params  # /api/chat cannot force a tool
    else:
        assert params["tool_choice"] == "get_time"


# -- structured output --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
async def test_structured_output(case, drive, method):
    with case.emulate([{"name": "Paris", "population": 2_100_000}]) as server:
        structured = case.build().with_structured_output(City, method=method)
        city = await drive.invoke(structured, "Biggest city in France?")

    assert city == City(name="Paris", population=2_100_000)
    params = server.requests[0].params
    if method == "json_schema":
        assert params["response_format"]["type"] == "json_schema"
        assert set(params["response_format"]["schema"]["properties"]) == {"name", "population"}
    else:
        assert [t["name"] for t in params["tools"]] == ["City"]


# -- reasoning and usage ------------------------------------------------------------------------


async def test_reasoning_comes_back_as_a_reasoning_block(case, drive):
    reply = AIMessage(
        [
            {"type": "reasoning", "reasoning": "The user greets me; greet back."},
            {"type": "text", "text": "Hello!"},
        ]
    )
    with case.emulate([reply, reply]):
        model = case.build()
        invoked = await drive.invoke(model, "Hi")
        streamed = await drive.merged(model, "Hi")

    for message in (invoked, streamed):
        reasoning = [b for b in message.content if b["type"] == "reasoning"]
        assert "".join(b["reasoning"] for b in reasoning) == "The user greets me; greet back."
        assert message.text == "Hello!"


async def test_usage_reaches_the_message(case, drive):
    usage = {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17}
    reply = AIMessage("Fine.", usage_metadata=usage)
    with case.emulate([reply, reply]):
        model = case.build()
        invoked = await drive.invoke(model, "How are you?")
        streamed = await drive.merged(model, "How are you?")

    for message in (invoked, streamed):
        got = message.usage_metadata
        assert {k: got[k] for k in usage} == usage


# -- errors -------------------------------------------------------------------------------------


async def test_rate_limit_is_retried_after_the_servers_delay(case, drive, waits):
    with case.emulate(
        [fault.rate_limit(retry_after=3), "ok", fault.rate_limit(retry_after=2), "a b"]
    ) as server:
        model = case.build(max_retries=2)
        reply = await drive.invoke(model, "Hi")
        streamed = await drive.merged(model, "Hi")

    assert reply.text == "ok"
    assert streamed.text == "a b"
    assert waits == [3.0, 2.0]
    assert [r.status for r in server.requests] == [429, 200, 429, 200]


async def test_rate_limit_without_retries_carries_retry_after(case, drive):
    with case.emulate([fault.rate_limit(retry_after=7), fault.rate_limit(retry_after=7)]):
        model = case.build(max_retries=0)
        with pytest.raises(RateLimitError) as invoked:
            await drive.invoke(model, "Hi")
        with pytest.raises(RateLimitError) as streamed:
            await drive.stream(model, "Hi")

    for error in (invoked.value, streamed.value):
        assert error.status_code == 429
        assert error.retry_after == 7.0
        assert error.provider == model.provider
        assert error.model == model.model
        assert "rate limit" in str(error)


@pytest.mark.parametrize(
    ("scripted", "error_type", "status"),
    [
        (fault.server_error(), ServerError, 500),
        (fault.server_error(status=502), ServerError, 502),
        (fault.overloaded(), OverloadedError, None),
    ],
    ids=["500", "502", "overloaded"],
)
async def test_server_errors(case, drive, waits, scripted, error_type, status):
    with case.emulate([scripted, scripted, "recovered"]) as server:
        with pytest.raises(error_type) as caught:
            await drive.invoke(case.build(max_retries=0), "Hi")
        reply = await drive.invoke(case.build(max_retries=1), "Hi")

    assert caught.value.retryable
    if status is not None:
        assert caught.value.status_code == status
    assert reply.text == "recovered"
    assert len(waits) == 1
    assert len(server.requests) == 3


async def test_timeout_becomes_myna_timeout_error(case, drive, waits):
    with case.emulate(
        [fault.timeout(), fault.timeout(), fault.timeout(), "late but fine"]
    ) as server:
        model = case.build(max_retries=0)
        with pytest.raises(TimeoutError) as invoked:
            await drive.invoke(model, "Hi")
        with pytest.raises(TimeoutError):
            await drive.stream(model, "Hi")
        reply = await drive.invoke(case.build(max_retries=1), "Hi")

    assert isinstance(invoked.value, builtins.TimeoutError)
    assert "timed out" in str(invoked.value)
    assert isinstance(invoked.value.__cause__, httpx.TimeoutException)
    assert reply.text == "late but fine"
    assert len(server.requests) == 4


async def test_disconnect_mid_stream_raises_with_the_partial_message(case, drive):
    with case.emulate([fault.disconnect(after_chunks=2), "one two three four"]) as server:
        with pytest.raises(StreamInterruptedError) as caught:
            await drive.stream(case.build(), "Count")

    assert "cut off" in str(caught.value)
    assert caught.value.partial is not None
    assert caught.value.partial.text == "one two "
    assert len(server.requests) == 1  # a stream that already yielded is not retried


async def test_disconnect_mid_stream_keeps_partial_tool_calls(case, drive):
    script = [
        fault.disconnect(after_chunks=1),
        ["Checking.", tool_call("get_weather", city="Paris")],
    ]
    with case.emulate(script):
        with pytest.raises(StreamInterruptedError) as caught:
            await drive.stream(case.build().bind_tools([get_weather]), "Weather?")

    assert caught.value.partial.text == "Checking."
    assert caught.value.partial.tool_calls == []


async def test_disconnect_before_the_reply_is_a_retried_connection_error(case, drive, waits):
    with case.emulate([fault.disconnect(), fault.disconnect(), "second try"]) as server:
        with pytest.raises(ConnectionError) as caught:
            await drive.invoke(case.build(max_retries=0), "Hi")
        reply = await drive.invoke(case.build(max_retries=1), "Hi")

    assert "connection" in str(caught.value)
    assert reply.text == "second try"
    assert len(server.requests) == 3


async def test_malformed_body_is_a_decode_error(case, drive):
    with case.emulate([fault.malformed(), fault.malformed()]):
        model = case.build(max_retries=0)
        with pytest.raises(DecodeError) as invoked:
            await drive.invoke(model, "Hi")
        with pytest.raises(DecodeError) as streamed:
            await drive.stream(model, "Hi")

    assert "not JSON" in str(invoked.value)
    assert "broken" in str(streamed.value)


async def test_provider_error_body_is_kept(case, drive):
    with case.emulate([fault.server_error(message="the GPU caught fire")]):
        with pytest.raises(ProviderError) as caught:
            await drive.invoke(case.build(max_retries=0), "Hi")

    assert "the GPU caught fire" in str(caught.value)
    assert caught.value.body  # the provider's JSON error body, decoded


# -- credentials and configuration --------------------------------------------------------------


async def test_missing_api_key_names_the_env_var(case, drive, monkeypatch):
    if case.key_env is None:  # a local Ollama needs no key
        with case.emulate(["keyless"]) as server:
            reply = await drive.invoke(case.build(api_key=None), "Hi")
        assert reply.text == "keyless"
        assert "authorization" not in server.requests[0].headers
        return
    with case.emulate([], assert_all_replies_used=False) as server:
        model = case.build(api_key=None)
        with pytest.raises(MissingAPIKeyError) as caught:
            await drive.invoke(model, "Hi")
        monkeypatch.setenv(case.key_env, "from-the-env")
        server.add("keyed")
        reply = await drive.invoke(model, "Hi")

    assert f"Set {case.key_env}" in str(caught.value)
    assert f"No API key for {model.provider!r}" in str(caught.value)
    assert reply.text == "keyed"
    assert len(server.requests) == 1
    assert "from-the-env" in " ".join(server.requests[0].headers.values())


async def test_base_url_is_honoured(case, drive):
    gateway = "https://gateway.example.test/llm"
    with case.emulate(["via the gateway"], base_url=gateway) as server:
        reply = await drive.invoke(case.build(base_url=gateway + "/"), "Hi")

    assert reply.text == "via the gateway"
    assert server.requests[0].url.startswith(gateway + "/")


async def test_default_headers_are_sent(case, drive):
    with case.emulate(["ok", "o k"]) as server:
        model = case.build(default_headers={"x-trace-id": "trace-123"})
        await drive.invoke(model, "Hi")
        await drive.stream(model, "Hi")

    assert [r.headers["x-trace-id"] for r in server.requests] == ["trace-123", "trace-123"]
    assert all(r.headers["user-agent"] == "myna" for r in server.requests)


async def test_own_http_client_and_timeout_are_used(case, drive, monkeypatch):
    seen: list[httpx.Request] = []

    async def arecord(request: httpx.Request) -> None:
        seen.append(request)

    def shared(**kwargs: Any) -> Any:
        raise AssertionError("the shared client was used despite http_client=")

    monkeypatch.setattr("myna.providers._http.sync_client", shared)
    monkeypatch.setattr("myna.providers._http.async_client", shared)
    with case.emulate(["ok", "o k"]):
        client = httpx.Client(verify=TLS, event_hooks={"request": [seen.append]})
        aclient = httpx.AsyncClient(verify=TLS, event_hooks={"request": [arecord]})
        model = case.build(http_client=client, http_async_client=aclient, timeout=7.5)
        assert (await drive.invoke(model, "Hi")).text == "ok"
        assert merge_chunks(await drive.stream(model, "Hi")).text == "o k"
        client.close()
        await aclient.aclose()

    assert len(seen) == 2
    assert all(r.extensions["timeout"]["read"] == 7.5 for r in seen)
