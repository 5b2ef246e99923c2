"""The official `ollama` client (on httpx) against the Ollama emulator, in-process through
`emulate("ollama")` and over real sockets through the loopback server: chat, streaming,
tools and errors, sync (``ollama.Client``) and async (``ollama.AsyncClient``)."""

from __future__ import annotations

from typing import Any

import ollama
import pytest

from myna.emulators import emulate, serve
from myna.fakes import fault, tool_call

MODEL = "llama3.1:8b"


def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: the city's name
    """
    return "sunny"


def client_for(
    mode: str, host: str = "http://localhost:11434"
) -> ollama.Client | ollama.AsyncClient:
    return ollama.Client(host=host) if mode == "sync" else ollama.AsyncClient(host=host)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def test_chat(mode, call):
    with emulate("ollama", ["Hello from the emulator."]) as server:
        response = await call(client_for(mode).chat(model=MODEL, messages=user("Hi")))

    assert response.message.content == "Hello from the emulator."
    assert response.done and response.done_reason == "stop"
    assert response.prompt_eval_count > 0 and response.eval_count > 0
    (request,) = server.requests
    assert request.url == "http://localhost:11434/api/chat"
    assert request.params["model"] == MODEL
    assert request.stream is False


async def test_chat_streaming(mode, collect):
    with emulate("ollama", ["one two three"]) as server:
        parts = await collect(
            client_for(mode).chat(model=MODEL, messages=user("Count"), stream=True)
        )

    assert "".join(p.message.content for p in parts) == "one two three"
    assert [p.message.content for p in parts if p.message.content] == ["one ", "two ", "three"]
    assert parts[-1].done is True and not any(p.done for p in parts[:-1])
    assert server.requests[0].stream is True


async def test_tool_calls_round_trip(mode, call):
    with emulate("ollama", [tool_call("get_weather", city="Paris"), "Sunny."]) as server:
        client = client_for(mode)
        first = await call(client.chat(model=MODEL, messages=user("Weather?"), tools=[get_weather]))
        (tc,) = first.message.tool_calls
        assert (tc.function.name, dict(tc.function.arguments)) == ("get_weather", {"city": "Paris"})
        history: list[Any] = [
            *user("Weather?"),
            first.message,
            {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
        ]
        final = await call(client.chat(model=MODEL, messages=history, tools=[get_weather]))

    assert final.message.content == "Sunny."
    offered = server.requests[0].params["tools"][0]
    assert offered["name"] == "get_weather"
    assert offered["parameters"]["properties"]["city"]["type"] == "string"
    echoed = server.requests[1].messages
    assert echoed[1].tool_calls[0]["args"] == {"city": "Paris"}
    assert (echoed[2].type, echoed[2].text) == ("tool", "sunny")


async def test_structured_output_format(mode, call):
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    with emulate("ollama", [{"name": "Paris"}]) as server:
        response = await call(
            client_for(mode).chat(model=MODEL, messages=user("Capital?"), format=schema)
        )
    assert response.message.content == '{"name": "Paris"}'
    assert server.requests[0].body["format"] == schema


@pytest.mark.parametrize(
    ("scripted", "status"),
    [(fault.server_error(), 500), (fault.rate_limit(retry_after=3), 429)],
    ids=["server_error", "rate_limit"],
)
async def test_status_errors(mode, call, scripted, status):
    with emulate("ollama", [scripted]):
        with pytest.raises(ollama.ResponseError) as caught:
            await call(client_for(mode).chat(model=MODEL, messages=user("Hi")))
    assert caught.value.status_code == status


async def test_endpoints_the_emulator_lacks_are_404s(mode, call):
    with emulate("ollama", []):
        with pytest.raises(ollama.ResponseError) as caught:
            await call(client_for(mode).generate(model=MODEL, prompt="Hi"))
    assert caught.value.status_code == 404
    assert caught.value.error == "myna emulator: no API at /api/generate"


@pytest.mark.parametrize(
    "scripted", [fault.timeout(), fault.disconnect()], ids=["timeout", "disconnect"]
)
async def test_transport_errors(mode, call, sdk_error, scripted):
    # the emulator answers nothing (a read timeout, a dropped connection); this client passes
    # httpx's error through today, but how it reports that is its own choice
    with emulate("ollama", [scripted]) as server:
        with sdk_error():
            await call(client_for(mode).chat(model=MODEL, messages=user("Hi")))

    (request,) = server.requests
    assert request.reply is None


async def test_over_real_sockets(mode, call, collect, drain, sdk_error):
    with serve("ollama", ["plain", "a b", fault.disconnect(after_chunks=1), "x y z"]) as server:
        client = client_for(mode, host=server.base_url)
        plain = await call(client.chat(model=MODEL, messages=user("Hi")))
        parts = await collect(client.chat(model=MODEL, messages=user("Hi"), stream=True))
        received: list = []
        # the server closes the socket after one chunk; the client's error for the short
        # body (httpx's RemoteProtocolError today) is the client's choice
        with sdk_error():
            await drain(client.chat(model=MODEL, messages=user("Hi"), stream=True), received)

    assert plain.message.content == "plain"
    assert "".join(p.message.content for p in parts) == "a b"
    assert [p.message.content for p in received] == ["x "]
    assert len(server.requests) == 3
    assert server.requests[2].stream is True and server.requests[2].reply.text == "x y z"
