"""Ollama's native /api/chat: NDJSON streams, no key locally, OLLAMA_HOST."""

from __future__ import annotations

import httpx
from pydantic import BaseModel

from myna import init_chat_model
from myna.emulators import emulate
from myna.fakes import tool_call
from myna.providers import OllamaChatModel


class City(BaseModel):
    name: str


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return "sunny"


async def test_request_on_the_wire(drive):
    with emulate("ollama", ["Hi!", "H i"]) as server:
        model = OllamaChatModel(model="llama3.1:8b")
        reply = await drive.invoke(model, "Hello")
        chunks = await drive.stream(model, "Hello")

    assert reply.text == "Hi!"
    assert [c.text for c in chunks if c.text] == ["H ", "i"]
    plain, streamed = server.requests
    for request in server.requests:
        assert request.url == "http://localhost:11434/api/chat"
        assert "authorization" not in request.headers
    assert plain.body == {
        "model": "llama3.1:8b",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": False,
    }
    assert streamed.body["stream"] is True


async def test_streams_are_ndjson(drive):
    body = {"model": "llama3.1", "messages": [{"role": "user", "content": "Hi"}]}
    with emulate("ollama", ["one two"]):
        if drive.mode == "sync":
            with httpx.Client() as client:
                with client.stream("POST", "http://localhost:11434/api/chat", json=body) as resp:
                    kind = resp.headers["content-type"]
                    lines = [line for line in resp.iter_lines() if line]
        else:
            async with httpx.AsyncClient() as client:
                async with client.stream(
                    "POST", "http://localhost:11434/api/chat", json=body
                ) as resp:
                    kind = resp.headers["content-type"]
                    lines = [line async for line in resp.aiter_lines() if line]

    assert kind == "application/x-ndjson"
    assert all(line.startswith("{") and not line.startswith("data:") for line in lines)
    assert '"done": true' in lines[-1]


async def test_ollama_host_without_scheme(drive, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:11434")
    with emulate("ollama", ["ok"]) as server:
        model = init_chat_model("ollama:llama3.1")
        await drive.invoke(model, "Hi")

    assert model.base_url == "http://127.0.0.1:11434"
    assert server.requests[0].url == "http://127.0.0.1:11434/api/chat"


async def test_ollama_cloud_key_is_a_bearer_token(drive, monkeypatch):
    monkeypatch.setenv("OLLAMA_API_KEY", "cloud-key")
    with emulate("ollama", ["ok"]) as server:
        model = OllamaChatModel(model="gpt-oss:120b", base_url="https://ollama.com")
        await drive.invoke(model, "Hi")

    assert server.requests[0].url == "https://ollama.com/api/chat"
    assert server.requests[0].headers["authorization"] == "Bearer cloud-key"


async def test_structured_output_and_thinking_parameters(drive):
    with emulate("ollama", [{"name": "Paris"}, "ok", "ok"]) as server:
        model = OllamaChatModel(model="qwen3")
        city = await drive.invoke(model.with_structured_output(City), "Capital of France?")
        await drive.invoke(model, "Hi", include_reasoning=True)
        await drive.invoke(model, "Hi", reasoning_effort="high")

    assert city == City(name="Paris")
    assert server.requests[0].body["format"]["properties"] == {"name": {"type": "string"}}
    assert server.requests[1].body["think"] is True
    assert server.requests[2].body["think"] == "high"


async def test_function_calling_structured_output_without_tool_choice(drive):
    # /api/chat cannot force a tool; the emulator answers a lone offered tool with its call
    with emulate("ollama", [{"name": "Paris"}]) as server:
        structured = OllamaChatModel(model="qwen3").with_structured_output(
            City, method="function_calling"
        )
        city = await drive.invoke(structured, "Capital of France?")

    assert city == City(name="Paris")
    assert [t["function"]["name"] for t in server.requests[0].body["tools"]] == ["City"]
    assert "tool_choice" not in server.requests[0].params


async def test_a_json_reply_with_one_tool_bound_is_text_without_structured_output(drive):
    # the Ollama heuristic only applies to scripted objects; a string stays a string
    with emulate("ollama", ['{"city": "Paris"}', tool_call("get_weather", city="Paris")]):
        model = OllamaChatModel(model="qwen3").bind_tools([get_weather])
        text = await drive.invoke(model, "Weather?")
        called = await drive.invoke(model, "Weather?")

    assert text.text == '{"city": "Paris"}' and text.tool_calls == []
    assert called.tool_calls[0]["args"] == {"city": "Paris"}
